/**
 * The lifecycle both snapshotters share: key/name rules, parents and children, one metadata file
 * (snapshots/metadata.json, rewritten atomically) and crash cleanup. The drivers (overlay.ts,
 * native.ts) only say how a snapshot's directory is filled, mounted and sealed.
 *
 * Layout: snapshots/metadata.json, snapshots/<dir>/ per snapshot (committed image layers use the
 * chainID's hex as <dir>; others a random id), plus whatever a driver adds (overlay: l/).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { SbxError } from '../../protocol/index.js';
import { PRIVATE_DIR_MODE, readJSONOr, removeAll, writeJSON } from '../util/fs.js';
import { KeyedMutex } from '../util/lock.js';
import type { Mount, SnapshotDirs, SnapshotInfo, SnapshotKind, Snapshotter } from './snapshotter.js';

export interface Meta {
  kind: SnapshotKind;
  parent?: string;
  /** Directory under the snapshotter root. */
  dir: string;
  /** Overlay: short link name under l/ (committed only). */
  link?: string;
  labels: Record<string, string>;
  createdAt: string;
}

interface MetaFile { version: 1; snapshots: Record<string, Meta> }

const META = 'metadata.json';

export abstract class MetaSnapshotter implements Snapshotter {
  abstract readonly driver: 'overlay' | 'native';
  protected snaps = new Map<string, Meta>();
  /** Keys being created right now (reserved, not yet in metadata): they count as children. */
  private readonly pending = new Map<string, string | undefined>();
  private readonly lock = new KeyedMutex();

  constructor(protected readonly root: string) {}

  /** Fill a new snapshot's directory (already created, empty) from its parent chain (top first). */
  protected abstract populate(dir: string, kind: SnapshotKind, chain: Meta[]): Promise<void>;
  protected abstract mountsOf(meta: Meta, chain: Meta[]): Mount[];
  protected abstract dirsOf(meta: Meta, chain: Meta[]): SnapshotDirs;
  /** Turn an active snapshot's directory into a committed one (in place, before the rename). */
  protected abstract seal(meta: Meta): Promise<void>;
  /** Called after committed metadata is written (overlay: create its short link). */
  protected async sealed(_meta: Meta): Promise<void> { /* nothing by default */ }
  protected async removed(_meta: Meta): Promise<void> { /* nothing by default */ }
  /** Names besides snapshot dirs and metadata.json that open() must keep. */
  protected reserved(): string[] { return []; }

  /** Load metadata and delete whatever a crash left behind. */
  async open(): Promise<this> {
    await mkdir(this.root, { recursive: true, mode: PRIVATE_DIR_MODE });
    const file = await readJSONOr<MetaFile>(join(this.root, META), { version: 1, snapshots: {} });
    this.snaps = new Map(Object.entries(file.snapshots ?? {}));
    const keep = new Set([META, ...this.reserved(), ...[...this.snaps.values()].map((m) => m.dir)]);
    for (const name of await readdir(this.root)) {
      if (!keep.has(name)) await removeAll(join(this.root, name)).catch(() => undefined);
    }
    return this;
  }

  async close(): Promise<void> { /* state is on disk after every call */ }

  async stat(key: string): Promise<SnapshotInfo> {
    return info(key, this.get(key));
  }

