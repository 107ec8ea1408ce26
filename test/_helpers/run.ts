/**
 * The suite runner behind `npm test`: every dist/test/**\/*.test.js in its own node process (fresh
 * module state, a crash is that file's failure), then one closing line "N passed, N failed".
 * `npm test -- PATTERN...` runs the files whose path contains any PATTERN.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const testRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function find(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (!name.startsWith('_')) out.push(...find(p)); } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

interface Outcome { file: string; passed: number; failed: number; skipped: number; ms: number; code: number | null }

function fileTimeoutMs(): number {
  const raw = process.env.SBX_TEST_FILE_TIMEOUT_S ?? '600';
  const s = Number(raw);
  if (!/^\d+$/.test(raw) || s < 1) {
    process.stderr.write(`run tests: SBX_TEST_FILE_TIMEOUT_S must be a whole number of seconds (≥ 1), got "${raw}"\n`);
    process.exit(1);
  }
  return s * 1000;
}

function runFile(file: string, limit: number): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    // A hung file (a container that never exits, a close that waits forever) fails on its own
    // instead of holding the whole run until CI gives up.
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, limit);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d: Buffer) => { process.stderr.write(d); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) process.stdout.write(`\nFAIL ${relative(testRoot, file)}: killed after ${limit / 1000} s (SBX_TEST_FILE_TIMEOUT_S)\n`);
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      let total = 0; let passed = 0; let skipped = 0;
      for (const m of plain.matchAll(/Total:\s+(\d+)/g)) total += Number(m[1]);
      for (const m of plain.matchAll(/Passed:\s+(\d+)/g)) passed += Number(m[1]);
      for (const m of plain.matchAll(/Skipped:\s+(\d+)/g)) skipped += Number(m[1]);
      let failed = total - passed - skipped;
      // a privileged test that could not run here printed this and returned: it passed nothing
      const unrun = (plain.match(/ {2}\(skipped: .*\)$/gm) ?? []).length;
      passed -= Math.min(unrun, passed);
      skipped += unrun;
      if (code !== 0 && failed === 0) failed = 1; // crashed or exited non-zero outside uvu's count
      if (total === 0 && code === 0) failed += 1; // a test file that ran no test is a failure
      resolve({ file: relative(testRoot, file), passed, failed, skipped, ms: Date.now() - started, code });
    });
  });
}

async function main(): Promise<void> {
  const limit = fileTimeoutMs();
  const patterns = process.argv.slice(2);
  const files = find(testRoot).filter((f) => patterns.length === 0 || patterns.some((p) => relative(testRoot, f).includes(p)));
  const outcomes: Outcome[] = [];
  for (const f of files) {
    process.stdout.write(`\n# ${relative(testRoot, f)}\n`);
    outcomes.push(await runFile(f, limit));
  }
  process.stdout.write('\n# summary\n');
  for (const o of outcomes) {
    process.stdout.write(`${o.failed ? 'FAIL' : 'ok  '} ${o.file.padEnd(40)} ${String(o.passed).padStart(4)} passed ${String(o.failed).padStart(3)} failed ${(o.ms / 1000).toFixed(1).padStart(6)}s\n`);
  }
  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  const skipped = outcomes.reduce((n, o) => n + o.skipped, 0);
  process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(failed > 0 || files.length === 0 ? 1 : 0);
}

void main();
