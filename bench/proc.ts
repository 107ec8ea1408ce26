/** Small process helpers for the benchmarks: timed runs that must succeed. */
import { run, type RunResult } from '../test/_helpers/peers.js';
import { time } from './harness.js';

export { run, type RunResult };

/** Require exit 0; the error names the command and the first lines of its output. */
export async function ok(what: string, p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' / ')}`);
  return r;
}

/** Milliseconds for a command that must succeed. */
export function timed(what: string, p: () => Promise<RunResult>): Promise<number> {
  return time(() => ok(what, p()));
}

/** A name no other run or helper uses. */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}
