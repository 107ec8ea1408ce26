/**
 * Runtime on Linux: util-linux `unshare` creates the namespaces and execs sbx-init (init.c,
 * compiled static at build time), which forks the container's PID 1, mounts its root inside the
 * new mount namespace, pivot_roots, cuts privileges and execs the command. exec() runs
 * `sbx-init join`, which enters the namespaces of PID 1 the way nsenter does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPABILITIES, SIGNALS, SbxError, effectiveCapabilities, type ExitInfo } from '../../protocol/index.js';
import { hostCgroups, type Cgroups, type DeviceRule } from './cgroups.js';
import { signalName, spawnPty } from './pty.js';
import { seccompFile } from './seccomp.js';
import type { ContainerSpec, OutputName, Process, ProcessSpec, Runtime, Task } from './runtime.js';

export const INIT_BINARY = join(dirname(fileURLToPath(import.meta.url)), 'sbx-init');
const UNSHARE = existsSync('/usr/bin/unshare') ? '/usr/bin/unshare' : 'unshare';
const NSENTER = existsSync('/usr/bin/nsenter') ? '/usr/bin/nsenter' : 'nsenter';
const PRLIMIT = existsSync('/usr/bin/prlimit') ? '/usr/bin/prlimit' : 'prlimit';
const TINI = ['/usr/bin/tini-static', '/usr/bin/tini'].find((p) => existsSync(p));

/** docker's default device rules: mknod of anything (it cannot be opened), and null zero full
 * random urandom tty console ptmx and the ptys (136:*) read-write. */
const DEFAULT_DEVICE_RULES: DeviceRule[] = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm',
  'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm'];

