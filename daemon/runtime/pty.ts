/**
 * A process over a terminal from the container's own devpts (runc's console socket): the daemon
 * spawns sbx-init with one end of a socketpair as fd 3 (`--console-fd 3`); inside the container
 * sbx-init opens /dev/pts/ptmx, makes the slave the process's controlling terminal and sends
 * the master back with SCM_RIGHTS (tty.c). The terminal relay's thread (relay.ts) then reads and
 * writes the master, and can tie it to a local client's own terminal (tie()); resize is
 * TIOCSWINSZ on it (→ SIGWINCH inside). The addon (native/) does the fd passing, the ioctl and
 * the relay, which Node cannot.
 *
 * Exit comes once, after the master has reported EIO (every slave closed, all output read), or a
 * moment after the supervisor exited when a background process keeps the slave open.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SbxError, type ExitInfo, type Size } from '../../protocol/index.js';
import { Relay } from './relay.js';
import type { OutputName, Process, TerminalTie } from './runtime.js';

export interface ConsoleAddon {
  pair(): [number, number];
  receive(fd: number, timeoutMs: number): Promise<{ fd: number; name: string }>;
  resize(fd: number, cols: number, rows: number): void;
  peer(fd: number): { pid: number; uid: number } | null;
  relayStart(): number;
  relay(op: number, id: number, a: number, b: number, bytes?: Uint8Array, c?: number): void;
}
export const CONSOLE_ADDON = join(dirname(fileURLToPath(import.meta.url)), 'sbx-console.node');
let addon: ConsoleAddon | undefined;
let relay: Relay | undefined;
function consoleAddon(): ConsoleAddon {
  try {
    return (addon ??= createRequire(import.meta.url)(CONSOLE_ADDON) as ConsoleAddon);
  } catch (e) {
    throw new SbxError('unavailable', `container terminal: ${CONSOLE_ADDON} cannot be loaded (run "npm run build"): ${(e as Error).message}`);
  }
}

/** The process at the other end of a unix socket (SO_PEERCRED); null for TCP and the like. */
export function socketPeer(fd: number): { pid: number; uid: number } | null { return consoleAddon().peer(fd); }

/** How long sbx-init may take to set up the container before its terminal arrives. */
const RECEIVE_TIMEOUT_MS = 30_000;
/** node-pty's rule: after the process exited, wait this long for the pty to drain and close. */
const DRAIN_MS = 200;
/** Input handed to the relay and not yet known written, past which the stdin queue waits. */
const INPUT_AHEAD = 64 * 1024;

export interface PtyStart {
  /** sbx-init (or unshare ... sbx-init) with `--console-fd 3 --tty COLS ROWS` among its options. */
  file: string;
  args: string[];
  env: Record<string, string>;
  size: Size;
  /** Turns the raw wait status into an ExitInfo (reads the status file for 126/127). */
  finish(code: number | null, signal: string | null): Promise<ExitInfo>;
}

export function spawnPty(s: PtyStart): Process {
  const lib = consoleAddon();
  relay ??= new Relay(lib);
  const r = relay;
  const [ours, theirs] = lib.pair();
  const child = spawn(s.file, s.args, { env: s.env, stdio: ['ignore', 'pipe', 'pipe', theirs] });
  closeSync(theirs);

  let dataCb: ((stream: OutputName, data: Buffer) => void) | undefined;
  const early: Buffer[] = [];
  let exitCb: ((e: ExitInfo) => void) | undefined;
  let exited: ExitInfo | undefined;
  let masterFd = -1;
  let size = s.size;
  let tie: TerminalTie | undefined;
  let ahead = 0;
  const drainWaiters: (() => void)[] = [];
  const emit = (b: Buffer): void => { if (dataCb) dataCb('stdout', b); else early.push(b); };

  let status: [number | null, string | null] | undefined;
  let drained = false;
  let received = false;
  const maybeFinish = (): void => {
    if (!status || !drained || !received || exited) return;
    void s.finish(...status).then((e) => { exited = e; exitCb?.(e); });
  };
  const released = (): void => { ahead = 0; for (const w of drainWaiters.splice(0)) w(); };
  const closeMaster = (): void => {
    if (drained) return;
    drained = true;
    r.close(ch);
    released();
    if (tie) { const t = tie; tie = undefined; t.untied('gone'); }
    maybeFinish();
  };
  const ch = r.open({
    data: emit,
    end: closeMaster,
    tied: () => tie?.replay() ?? Buffer.alloc(0),
    untied: (why) => { const t = tie; tie = undefined; t?.untied(why); },
    drained: released,
  });
  // sbx-init's own messages (its failures go to the status file; this is for anything else),
  // in order with the terminal's output and shown on a tied terminal too
  child.stdout!.on('data', (b: Buffer) => { if (!drained) r.inject(ch, b); else emit(b); });
  child.stderr!.on('data', (b: Buffer) => { if (!drained) r.inject(ch, b); else emit(b); });

  lib.receive(ours, RECEIVE_TIMEOUT_MS).then(({ fd }) => {
    if (drained) { closeSync(fd); return; }
    masterFd = fd;
    try { lib.resize(fd, size.cols, size.rows); } catch { /* exited */ }
    r.master(ch, fd);
  }, () => {
    // sbx-init failed (or died) before the terminal was made: its exit tells why
    closeMaster();
    if (!status) child.kill('SIGKILL');
  }).finally(() => {
    closeSync(ours);
    received = true;
    maybeFinish();
  });

  child.on('exit', (code, signal) => {
    status = [signal ? null : code, signal];
    setTimeout(closeMaster, DRAIN_MS).unref();
    maybeFinish();
  });
  child.on('error', () => { status = [255, null]; closeMaster(); maybeFinish(); });

  const write = (data: Uint8Array): Promise<void> | void => {
    if (drained) return;
    r.write(ch, data);
    ahead += data.length;
    // the relay queues what the pty does not take at once; past INPUT_AHEAD the queue waits
    if (ahead < INPUT_AHEAD) return;
    return new Promise((resolve) => { drainWaiters.push(resolve); });
  };
  return {
    pid: child.pid ?? 0,
    tty: true,
    write,
    closeStdin() { void write(Buffer.from('\x04')); },
    resize(next) {
      size = next;
      if (masterFd >= 0 && !drained) { try { lib.resize(masterFd, next.cols, next.rows); } catch { /* exited */ } }
    },
    kill(signal) { try { child.kill(signal as NodeJS.Signals); } catch { /* gone */ } },
    pause() { if (!drained) r.pause(ch); },
    resume() { if (!drained) r.resume(ch); },
    onData(cb) { dataCb = cb; for (const b of early.splice(0)) cb('stdout', b); },
    onExit(cb) { exitCb = cb; if (exited) cb(exited); },
    tie(t) {
      if (drained || tie) { t.untied('gone'); for (const fd of new Set([t.input, t.output, t.client])) closeSync(fd); return; }
      tie = t;
      r.tie(ch, t.input, t.output, t.detachKeys, t.client);
    },
    untie() {
      if (!tie) return;
      tie = undefined;
      if (!drained) r.untie(ch);
    },
  };
}

const NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};
export function signalName(n: number): string { return NAMES[n] ?? `SIG${n}`; }
