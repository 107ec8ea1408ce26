/**
 * Changes API: `sbx diff` (container vs its image, or any two containers/images), the journal
 * (`GET …/changes?since=`) and its live feed (`sbx.changes.v1`).
 */
import type { WebSocket } from 'ws';
import {
  Changes, SbxError, checkRequest, type ChangeFeedMessage, type ChangeRecord, type DiffRequest, type DiffResult,
} from '../../protocol/index.js';
import { compareViews, overlayChanges } from '../changes/compare.js';
import { containerAccess, type ContainerView } from '../changes/containers.js';
import { patchesFor } from '../changes/patch.js';
import { excludeFilter } from '../changes/stubs.js';
import { DirView, EMPTY_VIEW, LayeredView, type FsView } from '../changes/view.js';
import { resolveImage } from '../images/resolve.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

function named(v: string, what: string): string {
  if (v === '') throw new SbxError('invalid_argument', `${what}: expected a name or ID`);
  return v;
}

/** The whole tree of a container (its layer over the image) or of an image (its unpacked chain). */
async function treeOf(s: Services, ref: string): Promise<FsView> {
  const access = containerAccess(s);
  let c: ContainerView | undefined;
  try { c = access.find(ref); } catch (e) {
    if (!(e instanceof SbxError) || (e.code !== 'not_found' && e.code !== 'unavailable')) throw e;
  }
  if (c) {
    const r = await access.rootfs(c.id);
    return r.format === 'overlay' ? new LayeredView([r.upperdir, ...r.lowerdirs]) : new DirView(r.upperdir);
  }
  const img = await resolveImage(s, ref).catch((e: unknown) => {
    if (e instanceof SbxError && e.code === 'not_found') throw new SbxError('not_found', `diff ${ref}: no such container or image`);
    throw e;
  });
  const { chainId } = await s.unpacker.unpack(img);
  if (!chainId) return EMPTY_VIEW;
  const d = await s.snapshotter.dirs(chainId);
  return d.format === 'overlay' ? new LayeredView([d.upper, ...d.lowers]) : new DirView(d.upper);
}

export async function diff(s: Services, req: DiffRequest): Promise<DiffResult> {
  const from = named(req.from, 'diff');
  const patch = req.patch ?? false;
  const exclude = excludeFilter();
  let before: FsView;
  let after: FsView;
  let changes;
  if (req.to === undefined || req.to === '') {
    const access = containerAccess(s);
    const c = access.find(from);
    const r = await access.rootfs(c.id);
    if (r.format === 'overlay') {
      before = new LayeredView(r.lowerdirs);
      after = new LayeredView([r.upperdir, ...r.lowerdirs]);
      changes = await overlayChanges(r.upperdir, before, { exclude });
    } else {
      before = r.lowerdirs[0] ? new DirView(r.lowerdirs[0]) : EMPTY_VIEW;
      after = new DirView(r.upperdir);
      changes = await compareViews(before, after, { exclude });
    }
  } else {
    before = await treeOf(s, from);
    after = await treeOf(s, named(req.to, 'diff'));
    changes = await compareViews(before, after, { exclude });
  }
  const out: DiffResult = { changes };
  if (patch) out.patches = await patchesFor(changes, before, after);
  return out;
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
  api.router.on(Changes.diff, async (req) => diff(s, req));

  api.router.on(Changes.journal, async (req) => {
    const c = containerAccess(s).find(named(req.id, 'changes'));
    return s.changes.records(c, req.since ?? 0);
  });

  api.channel(Changes.feed, (ws, params, query) => {
    feed(s, ws, params, query).catch((e: unknown) => {
      const err = e instanceof SbxError ? e : SbxError.wrap(e, `changes feed of ${params.id}`);
      send(ws, { type: 'error', error: err.toBody() });
      ws.close(1011);
    });
  });
}
