/**
 * The results table and the machine facts, as markdown: printed, written to
 * bench/results/<timestamp>.md (kept) and copied to bench/results/LATEST.md; the raw samples go to
 * <timestamp>.json next to it so later runs can be compared number by number.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile, copyFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOWER_IS_BETTER, median, type Result, type SideResult, type Unit } from './harness.js';
import { load, nodeStartMs } from './machine.js';

export { load };

const pexec = promisify(execFile);

export interface Facts {
  date: string;
  cpus: string;
  memory: string;
  kernel: string;
  versions: Record<string, string>;
  loadBefore: string;
  loadAfter?: string;
  /** `node -e 0`, median of 3, at the start and the end of the run (ms). */
  nodeBefore: number;
  nodeAfter?: number;
  /** Set when the whole run was pinned to some cores (`taskset -c 0 npm run bench`): their list. */
  pinned?: string;
  runs: string;
  commit: string;
}

async function version(cmd: string, args: string[], pick: RegExp = /.+/): Promise<string> {
  let out: string;
  try {
    const { stdout, stderr } = await pexec(cmd, args, { timeout: 10_000 });
    out = stdout + stderr;
  } catch (e) {
    // Some tools (wrk) print their version and exit non-zero.
    const x = e as { code?: unknown; stdout?: string; stderr?: string };
    if (x.code === 'ENOENT' || !(x.stdout || x.stderr)) return 'not installed';
    out = (x.stdout ?? '') + (x.stderr ?? '');
  }
  const m = out.match(pick);
  return m ? (m[1] ?? m[0]).trim() : out.split('\n')[0]!.trim();
}

export async function machineFacts(runs: string, repo: string): Promise<Facts> {
  const c = cpus();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: `${c.length} × ${c[0]?.model.trim() ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    versions: {
      sbx: await version('git', ['-C', repo, 'describe', '--always', '--dirty']).then((v) => `git ${v}`),
      node: process.version,
      podman: await version('podman', ['--version'], /version (\S+)/),
      skopeo: await version('skopeo', ['--version'], /version (\S+)/),
      buildah: await version('buildah', ['--version'], /version (\S+)/),
      'docker-registry': await version('docker-registry', ['--version'], /distribution (\S+)/),
      runc: await version('runc', ['--version'], /version (\S+)/),
      wrk: await version('wrk', ['--version'], /wrk (\S+ \S+)/),
    },
    loadBefore: load(),
    nodeBefore: await nodeStartMs(),
    ...(await pinnedTo()),
    runs,
    commit: await version('git', ['-C', repo, 'rev-parse', '--short', 'HEAD']),
  };
}

/** The CPUs this process may run on, when fewer than the machine has (a pinned run). */
async function pinnedTo(): Promise<{ pinned?: string }> {
  const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(await readFile('/proc/self/status', 'utf8').catch(() => ''));
  const n = (m?.[1] ?? '').split(',').reduce((t, r) => { const [a, b] = r.split('-').map(Number); return t + (b === undefined ? 1 : b - a! + 1); }, 0);
  return m && n < cpus().length ? { pinned: m[1]! } : {};
}

function fmt(v: number, unit: Unit): string {
  if (unit === 'req/s') return `${Math.round(v)}`;
  if (Math.abs(v) >= 100) return `${Math.round(v)}`;
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function cell(s: SideResult, unit: Unit): string {
  if (!s.samples.length) return `n/a (${s.na ?? 'no samples'})`;
  return `${fmt(median(s.samples), unit)} ${unit}${s.na ? ' ⚠' : ''}`;
}

/** Sides that failed after some samples (marked ⚠ in the table). */
export function failures(results: Result[]): string {
  const lines: string[] = [];
  for (const r of results) {
    for (const [who, s] of [['sbx', r.sbx], ['peer', r.peer]] as const) {
      if (s.samples.length && s.na) lines.push(`- ⚠ ${r.metric.id}, ${who}: ${s.samples.length} sample(s), then ${s.na}`);
    }
  }
  return lines.length ? `\n${lines.join('\n')}\n` : '';
}

function range(s: SideResult, unit: Unit): string {
  if (!s.samples.length) return '–';
  return `${fmt(Math.min(...s.samples), unit)}–${fmt(Math.max(...s.samples), unit)}`;
}

export function ratio(r: Result): string {
  if (!r.sbx.samples.length || !r.peer.samples.length) return '–';
  const p = median(r.peer.samples);
  if (p === 0) return '–';
  const q = median(r.sbx.samples) / p;
  const better = LOWER_IS_BETTER[r.metric.unit] ? q < 1 : q > 1;
  return `${q.toFixed(2)}${Math.abs(q - 1) < 0.05 ? '' : better ? ' ✓' : ' ✗'}`;
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function table(results: Result[]): string {
  const rows = [
    '| metric | peer | sbx median | peer median | sbx/peer | sbx min–max | peer min–max | runs | load start→end | `node -e 0` |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const u = r.metric.unit;
    const runs = `${r.sbx.samples.length}+${r.peer.samples.length}`;
    const c = r.conditions;
    const cond = c ? `${c.loadStart.toFixed(2)}→${c.loadEnd.toFixed(2)} | ${c.nodeMs.toFixed(0)} ms` : '– | –';
    rows.push(`| ${esc(r.metric.name)} | ${esc(r.metric.peer)} | ${esc(cell(r.sbx, u))} | ${esc(cell(r.peer, u))} | ${ratio(r)} | ${range(r.sbx, u)} | ${range(r.peer, u)} | ${runs} | ${cond} |`);
  }
  return rows.join('\n');
}

export function factsBlock(f: Facts): string {
  const v = Object.entries(f.versions).map(([k, x]) => `${k} ${x}`).join(' · ');
  return [
    `- date: ${f.date} (sbx commit ${f.commit})`,
    `- machine: ${f.cpus}, ${f.memory}, ${f.kernel}`,
    `- versions: ${v}`,
    `- load average (1, 5, 15 min): ${f.loadBefore} at start, ${f.loadAfter ?? '?'} at end`,
    `- \`node -e 0\` (median of 3): ${f.nodeBefore.toFixed(0)} ms at start, ${f.nodeAfter === undefined ? '?' : f.nodeAfter.toFixed(0)} ms at end${f.pinned ? ` · whole run pinned to CPU ${f.pinned} (taskset)` : ''}`,
    `- repetitions: ${f.runs}`,
  ].join('\n');
}

