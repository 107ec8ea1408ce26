/**
 * Changes API: `sbx diff` (container vs its image, or any two containers/images), the journal
 * (`GET …/changes?since=`) and its live feed (`sbx.changes.v1`).
 */
import type { WebSocket } from 'ws';
import {
  Changes, SbxError, checkRequest, type ChangeFeedMessage, type ChangeRecord, type DiffRequest, type DiffResult,
} from '../../protocol/index.js';
import { containerAccess } from '../changes/containers.js';
import { diff, type DiffQuery } from '../changes/diff.js';
import { imageTree } from '../images/unpack.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

function named(v: string, what: string): string {
  if (v === '') throw new SbxError('invalid_argument', `${what}: expected a name or ID`);
  return v;
}

export function diffOf(s: Services, req: DiffRequest): Promise<DiffResult> {
  const q: DiffQuery = { from: named(req.from, 'diff'), patch: req.patch === true };
  if (req.to !== undefined && req.to !== '') q.to = named(req.to, 'diff');
  return diff({ containers: containerAccess(s), differ: s.differ, imageTree: (ref) => imageTree(s, ref) }, q);
}

function send(ws: WebSocket, m: ChangeFeedMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
}

/** The feed: backlog after `since`, `synced`, live records, `end` when the container stops. */
async function feed(s: Services, ws: WebSocket, params: Record<string, string>, query: URLSearchParams): Promise<void> {
  const req = checkRequest(Changes.feed.input!, { query, params });
  const c = containerAccess(s).find(req.id);
  const since = req.since ?? 0;
  const live: ChangeRecord[] = [];
  let sent = since;
  let synced = false;
  const journal = await s.changes.live(c.id);
  const unsubscribe = journal?.subscribe((r) => {
    if (!synced) { live.push(r); return; }
    if (r.seq > sent) { sent = r.seq; send(ws, { type: 'record', record: r }); }
  });
  const finish = (): void => {
    unsubscribe?.();
    send(ws, { type: 'end', seq: sent });
    ws.close(1000);
  };
  const offEnd = journal ? s.changes.onEnd(c.id, () => setImmediate(finish)) : undefined;
  ws.on('close', () => { unsubscribe?.(); offEnd?.(); });
  const { records } = await s.changes.records(c, since);
  for (const r of [...records, ...live]) if (r.seq > sent) { sent = r.seq; send(ws, { type: 'record', record: r }); }
  synced = true;
  send(ws, { type: 'synced', seq: sent });
  if (!journal) finish();
}

export function registerChanges(api: ApiServer, s: Services): void {
  api.router.on(Changes.diff, async (req) => diffOf(s, req));

  api.router.on(Changes.journal, async (req) => {
    const c = containerAccess(s).find(named(req.id, 'changes'));
    return s.changes.records(c, req.since ?? 0);
  });

  api.channel(Changes.feed, (ws, params, query) => {
    feed(s, ws, params, query).catch((e: unknown) => {
      const err = api.router.clientError(e, `changes feed of ${params.id}`);
      send(ws, { type: 'error', error: err.toBody() });
      ws.close(1011);
    });
  });
}