export function createLinuxRuntime(cg: Cgroups = hostCgroups()): Runtime {
  if (!existsSync(INIT_BINARY)) {
    throw new SbxError('unavailable', `container runtime: ${INIT_BINARY} is missing (run "npm run build"; it needs gcc)`);
  }
  let execSeq = 0;
  return {
    async start(spec, proc) {
      const cgroups = await cg.create(spec.id, { ...spec, devices: deviceRules(spec) });
      await writeEtcFiles(spec);
      const root = join(spec.stateDir, 'rootfs');
      const { mkdir, rm } = await import('node:fs/promises');
      await mkdir(root, { recursive: true });
      for (const f of ['status', 'exit', 'pid']) await rm(join(spec.stateDir, f), { force: true });
      if (spec.rootfs.length !== 1) throw new SbxError('internal', `start container ${spec.id}: expected one root mount, got ${spec.rootfs.length}`);
      const m = spec.rootfs[0]!;
      const type = m.type === 'bind' ? 'bind' : m.type;
      const args = [
        '--mount', '--pid', '--uts', '--ipc', ...(spec.network === 'host' || spec.netnsOf ? [] : ['--net']), '--',
        INIT_BINARY, 'create',
        '--status', join(spec.stateDir, 'status'), '--exit-file', join(spec.stateDir, 'exit'), '--pid-file', join(spec.stateDir, 'pid'),
        '--root', root, '--rootfs', type, m.source, m.options.join(','), ...(m.cwd ? ['--rootfs-cwd', m.cwd] : []),
        '--hostname', spec.hostname,
        '--bind', join(spec.stateDir, 'hosts'), '/etc/hosts',
        '--bind', join(spec.stateDir, 'resolv.conf'), '/etc/resolv.conf',
        '--bind', join(spec.stateDir, 'hostname'), '/etc/hostname',
        ...(spec.network === 'host' || spec.netnsOf ? [] : ['--lo-up']),
        ...(spec.net ? ['--net', spec.net.netns, spec.net.hostIf, spec.net.bridge, spec.net.address, String(spec.net.prefix), spec.net.gateway, String(spec.net.mtu), spec.net.mac] : []),
        ...(spec.privileged ? ['--privileged'] : []),
        ...(spec.readonlyRootfs ? ['--read-only'] : []), ...(spec.shmSize ? ['--shm-size', String(spec.shmSize)] : []),
        ...(spec.devices ?? []).flatMap((d) => ['--device', d.pathOnHost, d.pathInContainer]),
        ...(spec.mounts ?? []).flatMap((m) => ['--volume', m.source, m.target, m.readonly ? 'ro' : 'rw']),
        ...(spec.tmpfs ?? []).flatMap((t) => ['--tmpfs', t.target, t.flags.toString(16), t.data]),
        ...cgroups.flatMap((d) => ['--cgroup', d, '--cgroup-view', d, cg.viewName(d)]),
        ...processArgs(spec, proc), ...await seccompArgs(spec),
        ...(spec.init ? ['--init-bin', tiniPath()] : []),
        '--', ...(spec.init ? ['/dev/init', '--'] : []), ...proc.args,
      ];
      const status = join(spec.stateDir, 'status');
      const [file, argv] = spec.netnsOf ? withLimits(spec, NSENTER, [`--net=${spec.netnsOf}`, '--', UNSHARE, ...args]) : withLimits(spec, UNSHARE, args);
      const p = launch(file, argv, proc, (code, sig) => finish(cg, spec.id, status, code, sig));
      const pid1 = await waitPid1(join(spec.stateDir, 'pid'), p);
      const failed = await statusExit(status);
      const task: Task = { process: p, pid1 };
      if (failed?.error) task.failed = { ...failed.error, status: failed.status };
      return task;
    },

    async exec(spec, pid1, proc) {
      if (!this.alive(pid1)) throw new SbxError('failed_precondition', `exec in container ${spec.id}: it is not running`);
      const status = join(spec.stateDir, `status-exec-${++execSeq}`);
      const args = [
        'join', '--pid', String(pid1), '--status', status,
        ...cg.dirs(spec.id).flatMap((d) => ['--cgroup', d]),
        ...processArgs(spec, proc), ...await seccompArgs(spec), '--', ...proc.args,
      ];
      const [file, argv] = withLimits(spec, INIT_BINARY, args);
      return launch(file, argv, proc, async (code, sig) => {
        const e = await finish(cg, spec.id, status, code, sig);
        const { rm } = await import('node:fs/promises');
        await rm(status, { force: true });
        return e;
      });
    },

    freeze: (id) => cg.freeze(id),
    thaw: (id) => cg.thaw(id),
    async pids(id) {
      const dir = cg.dirs(id)[0];
      if (!dir) return [];
      const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map(Number);
    },
    alive(pid) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return !/^\d+ \(.*\) [ZX]/s.test(stat);
      } catch { return false; }
    },
    async recordedExit(stateDir) {
      let raw: string;
      try { raw = (await readFile(join(stateDir, 'exit'), 'utf8')).trim(); } catch { return undefined; }
      if (!raw) return undefined;
      const [status, sig] = raw.split(' ').map(Number);
      const e = await statusExit(join(stateDir, 'status'));
      if (e) return e;
      const signal = sig ? signalName(sig) : null;
      return { code: signal ? null : status!, signal, status: status!, oomKilled: false, at: new Date().toISOString() };
    },
    cleanup: (id) => cg.remove(id),
    oomKilled: (id) => cg.oomKilled(id),
    async update(id, limits) { await cg.update(id, limits, await this.pids(id)); },
    stats: (id) => cg.stats(id),
  };
}

function tiniPath(): string {
  if (!TINI) throw new SbxError('unavailable', 'run with --init: tini-static is not installed (apt-get install tini)');
  return TINI;
}

/** --ulimit: util-linux prlimit sets the rlimits, then execs the launcher (its children inherit them). */
function withLimits(spec: ContainerSpec, file: string, args: readonly string[]): [string, string[]] {
  if (!spec.ulimits?.length) return [file, [...args]];
  const v = (n: number): string => (n < 0 ? 'unlimited' : String(n));
  return [PRLIMIT, [...spec.ulimits.map((u) => `--${u.name}=${v(u.soft)}:${v(u.hard)}`), '--', file, ...args]];
}

