/**
 * Process over a pseudo-terminal (@lydell/node-pty: prebuilt, same API as node-pty). The pty's
 * slave is the process's controlling terminal; resize → TIOCSWINSZ → SIGWINCH inside.
 */
import { createRequire } from 'node:module';
import type { IPty } from '@lydell/node-pty';
import type { ExitInfo, Size } from '../../protocol/index.js';
import type { OutputName, Process } from './runtime.js';

const require = createRequire(import.meta.url);
type PtyModule = typeof import('@lydell/node-pty');
let ptyModule: PtyModule | undefined;
function nodePty(): PtyModule { return (ptyModule ??= require('@lydell/node-pty') as PtyModule); }

export interface PtyStart {
  file: string;
  args: string[];
  env: Record<string, string>;
  size: Size;
  /** Turns the raw wait status into an ExitInfo (reads the status file for 126/127). */
  finish(code: number | null, signal: string | null): Promise<ExitInfo>;
}

export function spawnPty(s: PtyStart): Process {
  const term: IPty = nodePty().spawn(s.file, s.args, {
    name: s.env.TERM ?? 'xterm', cols: s.size.cols, rows: s.size.rows, env: s.env, encoding: null,
  } as Parameters<PtyModule['spawn']>[2]);
  let dataCb: ((stream: OutputName, data: Buffer) => void) | undefined;
  const early: Buffer[] = [];
  let exitCb: ((e: ExitInfo) => void) | undefined;
  let exited: ExitInfo | undefined;
  term.onData((d: unknown) => {
    const b = Buffer.isBuffer(d) ? d : Buffer.from(String(d));
    if (dataCb) dataCb('stdout', b); else early.push(b);
  });
  // node-pty emits exit only after the pty's read side has closed (all output read).
  term.onExit(({ exitCode, signal }) => {
    const sig = signal ? signalName(signal) : null;
    void s.finish(sig ? null : exitCode, sig).then((e) => { exited = e; exitCb?.(e); });
  });
  return {
    pid: term.pid,
    tty: true,
    async write(data) { (term as unknown as { write(d: Buffer): void }).write(Buffer.isBuffer(data) ? data : Buffer.from(data)); },
    closeStdin() { term.write('\x04'); },
    resize(size) { try { term.resize(size.cols, size.rows); } catch { /* exited */ } },
    kill(signal) { try { process.kill(term.pid, signal); } catch { /* gone */ } },
    pause() { term.pause(); },
    resume() { term.resume(); },
    onData(cb) { dataCb = cb; for (const b of early.splice(0)) cb('stdout', b); },
    onExit(cb) { exitCb = cb; if (exited) cb(exited); },
  };
}

const NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};
export function signalName(n: number): string { return NAMES[n] ?? `SIG${n}`; }
