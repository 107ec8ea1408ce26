/**
 * ContainerManager: the containers' lifecycle over the runtime, the snapshotter and the image
 * store. One instance per daemon (Services.containers).
 *
 * Contract
 * - create() resolves the image, prepares the container's writable layer and writes its
 *   records; nothing is left behind when it fails. Names are unique (already_exists).
 * - start() runs the main process (spec.ts mainSpecs); its output is retained in the main
 *   session (sessions.ts, id = container id) from offset 0 and appended to the container's log. A command that cannot run fails
 *   start() with command_not_found / cannot_execute and leaves the container exited (127/126).
 * - stop() sends the stop signal, then SIGKILL after the timeout; kill() sends one signal.
 *   The stop signal or SIGKILL to a paused container (state.paused, lifecycle.ts) thaws it so
 *   that it can take the signal (docker's); a paused container refuses exec, and commit's
 *   freeze/thaw leaves it paused. restart/rename/pause/unpause are in lifecycle.ts, under locked().
 * - After an exit the restart policy may start it again (restart.ts, protocol/restart.ts):
 *   never after the user's stop/kill/rm, nor while close() runs; open() starts what the policies
 *   bring back at sbxd start. start(id) by the user resets RestartCount.
 * - remove() deletes records, writable layer, cgroups and sessions; a running container needs
 *   force. Restart recovery (open()) is recover.ts; the config record create() writes, create.ts.
 * - For `sbx commit`: rootfs(id) (upperdir/lowerdirs via containers/rootfs.ts), isRunning(id),
 *   freeze(id)/thaw(id).
 * - events: 'started' after a start is recorded, 'exited' (awaited) before any waiter hears of
 *   the exit (containers/events.ts). Shaping for ps/inspect is in describe.ts, logs in logs.ts.
 * Errors: not_found (no such container), already_exists (name), invalid_argument (bad request),
 * failed_precondition (state forbids it), command_not_found / cannot_execute (start).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SIGNALS, SbxError, normalizeSignal,
  type CreateContainerRequest, type CreateContainerResponse, type ExecRequest, type ExitInfo,
} from '../../protocol/index.js';
import type { Config } from '../config.js';
import type { ContentStore } from '../content/store.js';
import type { ImageStore } from '../images/store.js';
import type { Unpacker } from '../images/unpack.js';
import type { BindMount, Runtime } from '../runtime/runtime.js';
import { removeRootfs, rootfsOf } from './rootfs.js';
import type { Rootfs } from '../snapshots/differ.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import { KeyedMutex } from '../util/lock.js';
import type { Logger } from '../util/log.js';
import type { Container } from './container.js';
import { LifecycleEmitter, type ContainerEvents } from './events.js';
import { randomName } from './names.js';
import { ZERO_TIME, newState, writeState } from './records.js';
import type { Networks } from '../networks/networks.js';
import { joinExtras } from './network.js';
import type { Session } from '../sessions/session.js';
import { landed, launch } from './launch.js';
import { configRecord, planCreate, writeContainer } from './create.js';
import { recoverContainer } from './recover.js';
import { ContainerSessions } from './sessions.js';
import { RestartPolicies } from './restart.js';
import { checkHealth } from './health.js';
import { removeAnonymousVolumes } from './mounts.js';
import type { VolumeStore } from '../volumes/store.js';
import type { EventSink } from '../events/bus.js';
import { announceContainer, announceMounts } from './announce.js';

/** What the manager stands on; the composition root passes its services. */
export interface ContainerDeps {
  config: Config;
  log: Logger;
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
  unpacker: Unpacker;
  networks: Networks;
  /** Named and anonymous volumes (-v name:/ctr, the image's VOLUMEs); containers/mounts.ts. */
  volumes: VolumeStore;
  /** Where lifecycle events are announced (the daemon's event bus; announce()); absent: nowhere. */
  events?: EventSink;
}

export class ContainerManager {
  private readonly byId = new Map<string, Container>();
  private readonly sessions: ContainerSessions;
  private readonly lock = new KeyedMutex();
  private readonly emitter: LifecycleEmitter;
  /** started/exited, for what keeps per-container state beside the manager (the change recorder). */
  readonly events: ContainerEvents;
  readonly root: string;
  private readonly restarts: RestartPolicies;

