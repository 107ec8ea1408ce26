/**
 * Several terminals at once, as a web IDE has them: a tab strip over one pane per terminal. Each
 * is its own session and stream client (terminal.ts): a run -it attachment, an attach to a
 * container's main process, or an exec shell, in any container. Hidden terminals keep reading
 * their output (nothing stalls) and fit the window again when shown; closing one detaches it
 * (the process keeps running, as Ctrl-P Ctrl-Q in `sbx attach`).
 *
 * Keys: the strip is one tab stop (←/→, Home/End pick a terminal, Delete closes it, Tab enters it);
 * in a terminal, F6 / Shift+F6 leave it (Shift+F6 lands on its tab) and Alt+PageUp / Alt+PageDown
 * switch to the previous / next terminal.
 */
import type { StreamResult } from '../protocol/index.js';
import { el } from './dom.js';
import { openTerminal, type TerminalView } from './terminal.js';

export interface ContainerRef { id: string; name: string }

export interface TerminalSpec {
  /** The session to attach to: a container's id (its main process) or an exec's session id. */
  session: string;
  container: ContainerRef;
  /** What it runs, shown after the container's name: 'run sh', 'attach', 'exec sh'. */
  what: string;
  /** Called once it is attached (run: start the container then). */
  start?: () => Promise<void>;
}

export interface TerminalTabs {
  open(spec: TerminalSpec): void;
  /** Make the live terminal attached to `session` current and focus it; false if there is none. */
  show(session: string): boolean;
}

export interface TabsOptions {
  strip: HTMLElement;
  panes: HTMLElement;
  /** Where the current terminal's status goes. */
  status: HTMLElement;
  /** The current terminal changed to one into `c` (the change list and commit follow it). */
  selected(c: ContainerRef): void;
  ended(r: StreamResult): void;
}

interface Entry {
  id: string;
  spec: TerminalSpec;
  tab: HTMLButtonElement;
  box: HTMLElement;
  pane: HTMLElement;
  view: TerminalView;
  status: string;
  ended: boolean;
}

/** For tests: the current terminal (sbxTerm) and every open one by its pane's id (sbxTerms). */
const hooks = globalThis as { sbxTerm?: unknown; sbxTerms?: Record<string, TerminalView & { session: string; label: string }> };
hooks.sbxTerms = {};

