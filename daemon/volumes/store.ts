/**
 * VolumeStore: docker's "local" volumes, each a directory $SBX_ROOT/volumes/<name>/_data with its
 * record beside it (volume.json: created, labels, anonymous). One per daemon (Services.volumes).
 *
 * Contract
 * - ensure(name) makes the volume on first use (containers' -v name:/ctr) and says whether it was
 *   new; '' makes an anonymous one (64 hex characters, docker's). create() is `sbx volume create`:
 *   an existing name is answered as is (docker's).
 * - A volume is in use while a container record mounts it (`usersOf`, the container manager's
 *   answer): remove() refuses it (failed_precondition, docker's text) unless force, prune() skips it.
 *   prune() removes unused anonymous volumes, or every unused one with `all` (docker 23+).
 * - A volume's directory is never deleted while the record says it exists: a record is written
 *   after its directory, and removed before it.
 * Errors: not_found (no such volume), invalid_argument (bad name), failed_precondition (in use).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SbxError, VOLUME_NAME_RE, type Volume } from '../../protocol/index.js';
import { readJSON, writeJSON } from '../util/fs.js';
import { dirSize } from './size.js';
import type { EventSink } from '../events/bus.js';

interface VolumeRecord { name: string; created: string; labels: Record<string, string>; anonymous: boolean }

export class VolumeStore {
  readonly root: string;
  private readonly byName = new Map<string, VolumeRecord>();
  /** Names of the containers that mount a volume; set by the composition root. */
  usersOf: (name: string) => string[] = () => [];
  /** Where create/destroy are announced (the daemon's event bus; set by the composition root). */
  events?: EventSink;

  constructor(sbxRoot: string) { this.root = join(sbxRoot, 'volumes'); }

  async open(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.root)) {
      if (name.startsWith('.')) { await rm(join(this.root, name), { recursive: true, force: true }); continue; }
      try { this.byName.set(name, await readJSON<VolumeRecord>(join(this.root, name, 'volume.json'))); } catch {
        await rm(join(this.root, name), { recursive: true, force: true });
      }
    }
  }

  /** The host directory the volume's content lives in. */
  dataPath(name: string): string { return join(this.root, name, '_data'); }

  has(name: string): boolean { return this.byName.has(name); }

  /** @throws invalid_argument (name) */
  async ensure(name: string, labels: Record<string, string> = {}): Promise<{ name: string; created: boolean }> {
    const anonymous = name === '';
    const n = anonymous ? randomBytes(32).toString('hex') : name;
    if (!VOLUME_NAME_RE.test(n)) throw new SbxError('invalid_argument', `create ${n}: "${n}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    if (this.byName.has(n)) return { name: n, created: false };
    const rec: VolumeRecord = { name: n, created: new Date().toISOString(), labels, anonymous };
    // built aside and renamed in: a crash leaves no half-made volume (open() drops dot names)
    const tmp = join(this.root, `.new-${randomBytes(6).toString('hex')}`);
    await mkdir(join(tmp, '_data'), { recursive: true, mode: 0o755 });
    await writeJSON(join(tmp, 'volume.json'), rec);
    await rename(tmp, join(this.root, n));
    this.byName.set(n, rec);
    this.events?.emit('volume', 'create', n, { driver: 'local' });
    return { name: n, created: true };
  }

  async create(name: string, labels: Record<string, string> = {}): Promise<Volume> {
    const { name: n } = await this.ensure(name, labels);
    return this.inspect(n);
  }

  /** @throws not_found */
  inspect(name: string): Volume {
    const r = this.byName.get(name);
    if (!r) throw new SbxError('not_found', `get ${name}: no such volume`);
    return { Name: r.name, Driver: 'local', Mountpoint: this.dataPath(r.name), CreatedAt: r.created, Labels: r.labels, Scope: 'local', Options: null };
  }

  list(): Volume[] { return [...this.byName.keys()].sort().map((n) => this.inspect(n)); }

  isAnonymous(name: string): boolean { return !!this.byName.get(name)?.anonymous; }

  /** @throws not_found, failed_precondition (in use, unless force) */
  async remove(name: string, force = false): Promise<void> {
    if (!this.byName.has(name)) {
      if (force) return;
      throw new SbxError('not_found', `get ${name}: no such volume`);
    }
    const users = this.usersOf(name);
    if (users.length && !force) throw new SbxError('failed_precondition', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.byName.delete(name);
    const aside = join(this.root, `.rm-${randomBytes(6).toString('hex')}`);
    await rename(join(this.root, name), aside);
    await rm(aside, { recursive: true, force: true });
    this.events?.emit('volume', 'destroy', name, { driver: 'local' });
  }

  /** Unused anonymous volumes (every unused one with `all`): their names and the bytes freed. */
  async prune(all = false): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const r of [...this.byName.values()]) {
      if ((!all && !r.anonymous) || this.usersOf(r.name).length) continue;
      reclaimed += await dirSize(this.dataPath(r.name));
      await this.remove(r.name);
      deleted.push(r.name);
    }
    return { deleted, reclaimed };
  }

  /** `sbx system df`'s Local Volumes row. */
  async usage(): Promise<{ total: number; active: number; size: number; reclaimable: number }> {
    let size = 0, reclaimable = 0, active = 0;
    for (const n of this.byName.keys()) {
      const s = await dirSize(this.dataPath(n));
      size += s;
      if (this.usersOf(n).length) active++; else reclaimable += s;
    }
    return { total: this.byName.size, active, size, reclaimable };
  }
}
