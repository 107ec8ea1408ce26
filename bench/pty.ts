/**
 * Programs under a real pseudo-terminal (@lydell/node-pty), as a user's terminal runs them, or
 * behind an sbx.stream.v1 WebSocket (bench/stream.ts):
 * wait for text to appear, count bytes, time keystroke echoes. Only the recent tail of the output
 * is kept for matching, so bulk output costs no more than counting it.
 */
import pty from '@lydell/node-pty';
import { performance } from 'node:perf_hooks';

const TAIL = 4096;

interface Waiter { test: (s: string) => boolean; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

/**
 * A terminal's screen as the benchmarks see it: output fed in, waits for text, a byte count.
 * It answers busybox line editing's cursor-position query (ESC[6n) as a terminal would.
 */
export abstract class Terminal {
  /** Characters received since the last mark(). */
  received = 0;
  tail = '';
  private waiters: Waiter[] = [];
  protected done = false;

  constructor(readonly what: string) {}

  abstract write(s: string): void;
  /** Leave the shell politely, then by force. */
  abstract close(): Promise<void>;

  protected feed(d: string): void {
    if (d.includes('\x1b[6n')) this.write('\x1b[1;5R');
    this.received += d.length;
    this.tail = (this.tail + d).slice(-TAIL);
    for (const w of [...this.waiters]) {
      if (!w.test(this.tail)) continue;
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve();
    }
  }

  protected ended(why: string): void {
    this.done = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${this.what} ${why} before the expected output; last output: ${JSON.stringify(this.tail.slice(-200))}`));
    }
  }

  /** Forget what came so far: later waits only see newer output. */
  mark(): void { this.tail = ''; this.received = 0; }

  /** Resolve once the output since the last mark contains `pattern`. */
  waitFor(pattern: string | RegExp, timeoutMs = 30_000): Promise<void> {
    const test = typeof pattern === 'string' ? (s: string) => s.includes(pattern) : (s: string) => pattern.test(s);
    if (test(this.tail)) return Promise.resolve();
    if (this.done) return Promise.reject(new Error(`${this.what} has ended; last output: ${JSON.stringify(this.tail.slice(-200))}`));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        test, resolve, reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`${this.what}: no ${String(pattern)} within ${timeoutMs} ms; last output: ${JSON.stringify(this.tail.slice(-200))}`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }
}

/** A program under a real PTY. */
export class PtySession extends Terminal {
  private readonly term: pty.IPty;
  readonly exited: Promise<number>;

  constructor(what: string, file: string, args: string[], env: NodeJS.ProcessEnv) {
    super(what);
    this.term = pty.spawn(file, args, {
      name: 'xterm', cols: 120, rows: 30, cwd: '/',
      env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>,
    });
    this.term.onData((d) => this.feed(d));
    this.exited = new Promise((resolve) => {
      this.term.onExit(({ exitCode }) => { this.ended(`exited (${exitCode})`); resolve(exitCode); });
    });
  }

  write(s: string): void { this.term.write(s); }

  async close(): Promise<void> {
    if (this.done) return;
    await settle();
    this.write('\x15exit\r');
    const t = setTimeout(() => { try { this.term.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
    await this.exited;
    clearTimeout(t);
  }
}

/** busybox sh's root prompt ("/ # "), maybe followed by its cursor-position query. */
export const PROMPT = /# (?:\x1b\[6n)?$/;

/**
 * Input typed the instant the first prompt shows can be lost (podman switches the terminal mode
 * after the shell has printed it), so interaction starts after a short untimed pause.
 */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 150));
}

/** Spawn → first prompt, in ms; leaves the session open. */
export async function timeToPrompt<T extends Terminal>(s: () => T | Promise<T>): Promise<{ ms: number; session: T }> {
  const t0 = performance.now();
  const session = await s();
  await session.waitFor(PROMPT, 60_000);
  return { ms: performance.now() - t0, session };
}

/** Median echo time of `n` single keystrokes at a prompt, in µs (the line is cleared after). */
export async function keystrokeRoundTrip(s: Terminal, n = 40): Promise<number> {
  await settle();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    s.mark();
    const t0 = performance.now();
    s.write(ch);
    await s.waitFor(ch, 10_000);
    times.push((performance.now() - t0) * 1000);
  }
  s.mark();
  s.write('\x15');
  await new Promise((r) => setTimeout(r, 50));
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/** MB/s of `bytes` of output produced by the shell and carried to this terminal. */
export async function bulkOutput(s: Terminal, bytes: number): Promise<number> {
  await settle();
  s.mark();
  const t0 = performance.now();
  s.write(`head -c ${bytes} /dev/zero | tr '\\0' a; echo; echo BULK""DONE\r`);
  await s.waitFor('BULKDONE', 60_000);
  const secs = (performance.now() - t0) / 1000;
  if (s.received < bytes) throw new Error(`${s.what}: only ${s.received} of ${bytes} bytes arrived`);
  await s.waitFor(PROMPT, 10_000);
  return bytes / 1e6 / secs;
}
