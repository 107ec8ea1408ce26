/**
 * How busy the machine is while a figure is taken, recorded next to every ratio so it can be
 * judged: the load average, and the time of `node -e 0` (Node's own start: the per-core speed a
 * CPU-bound side sees; ~70 ms on a quiet fast core, 110 ms and more on a slower or busy one).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

/** The 1, 5 and 15 minute load averages, "1.03, 1.72, 2.03". */
export function load(): string {
  return loadavg().map((x) => x.toFixed(2)).join(', ');
}

/** The 1-minute load average alone, for table cells. */
export function load1(): number {
  return loadavg()[0]!;
}

/** Median wall time of `node -e 0` over `n` runs, in ms (as the process and its children are pinned, so is this). */
export async function nodeStartMs(n = 3): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      c.once('error', reject);
      c.once('exit', () => resolve());
    });
    xs.push(performance.now() - t0);
  }
  xs.sort((a, b) => a - b);
  return xs[xs.length >> 1]!;
}

/** The conditions one metric ran under. */
export interface Conditions {
  /** 1-minute load average when the metric started and when it ended. */
  loadStart: number;
  loadEnd: number;
  /** `node -e 0` (median of 3) just before the metric. */
  nodeMs: number;
}