  constructor(private readonly s: ContainerDeps, readonly runtime: Runtime) {
    this.root = join(s.config.root, 'containers');
    this.emitter = new LifecycleEmitter((event, id, e) => s.log.warn('container event listener', { event, id, error: String(e) }));
    this.events = this.emitter;
    this.sessions = new ContainerSessions(s, runtime, (c, sig) => this.signal(c, sig), (c, action, extra) => this.announce(c, action, extra));
    this.restarts = new RestartPolicies((id) => this.start(id, true), s.log);
    checkHealth(this.events, { runtime, rootfs: (id) => rootfsOf(s, id), log: s.log }, (id) => this.byId.get(id));
  }

  /** Load records; containers recorded running whose process is gone become exited (recover.ts). */
  async open(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const id of await readdir(this.root)) {
      const c = await recoverContainer(this.s, this.runtime, this.root, id);
      if (c) this.byId.set(id, c);
    }
    // what its restart policy brings back when sbxd starts (docker's restore)
    const back = [...this.byId.values()].filter((c) => this.restarts.atBoot(c));
    await Promise.all(back.map((c) => this.start(c.config.id).catch((e) => this.s.log.warn('restart at sbxd start', { id: c.config.id, error: String(e) }))));
  }

  /** Kill what runs (the daemon is going away; its processes would die with it anyway). */
  async close(): Promise<void> {
    this.restarts.close();
    const running = [...this.byId.values()].filter((c) => c.state.status === 'running');
    // wait for the exit bookkeeping too (state written, cgroups removed), not just the exit
    const settled = running.map((c) => new Promise<unknown>((r) => c.exited.push(r)));
    for (const c of running) this.signal(c, 'SIGKILL');
    await Promise.race([Promise.all(settled), new Promise((r) => setTimeout(r, 10_000))]);
    this.sessions.closeAll(1001, 'sbxd shutting down');
    for (const c of this.byId.values()) c.log?.close();
  }

  /** Names of the containers that use the image with this digest (config, manifest or index): rmi refuses them. */
  usersOf(digest: string): { id: string; running: boolean }[] {
    return [...this.byId.values()]
      .filter((c) => c.config.imageId === digest || (c.config.imageDigests ?? []).includes(digest))
      .map((c) => ({ id: c.config.id, running: c.state.status === 'running' }));
  }

  /** Ids of the containers whose records mount the volume: volume rm refuses it. */
  volumeUsers(name: string): string[] {
    return [...this.byId.values()].filter((c) => (c.config.volumes ?? []).some((m) => m.type === 'volume' && m.source === name)).map((c) => c.config.id);
  }

  get volumes(): VolumeStore { return this.s.volumes; }

  /** Full id, name, or unique id prefix. @throws not_found, invalid_argument (ambiguous) */
  get(ref: string): Container {
    const exact = this.byId.get(ref) ?? [...this.byId.values()].find((c) => c.config.name === ref.replace(/^\//, ''));
    if (exact) return exact;
    const matches = /^[a-f0-9]+$/.test(ref) ? [...this.byId.keys()].filter((id) => id.startsWith(ref)) : [];
    if (matches.length === 1) return this.byId.get(matches[0]!)!;
    if (matches.length > 1) throw new SbxError('invalid_argument', `container ${ref}: ambiguous id prefix (${matches.length} matches)`);
    throw new SbxError('not_found', `container ${ref}: no such container`);
  }

  /** Every container's full id. */
  ids(): string[] { return [...this.byId.keys()]; }

  isRunning(ref: string): boolean { return this.get(ref).state.status === 'running'; }
  async rootfs(ref: string): Promise<Rootfs> { return rootfsOf(this.s, this.get(ref).config.id); }
  async freeze(ref: string): Promise<void> {
    const c = this.get(ref);
    if (c.state.status !== 'running') throw new SbxError('failed_precondition', `freeze container ${c.config.name}: it is not running`);
    await this.runtime.freeze(c.config.id);
  }
  /** Ends a freeze (commit's); a container the user paused stays paused. */
  async thaw(ref: string): Promise<void> {
    const c = this.get(ref);
    if (!c.state.paused) await this.runtime.thaw(c.config.id);
  }

  /** Run `fn` under the manager's lock for `key` (a container id, or 'names' for naming). */
  locked<T>(key: string, fn: () => Promise<T>): Promise<T> { return this.lock.run(key, fn); }

  session(id: string): Session { return this.sessions.get(id); }

  /** A container event on the daemon's event bus (announce.ts). */
  announce(c: Container, action: string, extra: Record<string, string> = {}): void { announceContainer(this.s.events, c, action, extra); }

  /** internal.mounts: host paths bound in (the builder's RUN --mount; the API cannot ask for them). */
  async create(req: CreateContainerRequest, internal: { mounts?: BindMount[] } = {}): Promise<CreateContainerResponse> {
    const { image, choices, plan } = await planCreate(this.s, req, (ref) => this.get(ref));
    const id = randomBytes(32).toString('hex');
    return this.lock.run('names', async () => {
      const taken = (n: string): boolean => [...this.byId.values()].some((c) => c.config.name === n);
      if (req.name && taken(req.name)) {
        const other = [...this.byId.values()].find((c) => c.config.name === req.name)!;
        throw new SbxError('already_exists', `create container: the name "/${req.name}" is already in use by container ${other.config.id}; remove or rename that container to reuse the name`);
      }
      const name = req.name ?? randomName(taken);
      const config = configRecord(req, image, { id, name, ...choices, ...(internal.mounts ? { mounts: internal.mounts } : {}) });
      const dir = await writeContainer(this.s, this.root, config, image, plan);
      this.byId.set(id, { config, state: newState(), dir, pid1: 0, execs: 0, exited: [] });
      // the main session exists from create on, so a client can attach before start
      this.sessions.main(this.byId.get(id)!);
      this.announce(this.byId.get(id)!, 'create');
      return { id, name, warnings: [] };
    });
  }

  /** byPolicy: a restart by the restart policy (the user's start resets its count and marks). */
  async start(ref: string, byPolicy = false): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.config.id, async () => {
      if (byPolicy && !c.state.restarting) return; // cancelled meanwhile
      if (c.state.status === 'running') return;
      if (c.state.status === 'removing') throw new SbxError('failed_precondition', `start container ${c.config.name}: it is being removed`);
      if (!byPolicy) {
        this.restarts.cancel(c);
        c.state.restartCount = 0;
        c.state.manuallyStopped = false;
      }
      c.state.restarting = false;
      const rootfs = await rootfsOf(this.s, c.config.id);
      const session = c.state.status === 'created' && c.session && c.session.state === 'created' ? c.session : this.sessions.main(c, true);
      const task = await launch(this.s, this.runtime, c, rootfs, (r) => this.get(r).pid1);
      c.pid1 = task.pid1;
      session.bind(task.process);
      if (!task.failed) await joinExtras(this.s.networks, c, task.pid1).catch((e) => this.s.log.warn('connect network', { id: c.config.id, error: String(e) }));
      c.state = { ...c.state, status: 'running', pid: task.pid1, startedAt: new Date().toISOString(), finishedAt: ZERO_TIME, exitCode: 0, error: '', oomKilled: false };
      await writeState(c.dir, c.state);
      announceMounts(this.s.events, c);
      this.announce(c, 'start');
      void this.emitter.emit('started', c.config.id);
      const exited = session.waitExit().then((e) => this.onExit(c, e));
      if (task.failed) {
        await exited;
        const code = task.failed.code === 'internal' ? 'unavailable' : task.failed.code;
        throw new SbxError(code, `start container ${c.config.name}: ${task.failed.message}`);
      }
    });
  }

  private async onExit(c: Container, e: ExitInfo): Promise<void> {
    c.recording = true;
    try {
      await landed(this.s, this.runtime, c, e, () => this.byId.has(c.config.id));
      this.announce(c, 'die', { exitCode: String(e.status) });
      // Listeners finish first (the journal's last rescan): `sbx run` then `sbx events` sees it all.
      await this.emitter.emit('exited', c.config.id);
      // decided before anyone waiting hears of the exit
      if (this.byId.has(c.config.id) && !c.config.autoRemove) await this.restarts.exited(c);
    } finally {
      c.recording = false;
      for (const w of c.exited.splice(0)) w(c.state);
    }
    // outside of start()'s lock, which may be waiting for this exit
    if (c.config.autoRemove && this.byId.has(c.config.id)) {
      setImmediate(() => { void this.remove(c.config.id, true).catch((err) => this.s.log.warn('auto-remove', { id: c.config.id, error: String(err) })); });
    }
  }

  /** timeout: seconds before SIGKILL (-1: none); default the container's --stop-timeout, else 10. */
  async stop(ref: string, timeout?: number): Promise<void> {
    const c = this.get(ref);
    await this.stoppedByUser(c);
    if (c.state.status !== 'running' || !c.session) return;
    const done = c.session.waitExit();
    this.signal(c, c.config.stopSignal, true);
    const secs = timeout ?? c.config.stopTimeout ?? 10;
    const t = secs < 0 ? await done.then(() => true) : await Promise.race([done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), secs * 1000))]);
    if (!t) { this.signal(c, 'SIGKILL', true); await done; }
    await new Promise((r) => setImmediate(r));
    this.announce(c, 'stop');
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.get(ref);
    const sig = normalizeSignal(signal);
    if (!sig) throw new SbxError('invalid_argument', `kill container ${c.config.name}: invalid signal ${JSON.stringify(signal)}`);
    if (c.state.status !== 'running') throw new SbxError('failed_precondition', `kill container ${c.config.name}: container is not running`);
    await this.stoppedByUser(c);
    this.signal(c, sig, true);
  }

  /** No restart by policy after this (docker's HasBeenManuallyStopped); a start by the policy under way finishes first. */
  private async stoppedByUser(c: Container): Promise<void> {
    c.state.manuallyStopped = true;
    this.restarts.cancel(c);
    await this.lock.run(c.config.id, async () => { if (c.state.status !== 'running') await writeState(c.dir, c.state); });
  }

  /** byUser: announced as docker's kill event (signal number). */
  private signal(c: Container, sig: string, byUser = false): void {
    if (!c.pid1) return;
    if (byUser) this.announce(c, 'kill', { signal: String(SIGNALS[sig] ?? sig) });
    try { process.kill(c.pid1, SIGNALS[sig] ?? sig); } catch { /* already gone */ }
    if (c.state.paused && (sig === 'SIGKILL' || sig === c.config.stopSignal)) {
      // the signal is pending until the processes run again (docker thaws after kill/stop)
      c.state.paused = false;
      void this.runtime.thaw(c.config.id).catch((e) => this.s.log.warn('thaw after signal', { id: c.config.id, error: String(e) }));
    }
  }

  /** removeVolumes: also its anonymous volumes (docker's rm -v; always with --rm). */
  async remove(ref: string, force = false, removeVolumes = false): Promise<void> {
    const c = this.get(ref);
    this.restarts.cancel(c);
    // the process is gone and its exit is being recorded (`run --rm` removes right after the exit
    // it was sent): wait for that rather than refuse a container that is no longer running
    if (c.state.status === 'running' && c.session?.exit) await new Promise<void>((r) => { c.exited.push(() => r()); });
    if (c.state.status === 'running') {
      if (!force) throw new SbxError('failed_precondition', `remove container ${c.config.name}: container is running: stop the container before removing or force remove`);
      const done = c.session!.waitExit();
      c.state.status = 'removing';
      this.signal(c, 'SIGKILL', true);
      await done;
      await new Promise((r) => setImmediate(r));
    }
    await this.lock.run(c.config.id, async () => {
      if (!this.byId.has(c.config.id)) return;
      this.byId.delete(c.config.id);
      c.log?.close();
      this.sessions.retire(c);
      await this.runtime.cleanup(c.config.id).catch(() => undefined);
      await removeRootfs(this.s, c.config.id);
      await rm(c.dir, { recursive: true, force: true });
      if (c.config.autoRemove || removeVolumes) await removeAnonymousVolumes(c.config.volumes, this.s.volumes, (n) => this.volumeUsers(n).length > 0, this.s.log);
      this.announce(c, 'destroy');
    });
  }

  async exec(req: ExecRequest): Promise<{ session: string }> { return this.sessions.exec(this.get(req.id), req); }
}
