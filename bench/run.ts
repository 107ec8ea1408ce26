/**
 * `npm run bench`: every metric side by side with its peer, then the table and the machine facts
 * to stdout and bench/results/. Settings (environment):
 *   BENCH_RUNS=5      recorded samples per side (metrics may take fewer or more: see each metric)
 *   BENCH_WARMUP=1    unrecorded samples per side first
 *   BENCH_ONLY=a,b    only metrics whose id starts with one of these (e.g. "cli,commit.api")
 *   BENCH_IDLE=100    containers for the idle-memory metric
 *   BENCH_RESULTS=dir where results go (default bench/results in the repository)
 * A filtered run (BENCH_ONLY) writes its timestamped file but leaves LATEST.md and the README's
 * table alone; a full run updates both.
 */
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { measure, type Metric, type Result } from './harness.js';
import { Fixtures } from './fixtures.js';
import { failures, machineFacts, load, table, updateReadme, writeResults, ratio } from './report.js';
import { median } from './harness.js';
import { ALL_METRICS } from './metrics/index.js';
import { nodeStartMs } from './machine.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${v}"`);
  return n;
}

function selected(all: Metric<Fixtures>[]): Metric<Fixtures>[] {
  const only = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!only.length) return all;
  const picked = all.filter((m) => only.some((p) => m.id.startsWith(p)));
  if (!picked.length) throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY} matches no metric; ids: ${all.map((m) => m.id).join(', ')}`);
  return picked;
}

async function main(): Promise<number> {
  const runs = intEnv('BENCH_RUNS', 5);
  const warmup = intEnv('BENCH_WARMUP', 1);
  if (runs < 1) throw new Error('BENCH_RUNS must be at least 1');
  const metrics = selected(ALL_METRICS);
  const resultsDir = process.env.BENCH_RESULTS ?? join(repo, 'bench', 'results');
  const log = (line: string): void => { process.stderr.write(`${line}\n`); };
  if (process.getuid?.() !== 0) log('note: not root; container metrics need root and will be reported as failed');
  const facts = await machineFacts(`BENCH_RUNS=${runs} (default per metric; see runs column), BENCH_WARMUP=${warmup}`, repo);
  log(`sbx bench: ${metrics.length} metrics, load ${facts.loadBefore}`);
  const fx = new Fixtures(log);
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    log('interrupted: cleaning up (^C again to leave at once)');
    void fx.closeAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const t0 = performance.now();
  const results: Result[] = [];
  try {
    for (const m of metrics) {
      log(`- ${m.id}: ${m.name} vs ${m.peer}`);
      const r = await measure(m, fx, { runs, warmup, log });
      results.push(r);
      const show = (s: Result['sbx']): string => s.samples.length ? `${median(s.samples).toFixed(2)} ${m.unit}${s.na ? ` (then ${s.na})` : ''}` : `n/a (${s.na})`;
      log(`    sbx ${show(r.sbx)} · peer ${show(r.peer)} · ratio ${ratio(r)} · ${r.seconds.toFixed(1)} s`);
    }
  } finally {
    await fx.closeAll();
  }
  const seconds = (performance.now() - t0) / 1000;
  facts.loadAfter = load();
  facts.nodeAfter = await nodeStartMs();
  process.stdout.write(`\n${table(results)}\n${failures(results)}\nload average ${facts.loadBefore} → ${facts.loadAfter}; ${seconds.toFixed(0)} s\n`);
  const file = await writeResults(resultsDir, results, facts, seconds, !process.env.BENCH_ONLY);
  log(`written: ${relative(process.cwd(), file)}${process.env.BENCH_ONLY ? '' : ' and LATEST.md'}`);
  if (!process.env.BENCH_ONLY && !process.env.BENCH_RESULTS && await updateReadme(join(repo, 'bench', 'README.md'), results, facts, seconds)) {
    log('updated: the latest table in bench/README.md');
  }
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