export function document(results: Result[], f: Facts, seconds: number): string {
  return [
    `# sbx benchmarks — ${f.date}`,
    '',
    factsBlock(f),
    `- total time: ${seconds.toFixed(0)} s`,
    '',
    table(results),
    failures(results),
    'Ratio = sbx median / peer median. For times and memory below 1 is better for sbx; for MB/s and',
    'req/s above 1 is better. ✓ marks sbx ahead, ✗ behind (by more than 5 %). "runs" = sbx samples + peer',
    'samples. See bench/README.md for what each metric measures.',
    '',
  ].join('\n');
}

export async function writeResults(dir: string, results: Result[], f: Facts, seconds: number, latest: boolean): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = f.date.replace(/:/g, '-');
  const md = document(results, f, seconds);
  const file = join(dir, `${stamp}.md`);
  await writeFile(file, md);
  await writeFile(join(dir, `${stamp}.json`), JSON.stringify({ facts: f, seconds, results }, null, 1) + '\n');
  if (latest) await copyFile(file, join(dir, 'LATEST.md'));
  return file;
}

const START = '<!-- latest:start -->';
const END = '<!-- latest:end -->';

/** Put the table and facts between the README's latest-results markers (left alone if absent). */
export async function updateReadme(readme: string, results: Result[], f: Facts, seconds: number): Promise<boolean> {
  let text: string;
  try { text = await readFile(readme, 'utf8'); } catch { return false; }
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return false;
  const body = [factsBlock(f), `- total time: ${seconds.toFixed(0)} s`, '', table(results), failures(results)].join('\n');
  await writeFile(readme, `${text.slice(0, a + START.length)}\n${body}\n${text.slice(b)}`);
  return true;
}
