/**
 * Push from the page, as `sbx tag IMAGE TARGET && sbx push [--insecure] TARGET`: the daemon uses
 * the credentials `sbx login` stored for the target's registry. Progress shows as the CLI prints
 * it, one row per layer with its latest state (and bytes while it uploads), then docker's
 * "TAG: digest: … size: …" line.
 */
import { humanSize } from '../cli/output.js';
import { Images, Registry, parseReference, type ProgressEvent } from '../protocol/index.js';
import { call, progress } from './api.js';
import { $, el } from './dom.js';

export async function push(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  const f = ev.target as HTMLFormElement;
  const field = (n: string): HTMLInputElement => f.elements.namedItem(n) as HTMLInputElement;
  const image = field('image').value;
  const target = field('target').value.trim() || image;
  const button = $('#push-button') as HTMLButtonElement;
  const list = $('#push-progress');
  const result = $('#push-result');
  list.replaceChildren();
  result.textContent = `pushing ${target}…`;
  button.disabled = true;
  try {
    const ref = parseReference(target);
    if (target !== image) await call(Images.tag, { source: image, target });
    const r = await progress(Registry.push, { reference: target, ...(field('insecure').checked ? { insecure: true } : {}) }, layerRows(list));
    result.textContent = `${ref.tag ?? 'latest'}: digest: ${r.digest} size: ${r.size}`;
  } catch (e) {
    result.textContent = `push failed: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    button.disabled = false;
  }
}

/** One row per layer id, rewritten on each event (the CLI redraws a terminal line the same way). */
function layerRows(list: HTMLElement): (e: ProgressEvent) => void {
  const rows = new Map<string, HTMLElement>();
  return (e) => {
    if (e.type === 'build') return;
    if (e.type === 'log') { list.append(el('li', {}, e.message)); return; }
    let row = rows.get(e.id);
    if (!row) { row = el('li', { class: 'mono' }); rows.set(e.id, row); list.append(row); }
    row.textContent = `${e.id}: ${e.status}${e.total && e.status !== 'Pushed' ? ` ${humanSize(e.current ?? 0)}/${humanSize(e.total)}` : ''}`;
  };
}
