/**
 * A process over a terminal from the container's own devpts (runc's console socket): the daemon
 * spawns sbx-init with one end of a socketpair as fd 3 (`--console-fd 3`); inside the container
 * sbx-init opens /dev/pts/ptmx, makes the slave the process's controlling terminal and sends
 * the master back with SCM_RIGHTS (tty.c). The daemon reads and writes the master; resize is
 * TIOCSWINSZ on it (→ SIGWINCH inside). The addon (native/console.c) does the fd passing and
 * the ioctl, which Node cannot.
 *
 * Exit comes once, after the master has reported EIO (every slave closed, all output read), or a
 * moment after the supervisor exited when a background process keeps the slave open.
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ReadStream } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { SbxError, type ExitInfo, type Size } from '../../protocol/index.js';
import type { OutputName, Process } from './runtime.js';

interface ConsoleAddon {
  pair(): [number, number];
  receive(fd: number, timeoutMs: number): Promise<{ fd: number; name: string }>;
  resize(fd: number, cols: number, rows: number): void;
}
export const CONSOLE_ADDON = join(dirname(fileURLToPath(import.meta.url)), 'sbx-console.node');
let addon: ConsoleAddon | undefined;
function consoleAddon(): ConsoleAddon {
  try {
    return (addon ??= createRequire(import.meta.url)(CONSOLE_ADDON) as ConsoleAddon);
  } catch (e) {
    throw new SbxError('unavailable', `container terminal: ${CONSOLE_ADDON} cannot be loaded (run "npm run build"): ${(e as Error).message}`);
  }
}

/** How long sbx-init may take to set up the container before its terminal arrives. */
const RECEIVE_TIMEOUT_MS = 30_000;
/** node-pty's rule: after the process exited, wait this long for the pty to drain and close. */
const DRAIN_MS = 200;

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
  const [ours, theirs] = lib.pair();
  const child = spawn(s.file, s.args, { env: s.env, stdio: ['ignore', 'pipe', 'pipe', theirs] });
  closeSync(theirs);

  let dataCb: ((stream: OutputName, data: Buffer) => void) | undefined;
  const early: Buffer[] = [];
  let exitCb: ((e: ExitInfo) => void) | undefined;
  let exited: ExitInfo | undefined;
  let master: ReadStream | undefined;
  let masterFd = -1;
  let size = s.size;
  let paused = false;
  const pending: Buffer[] = [];
  const emit = (b: Buffer): void => { if (dataCb) dataCb('stdout', b); else early.push(b); };
  // sbx-init's own messages (its failures go to the status file; this is for anything else)
  child.stdout!.on('data', emit);
  child.stderr!.on('data', emit);

  let status: [number | null, string | null] | undefined;
  let drained = false;
  let received = false;
  const maybeFinish = (): void => {
    if (!status || !drained || !received || exited) return;
    void s.finish(...status).then((e) => { exited = e; exitCb?.(e); });
  };
  const closeMaster = (): void => {
    if (drained) return;
    drained = true;
    master?.destroy();
    maybeFinish();
  };

  lib.receive(ours, RECEIVE_TIMEOUT_MS).then(({ fd }) => {
    masterFd = fd;
    master = new ReadStream(fd);
    master.on('data', (d: Buffer) => emit(d));
    // EIO: every slave is closed and everything was read
    master.on('error', closeMaster);
    master.on('close', closeMaster);
    if (paused) master.pause();
    try { lib.resize(fd, size.cols, size.rows); } catch { /* exited */ }
    for (const b of pending.splice(0)) master.write(b);
  }, () => {
    // sbx-init failed (or died) before the terminal was made: its exit tells why
    drained = true;
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
  child.on('error', () => { status = [255, null]; drained = true; maybeFinish(); });

  const write = (data: Uint8Array): Promise<void> | void => {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
    // before the terminal arrives, input waits in order behind it
    if (!master) { pending.push(b); return; }
    if (master.destroyed) return;
    // nothing queued on the stream: one write(2) to the (non-blocking) master, without the
    // stream's machinery, as a keystroke's echo waits for it; what the pty does not take at once
    // (EAGAIN, a partial write) goes through the stream, which keeps the order
    let done = 0;
    if (master.writableLength === 0) {
      try { done = writeSync(masterFd, b); } catch { /* EAGAIN, or the terminal is closing: the stream says */ }
      if (done === b.length) return;
    }
    const rest = done > 0 ? b.subarray(done) : b;
    return new Promise((resolve) => { master!.write(rest, () => resolve()); });
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
    pause() { paused = true; master?.pause(); },
    resume() { paused = false; master?.resume(); },
    onData(cb) { dataCb = cb; for (const b of early.splice(0)) cb('stdout', b); },
    onExit(cb) { exitCb = cb; if (exited) cb(exited); },
  };
}

const NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};
export function signalName(n: number): string { return NAMES[n] ?? `SIG${n}`; }
