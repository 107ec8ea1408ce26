/**
 * A container's change journal, live (sbx.changes.v1): one row per path with its latest A/C/D,
 * as `sbx events` prints them; a click shows the file's content diff (`sbx diff -p`). A cut feed
 * resumes after the last record it saw.
 */
import { CHANGE_LETTER, Changes, comparePaths, type ChangeFeedMessage, type ChangeRecord } from '../protocol/index.js';
import { call, openChannel } from './api.js';
import { el, replaceKeepingFocus } from './dom.js';

export interface ChangesView { dispose(): void }

export function watchChanges(list: HTMLElement, detail: HTMLElement, id: string): ChangesView {
  const rows = new Map<string, ChangeRecord>();
  let since = 0;
  let stopped = false;
  let ws: WebSocket | undefined;

  const render = (): void => {
    const items = [...rows.values()].sort((a, b) => comparePaths(a.path, b.path)).map((r) => {
      const b = el('button', { class: `change op-${r.op}`, title: `${r.op} ${r.path}` }, `${CHANGE_LETTER[r.op]} ${r.path}`);
      b.addEventListener('click', () => { showPatch(detail, id, r).catch((e: Error) => { detail.textContent = e.message; }); });
      return el('li', {}, b);
    });
    replaceKeepingFocus(list, ...items);
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const w = await openChannel(Changes.feed, { id, since });
    ws = w;
    w.onmessage = (e: MessageEvent) => {
      const m = JSON.parse(String(e.data)) as ChangeFeedMessage;
      if (m.type === 'record') {
        since = m.record.seq;
        rows.set(m.record.path, m.record);
        render();
      } else if (m.type === 'end') {
        stopped = true;
      }
    };
    w.onclose = (e: CloseEvent) => { if (!stopped && e.code !== 1000) setTimeout(() => { connect().catch(() => undefined); }, 1000); };
  };
  connect().catch(() => undefined);
  return { dispose() { stopped = true; ws?.close(1000); } };
}

async function showPatch(detail: HTMLElement, id: string, r: ChangeRecord): Promise<void> {
  if (r.kind !== 'file' || r.op === 'delete') { detail.textContent = `${CHANGE_LETTER[r.op]} ${r.path} (${r.kind})`; return; }
  const res = await call(Changes.diff, { from: id, patch: true });
  const p = res.patches?.find((x) => x.path === r.path);
  detail.textContent = p?.patch ?? (p?.binary ? `${r.path}: binary` : p?.tooLarge ? `${r.path}: too large to show` : `${r.path}: no content diff`);
}