export function terminalTabs(o: TabsOptions): TerminalTabs {
  const entries: Entry[] = [];
  let current: Entry | undefined;
  let serial = 0;
  const empty = el('p', { class: 'term-empty' }, 'No terminal yet: run a container, or open a shell or attach from the list.');
  o.panes.append(empty);

  const say = (): void => {
    o.status.textContent = current?.status ?? '';
    o.status.hidden = !current?.status;
  };

  const activate = (e: Entry, focus?: 'tab' | 'terminal'): void => {
    current = e;
    for (const x of entries) {
      const on = x === e;
      x.tab.setAttribute('aria-selected', String(on));
      x.tab.tabIndex = on ? 0 : -1;
      x.box.classList.toggle('current', on);
      x.pane.hidden = !on;
    }
    e.view.fit();
    hooks.sbxTerm = e.view.term;
    say();
    o.selected(e.spec.container);
    if (focus === 'tab') e.tab.focus();
    else if (focus === 'terminal') e.view.focus();
  };

  const close = (e: Entry): void => {
    const i = entries.indexOf(e);
    if (i < 0) return;
    const fromStrip = o.strip.contains(document.activeElement);
    entries.splice(i, 1);
    delete hooks.sbxTerms![e.id];
    e.view.dispose();
    e.box.remove();
    e.pane.remove();
    empty.hidden = entries.length > 0;
    if (current !== e) return;
    current = undefined;
    const next = entries[Math.min(i, entries.length - 1)];
    if (next) activate(next, fromStrip ? 'tab' : 'terminal');
    else { hooks.sbxTerm = undefined; say(); }
  };

  /** The terminal `step` places after (before) `from` in the strip, wrapping around. */
  const beside = (from: Entry, step: number): Entry => entries[(entries.indexOf(from) + step + entries.length) % entries.length]!;

  const keyInTerminal = (e: Entry, k: KeyboardEvent): boolean => {
    if (k.ctrlKey || k.metaKey) return false;
    if (k.key === 'F6' && !k.altKey) {
      if (k.type === 'keydown') focusBeside(e.pane, k.shiftKey ? -1 : 1);
      return true;
    }
    if (k.altKey && !k.shiftKey && (k.key === 'PageUp' || k.key === 'PageDown')) {
      if (k.type === 'keydown') activate(beside(e, k.key === 'PageUp' ? -1 : 1), 'terminal');
      return true;
    }
    return false;
  };

  const keyOnTab = (e: Entry, k: KeyboardEvent): void => {
    const to = k.key === 'ArrowRight' ? beside(e, 1) : k.key === 'ArrowLeft' ? beside(e, -1)
      : k.key === 'Home' ? entries[0] : k.key === 'End' ? entries.at(-1) : undefined;
    if (to) { k.preventDefault(); activate(to, 'tab'); return; }
    if (k.key === 'Delete') { k.preventDefault(); close(e); }
  };

  return {
    open(spec) {
      const id = `term-${++serial}`;
      const n = entries.filter((x) => x.spec.container.id === spec.container.id && x.spec.what === spec.what).length;
      const label = `${spec.container.name}: ${spec.what}${n ? ` (${n + 1})` : ''}`;
      const state = el('span', { class: 'tab-status' });
      const tab = el('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': id, 'aria-selected': 'false', title: `${label} — Delete closes it (the session keeps running)` }, label, state);
      const x = el('button', { type: 'button', class: 'tab-close', tabindex: '-1', 'aria-label': `Close ${label}`, title: 'Close (detach: the process keeps running)' }, '×');
      const box = el('span', { class: 'term-tab', role: 'presentation' }, tab, x);
      const pane = el('div', { class: 'term-pane', role: 'tabpanel', id, 'aria-labelledby': tab.id });
      o.strip.append(box);
      o.panes.append(pane);
      empty.hidden = true;
      // shown before xterm opens in it, so that it measures the pane it will fill
      for (const e of entries) e.pane.hidden = true;
      let entry: Entry; // the callbacks below run later, once it is set
      const view = openTerminal(pane, spec.session, {
        status: (t) => {
          entry.status = t;
          state.textContent = t ? ` ${t}` : '';
          box.classList.toggle('troubled', /^(reconnecting|lost)/.test(t));
          if (entry === current) say();
        },
        end: (r) => { entry.ended = true; o.ended(r); },
        key: (k) => keyInTerminal(entry, k),
        ...(spec.start ? { start: spec.start } : {}),
      });
      entry = { id, spec, tab, box, pane, view, status: '', ended: false };
      entries.push(entry);
      hooks.sbxTerms![id] = Object.assign(entry.view, { session: spec.session, label });
      activate(entry, 'terminal');
      tab.addEventListener('click', () => activate(entry, 'terminal'));
      tab.addEventListener('keydown', (k) => keyOnTab(entry, k));
      x.addEventListener('click', () => close(entry));
    },
    show(session) {
      const e = entries.find((x) => x.spec.session === session && !x.ended);
      if (e) activate(e, 'terminal');
      return !!e;
    },
  };
}

/** Focus the first control after (dir 1) or before (dir -1) `box` in the page's tab order. */
function focusBeside(box: HTMLElement, dir: 1 | -1): void {
  const all = [...document.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]')]
    .filter((e) => !box.contains(e) && e.tabIndex >= 0 && e.offsetParent !== null);
  const after = (e: HTMLElement): boolean => (box.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  const next = dir === 1 ? all.find(after) ?? all[0] : [...all].reverse().find((e) => !after(e)) ?? all.at(-1);
  next?.focus();
}
