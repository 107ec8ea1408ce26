/**
 * ContainerManager: the containers' lifecycle over the runtime, the snapshotter and the image
 * store. One instance per daemon (Services.containers).
 *
 * Contract
 * - create() resolves the image, prepares the container's writable layer and writes its
 *   records; nothing is left behind when it fails. Names are unique (already_exists).
 * - start() runs the main process; its output is retained in the main session (id = container
 *   id) from offset 0 and appended to the container's log. A command that cannot run fails
 *   start() with command_not_found / cannot_execute and leaves the container exited (127/126).
 * - stop() sends the stop signal, then SIGKILL after the timeout; kill() sends one signal.
 * - remove() deletes records, writable layer, cgroups and sessions; a running container needs
 *   force. Restart recovery (open()): a container recorded as running whose process is gone is
 *   marked exited with the code its supervisor recorded; nothing stays mounted.
 * - For `sbx commit`: rootfs(id) (upperdir/lowerdirs via snapshots/rootfs.ts), isRunning(id),
 *   freeze(id)/thaw(id).
 * Errors: not_found (no such container), already_exists (name), invalid_argument (bad request),
 * failed_precondition (state forbids it), command_not_found / cannot_execute (start).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  SIGNALS, SbxError, humanDuration, normalizeSignal,
  type ContainerInspect, type ContainerSummary, type CreateContainerRequest, type CreateContainerResponse,
  type ExecRequest, type ExitInfo, type WaitResult,
} from '../../protocol/index.js';
import { DirView } from '../changes/view.js';
import { resolveImage } from '../images/resolve.js';
import type { ContainerSpec, ProcessSpec, Runtime, User } from '../runtime/runtime.js';
import { prepareRootfs, removeRootfs, rootfsOf, type Rootfs } from '../snapshots/rootfs.js';
import type { Services } from '../services.js';
import { KeyedMutex } from '../util/lock.js';
import { NAME_RE, randomName } from './names.js';
import {
  LogWriter, ZERO_TIME, logPath, newState, readLog, readRecords, writeConfig, writeState,
  type ContainerConfigRecord, type ContainerStateRecord,
} from './records.js';
import { publishPorts } from './ports.js';
import { seccompOf, securityChoice, validateSecurity } from './security.js';
import { Session } from './session.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const EXEC_RETENTION_MS = 10 * 60 * 1000;

interface Container {
  config: ContainerConfigRecord;
  state: ContainerStateRecord;
  dir: string;
  session?: Session;
  log?: LogWriter;
  pid1: number;
  execs: number;
  exited: ((s: ContainerStateRecord) => void)[];
  unpublish?: () => Promise<void>;
}

type Deps = Pick<Services, 'config' | 'log' | 'content' | 'images' | 'snapshotter' | 'unpacker'> & Partial<Pick<Services, 'changes'>>;

export class ContainerManager {
  private readonly byId = new Map<string, Container>();
  private readonly sessions = new Map<string, Session>();
  private readonly lock = new KeyedMutex();
  readonly root: string;

  constructor(private readonly s: Deps, readonly runtime: Runtime) {
    this.root = join(s.config.root, 'containers');
  }

  /** Load records; containers recorded running whose process is gone become exited. */
  async open(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const id of await readdir(this.root)) {
      const dir = join(this.root, id);
      if (id.startsWith('rm-') || id.startsWith('.')) { await rm(dir, { recursive: true, force: true }); continue; }
      let rec;
      try { rec = await readRecords(dir); } catch {
        this.s.log.warn('container records unreadable; removing', { id });
        await removeRootfs(this.s, id).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      const c: Container = { ...rec, dir, pid1: 0, execs: 0, exited: [] };
      if (c.state.status === 'running' || c.state.status === 'removing') {
        if (c.state.pid && this.runtime.alive(c.state.pid) && isOurs(c.state.pid, dir)) {
          try { process.kill(c.state.pid, 'SIGKILL'); } catch { /* gone */ }
        }
        const e = await this.runtime.recordedExit(dir);
        c.state.status = 'exited';
        c.state.exitCode = e?.status ?? 255;
        c.state.error = e?.error?.message ?? (e ? '' : 'sbxd stopped while the container ran');
        c.state.finishedAt = c.state.finishedAt === ZERO_TIME ? new Date().toISOString() : c.state.finishedAt;
        c.state.pid = 0;
        await writeState(dir, c.state);
      }
      await this.runtime.cleanup(id).catch(() => undefined);
      this.byId.set(id, c);
    }
  }

  /** Kill what runs (the daemon is going away; its processes would die with it anyway). */
  async close(): Promise<void> {
    const running = [...this.byId.values()].filter((c) => c.state.status === 'running');
    // wait for the exit bookkeeping too (state written, cgroups removed), not just the exit
    const settled = running.map((c) => new Promise<unknown>((r) => c.exited.push(r)));
    for (const c of running) this.signal(c, 'SIGKILL');
    await Promise.race([Promise.all(settled), new Promise((r) => setTimeout(r, 10_000))]);
    for (const se of this.sessions.values()) se.closeAll(1001, 'sbxd shutting down');
    for (const c of this.byId.values()) c.log?.close();
  }

  /** Names of the containers that use the image with this digest (config, manifest or index): rmi refuses them. */
  usersOf(digest: string): string[] {
    return [...this.byId.values()]
      .filter((c) => c.config.imageId === digest || (c.config.imageDigests ?? []).includes(digest))
      .map((c) => c.config.name);
  }

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
  async thaw(ref: string): Promise<void> { await this.runtime.thaw(this.get(ref).config.id); }

  session(id: string): Session {
    const se = this.sessions.get(id);
    if (!se) throw new SbxError('not_found', `session ${id}: no such session`);
    return se;
  }

  async create(req: CreateContainerRequest): Promise<CreateContainerResponse> {
    validateCreate(req);
    const sec = validateSecurity(req);
    const security = securityChoice(req);
    const image = await resolveImage(this.s, req.image);
    const cfg = image.config.config ?? {};
    const entrypoint = req.entrypoint ?? cfg.Entrypoint ?? [];
    const cmd = req.cmd && req.cmd.length > 0 ? req.cmd : req.entrypoint ? [] : (cfg.Cmd ?? []);
    if (entrypoint.length + cmd.length === 0) throw new SbxError('invalid_argument', `create container from ${req.image}: no command specified`);
    const id = randomBytes(32).toString('hex');
    return this.lock.run('names', async () => {
      const taken = (n: string): boolean => [...this.byId.values()].some((c) => c.config.name === n);
      if (req.name && taken(req.name)) {
        const other = [...this.byId.values()].find((c) => c.config.name === req.name)!;
        throw new SbxError('already_exists', `create container: the name "/${req.name}" is already in use by container ${other.config.id}; remove or rename that container to reuse the name`);
      }
      const name = req.name ?? randomName(taken);
      const env = mergeEnv(cfg.Env ?? [], req.env ?? []);
      const config: ContainerConfigRecord = {
        id, name, created: new Date().toISOString(), image: req.image, imageId: image.configDigest,
        imageDigests: [...new Set([image.configDigest, image.descriptor.digest, image.target.digest])],
        entrypoint, cmd, env, workdir: req.workdir ?? cfg.WorkingDir ?? '', user: req.user ?? cfg.User ?? '',
        hostname: req.hostname ?? id.slice(0, 12), tty: !!req.tty, openStdin: !!req.openStdin,
        network: req.network ?? 'none', memory: req.memory ?? 0, pidsLimit: req.pidsLimit ?? 0, init: !!req.init,
        autoRemove: !!req.autoRemove, stopSignal: normalizeSignal(cfg.StopSignal ?? 'SIGTERM') ?? 'SIGTERM',
      };
      if (req.consoleSize) config.consoleSize = req.consoleSize;
      if (req.ports?.length) config.ports = req.ports;
      if (sec.privileged) config.privileged = true;
      if (sec.capAdd.length) config.capAdd = sec.capAdd;
      if (sec.capDrop.length) config.capDrop = sec.capDrop;
      if (sec.devices.length) config.devices = sec.devices;
      Object.assign(config, security);
      const dir = join(this.root, id);
      await mkdir(dir, { mode: 0o700 });
      try {
        await prepareRootfs(this.s, id, image);
        await writeConfig(dir, config);
        await writeState(dir, newState());
      } catch (e) {
        await removeRootfs(this.s, id).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
        throw e;
      }
      this.byId.set(id, { config, state: newState(), dir, pid1: 0, execs: 0, exited: [] });
      // the main session exists from create on, so a client can attach before start
      this.mainSession(this.byId.get(id)!);
      return { id, name, warnings: [] };
    });
  }

  async start(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.config.id, async () => {
      if (c.state.status === 'running') return;
      if (c.state.status === 'removing') throw new SbxError('failed_precondition', `start container ${c.config.name}: it is being removed`);
      const rootfs = await rootfsOf(this.s, c.config.id);
      const session = c.state.status === 'created' && c.session && c.session.state === 'created' ? c.session : this.mainSession(c, true);
      const { spec, proc } = await this.specs(c, rootfs, c.config.tty, c.config.openStdin, c.config.env, c.config.workdir, c.config.user,
        [...c.config.entrypoint, ...c.config.cmd], c.config.consoleSize);
      if (c.config.init) spec.init = true;
      const task = await this.runtime.start(spec, proc).catch((e) => { throw SbxError.wrap(e, `start container ${c.config.name}`, 'unavailable'); });
      c.pid1 = task.pid1;
      session.bind(task.process);
      if (c.config.ports?.length && !task.failed) {
        try {
          c.unpublish = await publishPorts(c.config.ports, task.pid1);
        } catch (e) {
          try { process.kill(task.pid1, 'SIGKILL'); } catch { /* gone */ }
          await session.waitExit();
          await this.runtime.cleanup(c.config.id).catch(() => undefined);
          throw e;
        }
      }
      c.state = { ...c.state, status: 'running', pid: task.pid1, startedAt: new Date().toISOString(), finishedAt: ZERO_TIME, exitCode: 0, error: '', oomKilled: false };
      await writeState(c.dir, c.state);
      void this.s.changes?.started(c.config.id).catch((err) => this.s.log.warn('change journal', { id: c.config.id, error: String(err) }));
      const exited = session.waitExit().then((e) => this.onExit(c, e));
      if (task.failed) {
        await exited;
        const code = task.failed.code === 'internal' ? 'unavailable' : task.failed.code;
        throw new SbxError(code, `start container ${c.config.name}: ${task.failed.message}`);
      }
    });
  }

  private async onExit(c: Container, e: ExitInfo): Promise<void> {
    c.state = {
      ...c.state, status: c.state.status === 'removing' ? 'removing' : 'exited', pid: 0, finishedAt: e.at, exitCode: e.status,
      error: e.error?.message ?? '', oomKilled: e.oomKilled,
    };
    c.pid1 = 0;
    await c.unpublish?.().catch(() => undefined);
    delete c.unpublish;
    await this.runtime.cleanup(c.config.id).catch((err) => this.s.log.warn('cgroup cleanup', { id: c.config.id, error: String(err) }));
    if (this.byId.has(c.config.id)) await writeState(c.dir, c.state).catch(() => undefined);
    // The journal's last rescan before anyone hears of the exit: `sbx run` then `sbx events` sees it all.
    await this.s.changes?.exited(c.config.id).catch((err) => this.s.log.warn('change journal', { id: c.config.id, error: String(err) }));
    for (const w of c.exited.splice(0)) w(c.state);
    // outside of start()'s lock, which may be waiting for this exit
    if (c.config.autoRemove && this.byId.has(c.config.id)) {
      setImmediate(() => { void this.remove(c.config.id, true).catch((err) => this.s.log.warn('auto-remove', { id: c.config.id, error: String(err) })); });
    }
  }

  async stop(ref: string, timeout = 10): Promise<void> {
    const c = this.get(ref);
    if (c.state.status !== 'running' || !c.session) return;
    const done = c.session.waitExit();
    this.signal(c, c.config.stopSignal);
    const t = await Promise.race([done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeout * 1000))]);
    if (!t) { this.signal(c, 'SIGKILL'); await done; }
    await new Promise((r) => setImmediate(r));
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.get(ref);
    const sig = normalizeSignal(signal);
    if (!sig) throw new SbxError('invalid_argument', `kill container ${c.config.name}: invalid signal ${JSON.stringify(signal)}`);
    if (c.state.status !== 'running') throw new SbxError('failed_precondition', `kill container ${c.config.name}: container is not running`);
    this.signal(c, sig);
  }

  private signal(c: Container, sig: string): void {
    if (!c.pid1) return;
    try { process.kill(c.pid1, SIGNALS[sig] ?? sig); } catch { /* already gone */ }
  }

  async wait(ref: string): Promise<WaitResult> {
    const c = this.get(ref);
    const st = c.state.status === 'exited' ? c.state : await new Promise<ContainerStateRecord>((r) => c.exited.push(r));
    const res: WaitResult = { StatusCode: st.exitCode };
    if (st.error) res.Error = { Message: st.error };
    return res;
  }

  async remove(ref: string, force = false): Promise<void> {
    const c = this.get(ref);
    if (c.state.status === 'running') {
      if (!force) throw new SbxError('failed_precondition', `remove container ${c.config.name}: container is running: stop the container before removing or force remove`);
      const done = c.session!.waitExit();
      c.state.status = 'removing';
      this.signal(c, 'SIGKILL');
      await done;
      await new Promise((r) => setImmediate(r));
    }
    await this.lock.run(c.config.id, async () => {
      if (!this.byId.has(c.config.id)) return;
      this.byId.delete(c.config.id);
      c.log?.close();
      const main = c.session;
      // keep the session while a client is still reading its last output, and a little longer
      if (main) void main.drained().then(() => setTimeout(() => { if (this.sessions.get(main.id) === main) this.sessions.delete(main.id); }, 60_000).unref());
      await this.runtime.cleanup(c.config.id).catch(() => undefined);
      await removeRootfs(this.s, c.config.id);
      await rm(c.dir, { recursive: true, force: true });
    });
  }

  list(all = false): ContainerSummary[] {
    return [...this.byId.values()]
      .filter((c) => all || c.state.status === 'running')
      .sort((a, b) => b.config.created.localeCompare(a.config.created))
      .map((c) => {
        const row: ContainerSummary = {
          id: c.config.id, name: c.config.name, image: c.config.image, imageId: c.config.imageId,
          command: [...c.config.entrypoint, ...c.config.cmd].join(' '), created: c.config.created,
          state: c.state.status, status: statusText(c.state),
        };
        if (c.state.status === 'exited') row.exitCode = c.state.exitCode;
        if (c.config.ports?.length) row.ports = c.config.ports;
        return row;
      });
  }

  async inspect(ref: string): Promise<ContainerInspect> {
    const c = this.get(ref);
    const cfg = c.config;
    const args = [...cfg.entrypoint, ...cfg.cmd];
    const out: ContainerInspect = {
      Id: cfg.id, Name: `/${cfg.name}`, Created: cfg.created, Path: args[0] ?? '', Args: args.slice(1), Image: cfg.imageId,
      State: {
        Status: c.state.status, Running: c.state.status === 'running', Paused: false, OOMKilled: c.state.oomKilled,
        Pid: c.state.pid, ExitCode: c.state.exitCode, Error: c.state.error, StartedAt: c.state.startedAt, FinishedAt: c.state.finishedAt,
      },
      Config: {
        Image: cfg.image, Hostname: cfg.hostname, User: cfg.user, Env: cfg.env, Cmd: cfg.cmd,
        Entrypoint: cfg.entrypoint.length ? cfg.entrypoint : null, WorkingDir: cfg.workdir, Tty: cfg.tty, OpenStdin: cfg.openStdin,
      },
      HostConfig: { NetworkMode: cfg.network, Memory: cfg.memory, PidsLimit: cfg.pidsLimit, Init: cfg.init, AutoRemove: cfg.autoRemove, PortBindings: cfg.ports ?? [],
        Privileged: !!cfg.privileged, CapAdd: cfg.capAdd ?? null, CapDrop: cfg.capDrop ?? null,
        Devices: (cfg.devices ?? []).map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.cgroupPermissions })),
        SecurityOpt: cfg.securityOpt ?? null,
      },
    };
    try {
      const r = await rootfsOf(this.s, cfg.id);
      const data: Record<string, string> = { UpperDir: r.upperdir, LowerDir: r.lowerdirs.join(':') };
      if (r.workdir) data.WorkDir = r.workdir;
      out.GraphDriver = { Name: r.driver, Data: data };
    } catch { /* no rootfs */ }
    return out;
  }

  /** The log as records (protocol encodeLogRecord); follow streams until the container stops. */
  logs(ref: string, opts: { follow?: boolean; tail?: number }): Readable {
    const c = this.get(ref);
    const path = logPath(c.dir);
    const out = new Readable({ read() { /* pushed */ } });
    const tail = opts.tail ?? -1;
    const size = c.log ? c.log.size() : (existsSync(path) ? Number(readFileSync(path).length) : 0);
    const live: Uint8Array[] = [];
    let replayed = false;
    const follow = opts.follow && c.state.status === 'running' && c.log;
    const unsubscribe = follow ? c.log!.subscribe((rec) => { if (replayed) out.push(rec); else live.push(rec); }) : undefined;
    void readLog(path, size, tail).then((buf) => {
      if (buf.length) out.push(buf);
      for (const r of live.splice(0)) out.push(r);
      replayed = true;
      if (!follow) { out.push(null); return; }
      void c.session!.waitExit().then(() => setImmediate(() => { unsubscribe?.(); out.push(null); }));
    }, (e) => out.destroy(e));
    out.on('close', () => unsubscribe?.());
    return out;
  }

  async exec(req: ExecRequest): Promise<{ session: string }> {
    const c = this.get(req.id);
    if (c.state.status !== 'running' || !c.pid1) throw new SbxError('failed_precondition', `exec in container ${c.config.name}: container is not running`);
    if (!Array.isArray(req.cmd) || req.cmd.length === 0 || req.cmd.some((a) => typeof a !== 'string')) {
      throw new SbxError('invalid_argument', 'exec: a command is required');
    }
    const rootfs = await rootfsOf(this.s, c.config.id);
    const { spec, proc } = await this.specs(c, rootfs, !!req.tty, !!req.openStdin, mergeEnv(c.config.env, req.env ?? []),
      req.workdir ?? c.config.workdir, req.user ?? c.config.user, req.cmd, req.consoleSize, true);
    const sid = `${c.config.id}.${++c.execs}`;
    const session: Session = new Session({
      id: sid, containerId: c.config.id, tty: proc.tty, ...(proc.size ? { size: proc.size } : {}),
      kill: (sig) => p.kill(sig),
    });
    const p = await this.runtime.exec(spec, c.pid1, proc);
    session.bind(p);
    this.sessions.set(sid, session);
    void session.drained().then(() => setTimeout(() => this.sessions.delete(sid), EXEC_RETENTION_MS).unref());
    return { session: sid };
  }

  private mainSession(c: Container, fresh = false): Session {
    if (c.session && !fresh) return c.session;
    c.session?.closeAll(1000, 'container restarted');
    c.log?.close();
    c.log = new LogWriter(logPath(c.dir));
    const log = c.log;
    const se = new Session({
      id: c.config.id, containerId: c.config.id, tty: c.config.tty,
      ...(c.config.consoleSize ? { size: c.config.consoleSize } : {}),
      kill: (sig) => this.signal(c, sig),
      onOutput: (stream, data) => log.append(stream, data),
    });
    c.session = se;
    this.sessions.set(c.config.id, se);
    return se;
  }

  private async specs(c: Container, rootfs: Rootfs, tty: boolean, stdin: boolean, env: string[], workdir: string, user: string,
    args: string[], size: ContainerConfigRecord['consoleSize'], forExec = false): Promise<{ spec: ContainerSpec; proc: ProcessSpec }> {
    const u = await resolveUser(rootfs, user);
    const full = [...env];
    const has = (k: string): boolean => full.some((e) => e.startsWith(`${k}=`));
    if (!has('PATH')) full.unshift(DEFAULT_PATH);
    if (!forExec && !has('HOSTNAME')) full.push(`HOSTNAME=${c.config.hostname}`);
    if (tty && !has('TERM')) full.push('TERM=xterm');
    if (!has('HOME')) full.push(`HOME=${u.home}`);
    const spec: ContainerSpec = {
      id: c.config.id, stateDir: c.dir, rootfs: rootfs.mounts, hostname: c.config.hostname, network: c.config.network, init: false,
      ...(c.config.memory ? { memory: c.config.memory } : {}), ...(c.config.pidsLimit ? { pidsLimit: c.config.pidsLimit } : {}),
      ...(c.config.privileged ? { privileged: true } : {}), ...(c.config.capAdd ? { capAdd: c.config.capAdd } : {}),
      ...(c.config.capDrop ? { capDrop: c.config.capDrop } : {}), ...(c.config.devices ? { devices: c.config.devices } : {}),
      seccomp: seccompOf(c.config),
    };
    const proc: ProcessSpec = { args, env: full, cwd: workdir || '/', user: u, tty, stdin, ...(size ? { size } : {}) };
    return { spec, proc };
  }
}

