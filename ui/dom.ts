/** A small element builder: el('li', {class: 'x'}, 'text', child). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function $(sel: string): HTMLElement {
  const e = document.querySelector<HTMLElement>(sel);
  if (!e) throw new Error(`page: ${sel} is missing`);
  return e;
}

/** What identifies a focused control across a re-render: its row's first cell, its tag and its text. */
function focusKey(e: Element): string {
  const row = e.closest('tr, li');
  return `${row?.firstElementChild?.textContent ?? ''}|${e.tagName}|${e.textContent ?? ''}`;
}

/**
 * `parent.replaceChildren(...children)` for a list that re-renders while someone uses it by keyboard
 * (the 5 s refresh, the live change feed): the control that had the focus gets it back in the new
 * rows, instead of the focus falling to <body> and Tab starting over from the top.
 */
export function replaceKeepingFocus(parent: HTMLElement, ...children: Node[]): void {
  const active = document.activeElement;
  const key = active && active !== parent && parent.contains(active) ? focusKey(active) : undefined;
  parent.replaceChildren(...children);
  if (key === undefined) return;
  for (const c of parent.querySelectorAll<HTMLElement>('button, a, input, select, summary, [tabindex]')) {
    if (focusKey(c) === key) { c.focus(); return; }
  }
}