  async list(): Promise<SnapshotInfo[]> {
    return [...this.snaps].map(([k, m]) => info(k, m)).sort((a, b) => a.key.localeCompare(b.key));
  }

  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    return this.create('active', key, parent, labels);
  }

  view(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    return this.create('view', key, parent, labels);
  }

  async mounts(key: string): Promise<Mount[]> {
    const meta = this.get(key);
    if (meta.kind === 'committed') throw new SbxError('failed_precondition', `mounts of snapshot ${key}: it is committed; use view()`);
    return this.mountsOf(meta, this.chain(meta.parent));
  }

  async dirs(key: string): Promise<SnapshotDirs> {
    const meta = this.get(key);
    return this.dirsOf(meta, this.chain(meta.parent));
  }

  async commit(name: string, key: string, labels?: Record<string, string>): Promise<void> {
    validName(name);
    await this.lock.run('meta', async () => {
      const meta = this.get(key);
      if (meta.kind !== 'active') throw new SbxError('failed_precondition', `commit snapshot ${key}: it is ${meta.kind === 'view' ? 'a view' : 'committed'}, not active`);
      if (this.snaps.has(name) || this.pending.has(name)) throw new SbxError('already_exists', `commit snapshot ${key} as ${name}: ${name} exists`);
      await this.seal(meta);
      const dir = /^sha256:[0-9a-f]{64}$/.test(name) ? name.slice(7) : `c-${randomId()}`;
      if (this.dirTaken(dir)) throw new SbxError('already_exists', `commit snapshot ${key} as ${name}: directory ${dir} exists`);
      await rename(join(this.root, meta.dir), join(this.root, dir));
      const done: Meta = { kind: 'committed', dir, labels: { ...meta.labels, ...labels }, createdAt: new Date().toISOString() };
      if (meta.parent !== undefined) done.parent = meta.parent;
      this.snaps.delete(key);
      this.snaps.set(name, done);
      await this.sealed(done);
      await this.save();
    });
  }

  async remove(key: string): Promise<void> {
    await this.lock.run('meta', async () => {
      const meta = this.get(key);
      const child = [...this.snaps].find(([, m]) => m.parent === key)?.[0] ?? [...this.pending].find(([, p]) => p === key)?.[0];
      if (child !== undefined) throw new SbxError('failed_precondition', `remove snapshot ${key}: it is the parent of ${child}`);
      this.snaps.delete(key);
      await this.save();
      await this.removed(meta);
      await removeAll(join(this.root, meta.dir));
    });
  }

  private async create(kind: SnapshotKind, key: string, parent: string | undefined, labels: Record<string, string> = {}): Promise<Mount[]> {
    validName(key);
    const dir = `a-${randomId()}`;
    let chain: Meta[] = [];
    await this.lock.run('meta', async () => {
      if (this.snaps.has(key) || this.pending.has(key)) throw new SbxError('already_exists', `${kind === 'view' ? 'view' : 'prepare'} snapshot ${key}: it exists`);
      if (parent !== undefined && parent !== '') {
        const p = this.snaps.get(parent);
        if (!p) throw new SbxError('not_found', `prepare snapshot ${key}: parent ${parent} not found`);
        if (p.kind !== 'committed') throw new SbxError('failed_precondition', `prepare snapshot ${key}: parent ${parent} is not committed`);
        chain = this.chain(parent);
      }
      this.pending.set(key, parent || undefined);
    });
    const meta: Meta = { kind, dir, labels: { ...labels }, createdAt: new Date().toISOString() };
    if (parent) meta.parent = parent;
    try {
      await mkdir(join(this.root, dir), { mode: PRIVATE_DIR_MODE });
      await this.populate(join(this.root, dir), kind, chain);
      await this.lock.run('meta', async () => {
        this.snaps.set(key, meta);
        this.pending.delete(key);
        await this.save();
      });
    } catch (e) {
      this.pending.delete(key);
      this.snaps.delete(key);
      await removeAll(join(this.root, dir)).catch(() => undefined);
      throw SbxError.wrap(e, `${kind === 'view' ? 'view' : 'prepare'} snapshot ${key}`);
    }
    return this.mountsOf(meta, chain);
  }

  protected get(key: string): Meta {
    const m = this.snaps.get(key);
    if (!m) throw new SbxError('not_found', `snapshot ${key}: not found`);
    return m;
  }

  /** The committed chain from `name` down to the base layer (top first). */
  protected chain(name: string | undefined): Meta[] {
    const out: Meta[] = [];
    for (let n = name; n !== undefined && n !== ''; ) {
      const m = this.get(n);
      out.push(m);
      n = m.parent;
      if (out.length > 10000) throw new SbxError('internal', `snapshot ${name}: parent cycle`);
    }
    return out;
  }

  protected path(meta: Meta, ...rest: string[]): string {
    return join(this.root, meta.dir, ...rest);
  }

  private dirTaken(dir: string): boolean {
    return [...this.snaps.values()].some((m) => m.dir === dir);
  }

  protected async save(): Promise<void> {
    const snapshots: Record<string, Meta> = {};
    for (const [k, m] of this.snaps) snapshots[k] = m;
    await writeJSON(join(this.root, META), { version: 1, snapshots } satisfies MetaFile);
  }
}

function info(key: string, m: Meta): SnapshotInfo {
  const i: SnapshotInfo = { key, kind: m.kind, labels: { ...m.labels }, createdAt: m.createdAt };
  if (m.parent !== undefined) i.parent = m.parent;
  return i;
}

function validName(key: string): void {
  // eslint-disable-next-line no-control-regex
  if (typeof key !== 'string' || key === '' || /[\x00-\x1f]/.test(key) || key.length > 1024) {
    throw new SbxError('invalid_argument', `snapshot key ${JSON.stringify(key)}: must be a non-empty string without control characters`);
  }
}

export function randomId(n = 12): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}