function isOurs(pid: number, dir: string): boolean {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir); } catch { return false; }
}

function validateCreate(req: CreateContainerRequest): void {
  if (typeof req.image !== 'string' || !req.image) throw new SbxError('invalid_argument', 'create container: an image is required');
  if (req.name !== undefined && !NAME_RE.test(req.name)) {
    throw new SbxError('invalid_argument', `create container: invalid container name "${req.name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  for (const e of req.env ?? []) {
    if (typeof e !== 'string' || !/^[^=\0]+=/.test(e)) throw new SbxError('invalid_argument', `create container: invalid environment variable ${JSON.stringify(e)} (want KEY=VALUE)`);
  }
  if (req.workdir !== undefined && !req.workdir.startsWith('/')) throw new SbxError('invalid_argument', `create container: the working directory "${req.workdir}" is invalid, it needs to be an absolute path`);
  if (req.network !== undefined && req.network !== 'none' && req.network !== 'host') throw new SbxError('invalid_argument', `create container: network ${JSON.stringify(req.network)}: sbx supports none and host`);
  if (req.memory !== undefined && (!Number.isSafeInteger(req.memory) || req.memory < 6 * 1024 * 1024)) throw new SbxError('invalid_argument', 'create container: minimum memory limit allowed is 6MB');
  if (req.pidsLimit !== undefined && (!Number.isSafeInteger(req.pidsLimit) || req.pidsLimit < 1)) throw new SbxError('invalid_argument', 'create container: the pids limit must be a positive integer');
  if (req.user !== undefined && !/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(req.user)) throw new SbxError('invalid_argument', `create container: invalid user ${JSON.stringify(req.user)} (want UID[:GID] or NAME[:GROUP])`);
  for (const a of [...(req.cmd ?? []), ...(req.entrypoint ?? [])]) if (typeof a !== 'string') throw new SbxError('invalid_argument', 'create container: command arguments must be strings');
  for (const p of req.ports ?? []) {
    const ok = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
    if (!p || !ok(p.hostPort) || !ok(p.containerPort) || typeof p.hostIp !== 'string' || !/^[0-9a-fA-F.:]+$/.test(p.hostIp)) {
      throw new SbxError('invalid_argument', `create container: invalid port mapping ${JSON.stringify(p)}`);
    }
  }
  if (req.network === 'host' && req.ports?.length) throw new SbxError('invalid_argument', 'create container: published ports are discarded when using host network mode');
  if (req.hostname !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(req.hostname)) throw new SbxError('invalid_argument', `create container: invalid hostname ${JSON.stringify(req.hostname)}`);
}

function mergeEnv(base: string[], over: string[]): string[] {
  const out = [...base];
  for (const e of over) {
    const k = e.slice(0, e.indexOf('=') + 1);
    const i = out.findIndex((x) => x.startsWith(k));
    if (i >= 0) out[i] = e; else out.push(e);
  }
  return out;
}

/** The image's /etc/passwd or /etc/group, read from the layers (top first) without mounting. */
async function readEtc(rootfs: Rootfs, file: string): Promise<string> {
  for (const d of [rootfs.upperdir, ...rootfs.lowerdirs]) {
    // Beneath the layer: a container's /etc/passwd symlinked to a host file is not read.
    const r = await new DirView(d).readFile(`/etc/${file}`, 1 << 20).catch(() => undefined);
    if (r?.data) return r.data.toString('utf8');
  }
  return '';
}

/** docker's -u: UID[:GID] or NAME[:GROUP]; names from the image's /etc/passwd and /etc/group. */
async function resolveUser(rootfs: Rootfs, spec: string): Promise<User & { home: string }> {
  const passwd = (await readEtc(rootfs, 'passwd')).split('\n').map((l) => l.split(':'));
  const [u = '', g] = (spec || '0').split(':');
  let uid: number; let gid: number; let home = '/';
  const byName = passwd.find((f) => f[0] === u);
  const byId = /^\d+$/.test(u) ? passwd.find((f) => f[2] === u) : undefined;
  const entry = byName ?? byId;
  if (/^\d+$/.test(u)) uid = Number(u);
  else if (byName) uid = Number(byName[2]);
  else throw new SbxError('invalid_argument', `start container: unable to find user ${u}: no matching entries in passwd file`);
  gid = entry ? Number(entry[3]) : 0;
  if (entry?.[5]) home = entry[5];
  else if (uid === 0) home = '/root';
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const grp = (await readEtc(rootfs, 'group')).split('\n').map((l) => l.split(':')).find((f) => f[0] === g);
      if (!grp) throw new SbxError('invalid_argument', `start container: unable to find group ${g}: no matching entries in group file`);
      gid = Number(grp[2]);
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new SbxError('invalid_argument', `start container: uid/gid out of range in ${spec}`);
  return { uid, gid, groups: [], home };
}

function statusText(s: ContainerStateRecord): string {
  const ago = (iso: string): string => humanDuration((Date.now() - Date.parse(iso)) / 1000);
  if (s.status === 'running') return `Up ${ago(s.startedAt)}`;
  if (s.status === 'exited') return `Exited (${s.exitCode}) ${ago(s.finishedAt)} ago`;
  if (s.status === 'removing') return 'Removal In Progress';
  return 'Created';
}