function processArgs(spec: ContainerSpec, proc: ProcessSpec): string[] {
  const size = proc.size ?? { cols: 80, rows: 24 };
  return ['--cwd', proc.cwd, '--uid', String(proc.user.uid), '--gid', String(proc.user.gid),
    '--groups', proc.user.groups.join(','), '--caps', capMask(spec),
    // the terminal is made inside the container and its master sent back over fd 3 (pty.ts)
    ...(proc.tty ? ['--console-fd', '3', '--tty', String(size.cols), String(size.rows)] : [])];
}

/** The bounding set sbx-init keeps, as hex: docker's defaults loosened by the spec. */
function capMask(spec: ContainerSpec): string {
  const caps = effectiveCapabilities(spec.capAdd, spec.capDrop, spec.privileged);
  return caps.reduce((m, c) => m | (1n << BigInt(CAPABILITIES.indexOf(c))), 0n).toString(16);
}

/** The container's devices cgroup allow list: everything when privileged, else docker's plus --device. */
function deviceRules(spec: ContainerSpec): DeviceRule[] {
  if (spec.privileged) return ['a'];
  return [...DEFAULT_DEVICE_RULES, ...(spec.devices ?? []).map((d) => {
    let st;
    try { st = statSync(d.pathOnHost); } catch (e) { throw new SbxError('invalid_argument', `device ${d.pathOnHost}: ${(e as Error).message}`); }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new SbxError('invalid_argument', `device ${d.pathOnHost}: not a device node`);
    // glibc's major()/minor() for a 32-bit dev_t (what stat gives a device node here)
    const major = ((st.rdev >> 8) & 0xfff), minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
    return `${st.isBlockDevice() ? 'b' : 'c'} ${major}:${minor} ${d.cgroupPermissions}`;
  })];
}

/** docker's rule: a privileged container has no seccomp filter. */
async function seccompArgs(spec: ContainerSpec): Promise<string[]> {
  const file = await seccompFile(spec.privileged ? null : spec.seccomp, INIT_BINARY, effectiveCapabilities(spec.capAdd, spec.capDrop, spec.privileged));
  return file ? ['--seccomp', file] : [];
}

async function writeEtcFiles(spec: ContainerSpec): Promise<void> {
  const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters',
    `${spec.net?.address ?? '127.0.1.1'}\t${spec.hostname}`, ...(spec.hosts ?? [])];
  await writeFile(join(spec.stateDir, 'hosts'), hosts.join('\n') + '\n');
  let resolv = '';
  try { resolv = await readFile('/etc/resolv.conf', 'utf8'); } catch { /* none */ }
  // a private network namespace cannot reach the host's loopback resolvers
  if (spec.network !== 'host') resolv = resolv.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l)).join('\n');
  if (spec.dns) resolv = resolvConf(resolv, spec.dns);
  await writeFile(join(spec.stateDir, 'resolv.conf'), resolv);
  await writeFile(join(spec.stateDir, 'hostname'), spec.hostname + '\n');
}

