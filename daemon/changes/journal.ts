/**
 * Journal: the exact, ordered record of every change a running container makes to its file
 * system, appended to `containers/<id>/changes.jsonl` as `{seq, ts, op, path, kind, size?}`.
 *
 * The watcher triggers, the walk decides. chokidar on the overlay upperdir (directories only;
 * its raw inotify events included, since it never reports whiteouts) only marks directories
 * dirty; a throttled rescan walks each dirty subtree of the upperdir and compares it with the
 * last recorded state, so a missed event (chokidar's new-directory race, an overflowing inotify
 * queue) costs latency, never a record. A periodic full rescan and flush() (before every read)
 * close the remaining gap.
 *
 * Records, per path, relative to the last recorded state:
 * - add: a path new in the container (or re-created after a delete);
 * - modify: an image path copied up, or a path whose content/metadata changed (a directory only
 *   by mode, owner or type: its mtime moves with every child);
 * - delete: an image path deleted (a whiteout), or a path the container added and removed. A
 *   deleted tree is one record, at its top.
 * Within one rescan records are sorted by path. seq grows by one per record, from 1; after a
 * daemon restart the journal is replayed and the next rescan records what happened meanwhile.
 */
import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { ChangeOp, ChangeRecord } from '../../protocol/index.js';
import type { Logger } from '../util/log.js';
import { childPath, type FsView } from '../snapshots/view.js';
import { minimalScan, rescanRoots, type ScanRoot, type Sig } from './rescan.js';

export { minimalScan };

export const JOURNAL_FILE = 'changes.jsonl';

export interface JournalTarget {
  id: string;
  /** containers/<id>: where changes.jsonl lives. */
  dir: string;
  /**
   * The container's own layer in overlay form, when its snapshot format has one (the differ's
   * follow()): it is watched and read path by path. Without one, nothing is watched (one inotify
   * watch per file would be needed); a periodic double walk of `tree` against `lower`
   * (fullRescanMs, default 2 s) and every flush() decide.
   */
  layer?: string;
  /** The container's whole tree, when there is no layer (exactly one of the two is given). */
  tree?: string;
  /** The image's view, to tell an added path from a changed one. */
  lower: FsView;
  /** Container paths left out (the runtime's mount stubs). */
  exclude?: (path: string) => boolean;
}

export interface JournalOptions {
  /** Longest wait between a watcher event and the rescan it triggers. */
  throttleMs?: number;
  /** Period of the safety full rescan. */
  fullRescanMs?: number;
  log?: Logger;
}

export class Journal {
  private state = new Map<string, Sig>();
  private seq = 0;
  private fh?: FileHandle;
  private watcher?: FSWatcher;
  private dirty = new Map<string, boolean>();
  private scanning = false;
  private timer?: NodeJS.Timeout;
  private periodic?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(r: ChangeRecord) => void>();
  private closed = false;
  private readonly throttleMs: number;
  private readonly exclude: (p: string) => boolean;

  private constructor(readonly target: JournalTarget, private readonly opts: JournalOptions) {
    this.throttleMs = opts.throttleMs ?? 50;
    this.exclude = target.exclude ?? (() => false);
  }

  /** Replay the existing journal, record what changed since, then watch. */
  static async open(target: JournalTarget, opts: JournalOptions = {}): Promise<Journal> {
    const j = new Journal(target, opts);
    for (const r of await readJournal(target.dir)) j.replay(r);
    j.fh = await open(join(target.dir, JOURNAL_FILE), 'a', 0o600);
    const full = target.layer === undefined;
    if (!full) await j.startWatching();
    await j.flush();
    j.periodic = setInterval(() => { j.markDirty('/', true); }, opts.fullRescanMs ?? (full ? 2_000 : 10_000));
    j.periodic.unref();
    return j;
  }

  get last(): number { return this.seq; }

