/**
 * The measuring loop. A Metric names what it measures and its peer; `prepare` builds (untimed)
 * whatever both sides need and returns one Side per tool, or the reason a side cannot run here.
 * A Side takes one sample and returns its value in the metric's unit: it times only the work being
 * compared, so per-sample setup (a fresh container to commit, a fresh registry to push to) is done
 * inside the Side, before its clock starts.
 *
 * Each metric: `warmup` unrecorded samples per side, then `runs` recorded ones, alternating sbx and
 * peer (sbx first on even rounds, peer first on odd ones, so a drift in machine load hits both).
 * A side that throws stops being sampled and is reported as failed; the other side goes on.
 */
import { performance } from 'node:perf_hooks';
import { load1, nodeStartMs, type Conditions } from './machine.js';

export type Unit = 'ms' | 'µs' | 'MB/s' | 'req/s' | 'MiB';

/** Whether a smaller or a larger value is the better one. */
export const LOWER_IS_BETTER: Record<Unit, boolean> = { ms: true, 'µs': true, 'MB/s': false, 'req/s': false, MiB: true };

export type Side = () => Promise<number>;

/** Why one side cannot be measured here (a capability that has not landed, a missing tool). */
export class NotAvailable extends Error {
  constructor(reason: string) { super(reason); this.name = 'NotAvailable'; }
}

export interface Prepared {
  /** A side, or why it cannot be measured (NotAvailable) or failed to prepare (any other Error). */
  sbx: Side | Error;
  peer: Side | Error;
  /** Undo what prepare made (containers, servers, temp dirs). Always called. */
  close?(): Promise<void>;
}

export interface Metric<C = unknown> {
  /** Stable id for BENCH_ONLY filtering, e.g. "container.run.cli". */
  id: string;
  /** What is measured, as a user would name it. */
  name: string;
  /** The peer it is compared with, e.g. "podman run --rm". */
  peer: string;
  unit: Unit;
  /** Overrides of the global repetition counts (heavy metrics take fewer). */
  runs?: number;
  warmup?: number;
  /** Per-sample time limit (default 180 s). */
  timeoutMs?: number;
  prepare(ctx: C): Promise<Prepared>;
}

export interface SideResult {
  samples: number[];
  /** Set when the side was not measured or stopped failing. */
  na?: string;
}

export interface Result {
  metric: Pick<Metric, 'id' | 'name' | 'peer' | 'unit'>;
  sbx: SideResult;
  peer: SideResult;
  seconds: number;
  /** Machine load and Node's start time around this metric (machine.ts). */
  conditions?: Conditions;
}

export interface RunOptions {
  runs: number;
  warmup: number;
  log: (line: string) => void;
}

export async function measure<C>(metric: Metric<C>, ctx: C, opts: RunOptions): Promise<Result> {
  const started = performance.now();
  const before = { loadStart: load1(), nodeMs: await nodeStartMs() };
  const result: Result = {
    metric: { id: metric.id, name: metric.name, peer: metric.peer, unit: metric.unit },
    sbx: { samples: [] }, peer: { samples: [] }, seconds: 0,
  };
  let prepared: Prepared | undefined;
  try {
    prepared = await withTimeout(metric.prepare(ctx), 600_000, 'prepare');
    const sides: [SideResult, Side | Error][] = [[result.sbx, prepared.sbx], [result.peer, prepared.peer]];
    for (const [res, side] of sides) if (side instanceof Error) res.na = why(side);
    const runs = metric.runs ?? opts.runs;
    const warmup = metric.warmup ?? opts.warmup;
    const timeout = metric.timeoutMs ?? 180_000;
    const sample = async (res: SideResult, side: Side | Error, record: boolean): Promise<void> => {
      if (res.na || side instanceof Error) return;
      try {
        const v = await withTimeout(side(), timeout, 'sample');
        if (!Number.isFinite(v)) throw new Error(`sample is not a number: ${v}`);
        if (record) res.samples.push(v);
      } catch (e) {
        res.na = why(e);
      }
    };
    for (let i = 0; i < warmup; i++) for (const [res, side] of sides) await sample(res, side, false);
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? sides : [...sides].reverse();
      for (const [res, side] of order) await sample(res, side, true);
    }
  } catch (e) {
    for (const res of [result.sbx, result.peer]) if (!res.na && res.samples.length === 0) res.na = why(e);
  } finally {
    if (prepared?.close) await prepared.close().catch((e) => opts.log(`  cleanup of ${metric.id} failed: ${oneLine(e)}`));
  }
  result.seconds = (performance.now() - started) / 1000;
  result.conditions = { ...before, loadEnd: load1() };
  return result;
}

/** Prepare one side: its Side, or the error that says why it cannot run. */
export async function side(make: () => Promise<Side>): Promise<Side | Error> {
  try { return await make(); } catch (e) { return e instanceof Error ? e : new Error(String(e)); }
}

function why(e: unknown): string {
  return e instanceof NotAvailable ? `not available: ${e.message}` : `failed: ${oneLine(e)}`;
}

/** Wall time of `fn` in milliseconds. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const line = msg.split('\n').map((l) => l.trim()).filter(Boolean).join(' / ');
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms); }),
  ]);
}