/** docker's rule: each of --dns, --dns-search, --dns-option replaces the host's lines of its kind. */
function resolvConf(host: string, dns: NonNullable<ContainerSpec['dns']>): string {
  const lines = host.split('\n').filter((l) => l.trim() && !/^\s*#/.test(l));
  const keep = (kind: string, mine: string[], line: (v: string) => string): string[] =>
    mine.length ? mine.map(line) : lines.filter((l) => new RegExp(`^\\s*${kind}\\s`).test(l));
  return [
    ...keep('search', dns.search.length ? [dns.search.join(' ')] : [], (v) => `search ${v}`),
    ...keep('nameserver', dns.servers, (v) => `nameserver ${v}`),
    ...keep('options', dns.options.length ? [dns.options.join(' ')] : [], (v) => `options ${v}`),
  ].join('\n') + '\n';
}

async function waitPid1(pidFile: string, p: Process & { exited(): boolean }): Promise<number> {
  for (let i = 0; i < 2500; i++) {
    try {
      const n = Number((await readFile(pidFile, 'utf8')).trim());
      if (n > 0) return n;
    } catch { /* not yet */ }
    if (p.exited()) return 0;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new SbxError('unavailable', 'start container: its first process did not appear within 5s');
}

async function statusExit(statusFile: string): Promise<ExitInfo | undefined> {
  let text = '';
  try { text = (await readFile(statusFile, 'utf8')).trim(); } catch { return undefined; }
  if (!text) return undefined;
  const m = /^(\d+) (.*)$/s.exec(text);
  if (!m) return undefined;
  const status = Number(m[1]);
  const code = status === 127 ? 'command_not_found' : status === 126 ? 'cannot_execute' : 'internal';
  return { code: status, signal: null, status, oomKilled: false, at: new Date().toISOString(), error: { code, message: m[2]! } };
}

async function finish(cg: Cgroups, id: string, statusFile: string, code: number | null, signal: string | null): Promise<ExitInfo> {
  const failed = await statusExit(statusFile);
  const oomKilled = await cg.oomKilled(id);
  if (failed) return { ...failed, oomKilled };
  const sig = signal && SIGNALS[signal] ? signal : null;
  const status = sig ? 128 + SIGNALS[sig]! : (code ?? 255);
  return { code: sig ? null : status, signal: sig, status, oomKilled, at: new Date().toISOString() };
}

/** Spawn `file args` with the container's environment, over a pty or pipes. */
function launch(file: string, args: string[], proc: ProcessSpec,
  done: (code: number | null, signal: string | null) => Promise<ExitInfo>): Process & { exited(): boolean } {
  const env: Record<string, string> = {};
  for (const kv of proc.env) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  let exited = false;
  if (proc.tty) {
    const p = spawnPty({ file, args, env, size: proc.size ?? { cols: 80, rows: 24 }, finish: (c, s) => { exited = true; return done(c, s); } });
    return Object.assign(p, { exited: () => exited });
  }
  const child: ChildProcess = spawn(file, args, { env, stdio: [proc.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  return pipeProcess(child, done, () => { exited = true; }, () => exited);
}

function pipeProcess(child: ChildProcess, done: (code: number | null, signal: string | null) => Promise<ExitInfo>,
  markExited: () => void, isExited: () => boolean): Process & { exited(): boolean } {
  let dataCb: ((stream: OutputName, data: Buffer) => void) | undefined;
  const early: [OutputName, Buffer][] = [];
  let exitCb: ((e: ExitInfo) => void) | undefined;
  let result: ExitInfo | undefined;
  const emit = (s: OutputName) => (d: Buffer): void => { if (dataCb) dataCb(s, d); else early.push([s, d]); };
  child.stdout!.on('data', emit('stdout'));
  child.stderr!.on('data', emit('stderr'));
  child.stdin?.on('error', () => { /* the process closed its stdin: EPIPE is not our error */ });
  let finished = false;
  const end = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (finished) return;
    finished = true;
    markExited();
    void done(code, signal).then((e) => { result = e; exitCb?.(e); });
  };
  // 'close' comes after both pipes hit EOF; a background process that keeps them open must not
  // hold the exit back forever, so after 'exit' we give the pipes a moment, then stop waiting.
  child.on('close', (code, signal) => end(code, signal));
  child.on('exit', (code, signal) => {
    setTimeout(() => { child.stdout!.destroy(); child.stderr!.destroy(); end(code, signal); }, 1000).unref();
  });
  child.on('error', () => end(255, null));
  return {
    pid: child.pid ?? 0,
    tty: false,
    write(data) {
      return new Promise((resolve) => {
        if (!child.stdin || child.stdin.destroyed || child.stdin.writableEnded) { resolve(); return; }
        child.stdin.write(data, () => resolve());
      });
    },
    closeStdin() { child.stdin?.end(); },
    resize() { /* no terminal */ },
    kill(signal) { try { child.kill(signal as NodeJS.Signals); } catch { /* gone */ } },
    pause() { child.stdout!.pause(); child.stderr!.pause(); },
    resume() { child.stdout!.resume(); child.stderr!.resume(); },
    onData(cb) { dataCb = cb; for (const [s, b] of early.splice(0)) cb(s, b); },
    onExit(cb) { exitCb = cb; if (result) cb(result); },
    exited: isExited,
  };
}