  subscribe(fn: (r: ChangeRecord) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Rescan the whole container layer now; resolves when its records are written. */
  flush(): Promise<void> {
    return this.enqueue(new Map([['/', true]]));
  }

  /** Stop watching after a last full rescan. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch((e) => this.opts.log?.warn('journal: last rescan failed', { id: this.target.id, error: String(e) }));
    this.closed = true;
    clearInterval(this.periodic);
    clearTimeout(this.timer);
    await this.watcher?.close();
    await this.chain;
    await this.fh?.close();
    this.listeners.clear();
  }

  private replay(r: ChangeRecord): void {
    this.seq = Math.max(this.seq, r.seq);
    const prev = this.state.get(r.path);
    if (r.op === 'delete') {
      this.dropUnder(r.path);
      if (prev?.op === 'add') this.state.delete(r.path);
      else this.state.set(r.path, { op: 'delete', kind: r.kind, size: 0, mode: 0, uid: 0, gid: 0, mtime: -1n });
      return;
    }
    const op: ChangeOp = prev?.op === 'delete' ? 'modify' : prev ? prev.op : r.op;
    this.state.set(r.path, { op, kind: r.kind, size: r.size ?? 0, mode: -1, uid: -1, gid: -1, mtime: -1n });
  }

  private dropUnder(path: string): void {
    const prefix = path + '/';
    for (const p of this.state.keys()) if (p.startsWith(prefix)) this.state.delete(p);
  }

  private async startWatching(): Promise<void> {
    const upper = this.target.layer!;
    const toRel = (p: string): string => (p.length <= upper.length ? '/' : p.slice(upper.length));
    this.watcher = watch(upper, {
      ignoreInitial: true,
      atomic: false,
      followSymlinks: false,
      persistent: true,
      // Directories only: file events still arrive through their directory's raw events.
      ignored: (_p: string, st?: { isDirectory(): boolean }) => (st ? !st.isDirectory() : false),
    });
    this.watcher.on('raw', (_ev, name, details) => {
      const w = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!w) return;
      const dir = toRel(w);
      if (typeof name === 'string' && name && !name.includes('/')) this.markDirty(childPath(dir, name), false);
      else this.markDirty(dir, true);
    });
    this.watcher.on('all', (ev, p) => {
      const rel = toRel(p);
      this.markDirty(rel, ev === 'addDir');
      // chokidar watches a new directory only after reading it: look again once it surely does.
      if (ev === 'addDir') setTimeout(() => this.markDirty(rel, true), 300).unref();
    });
    this.watcher.on('error', (e: unknown) => {
      this.opts.log?.warn('journal: watcher error, rescanning', { id: this.target.id, error: String(e) });
      this.markDirty('/', true);
    });
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  /** `deep`: rescan the whole subtree; otherwise the entry itself (and all of it if it is a new dir). */
  private markDirty(path: string, deep: boolean): void {
    if (this.closed) return;
    if (deep || !this.dirty.has(path)) this.dirty.set(path, deep || (this.dirty.get(path) ?? false));
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.scanning || this.dirty.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const batch = this.dirty;
      this.dirty = new Map();
      this.enqueue(batch).catch((e) => this.opts.log?.warn('journal: rescan failed', { id: this.target.id, error: String(e) }));
    }, this.throttleMs);
  }

  private enqueue(batch: Map<string, boolean>): Promise<void> {
    const run = this.chain.then(async () => {
      this.scanning = true;
      try { await this.rescan(minimalScan(batch)); } finally {
        this.scanning = false;
        this.schedule();
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async rescan(roots: ScanRoot[]): Promise<void> {
    if (this.closed) return;
    const records = await rescanRoots(this.state, this.target, this.exclude, roots);
    if (records.length === 0) return;
    const ts = new Date().toISOString();
    const full: ChangeRecord[] = records.map((r) => ({ seq: ++this.seq, ts, ...r }));
    await this.fh!.write(full.map((r) => JSON.stringify(r)).join('\n') + '\n');
    for (const r of full) for (const l of this.listeners) l(r);
  }
}

/** All records of a container's journal (settled ones; a running container's may grow). */
export async function readJournal(dir: string, since = 0): Promise<ChangeRecord[]> {
  let text: string;
  try { text = await readFile(join(dir, JOURNAL_FILE), 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: ChangeRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let r: ChangeRecord;
    try { r = JSON.parse(line) as ChangeRecord; } catch { continue; } // a torn last line after a crash
    if (r.seq > since) out.push(r);
  }
  return out;
}
