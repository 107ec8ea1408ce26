/**
 * protocol/ is a leaf: it imports nothing from daemon/ or cli/, and no npm or Node-only modules.
 * daemon/'s folders import one another without a cycle, and only daemon/api/ and the composition
 * root see the services bag.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const protocolDir = join(repo, 'protocol');

const files = readdirSync(protocolDir).filter((f) => f.endsWith('.ts'));
const IMPORT_RE = /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []);

test('protocol/ has sources', () => assert.ok(files.length >= 4));

for (const f of files) {
  test(`protocol/${f} imports only protocol/`, () => {
    const src = readFileSync(join(protocolDir, f), 'utf8');
    for (const m of src.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2]!;
      assert.ok(spec.startsWith('./'), `protocol/${f} imports "${spec}": protocol/ may import only its own files`);
    }
  });
}

test('cli/ does not import daemon/ except the daemon verb', () => {
  for (const f of walk(join(repo, 'cli'))) {
    if (f.endsWith('commands/daemon.ts') || f.endsWith('commands/registry.ts')) continue;
    const src = readFileSync(f, 'utf8');
    assert.not.match(src, /from\s+['"][./]*\/daemon\//, `${f} imports daemon/: go through protocol/ and the client`);
  }
});

// daemon/'s imports between its own files, as paths relative to daemon/ ('api/server.ts').
const daemonDir = join(repo, 'daemon');
const daemonImports: [string, string][] = walk(daemonDir).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(IMPORT_RE)]
  .map((m) => m[1] ?? m[2]!)
  .filter((spec) => spec.startsWith('.'))
  .map((spec) => resolve(dirname(f), spec).replace(/\.js$/, '.ts'))
  .filter((to) => to.startsWith(`${daemonDir}/`))
  .map((to): [string, string] => [relative(daemonDir, f), relative(daemonDir, to)]));
/** A folder under daemon/, or for a file at daemon/'s top (daemon.ts, services.ts, config.ts, …) the file. */
const nodeOf = (file: string): string => file.includes('/') ? file.slice(0, file.indexOf('/')) : file;

test('the folder graph of daemon/ has no cycle', () => {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of daemonImports) {
    if (nodeOf(a) === nodeOf(b)) continue;
    const set = next.get(nodeOf(a)) ?? new Set();
    set.add(nodeOf(b));
    next.set(nodeOf(a), set);
  }
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (n: string): void => {
    const at = path.indexOf(n);
    assert.ok(at < 0, `import cycle between daemon/ folders: ${[...path.slice(at), n].join(' -> ')}`);
    if (done.has(n)) return;
    path.push(n);
    for (const m of next.get(n) ?? []) visit(m);
    path.pop();
    done.add(n);
  };
  for (const n of next.keys()) visit(n);
});

test('only daemon/api/ and the composition root import the services bag', () => {
  const importers = daemonImports.filter(([, b]) => b === 'services.ts').map(([a]) => a);
  assert.ok(importers.length > 0);
  for (const a of importers) assert.ok(a.startsWith('api/') || a === 'daemon.ts', `${a} imports services.ts: take the few services it needs as its own deps type`);
});

test.run();
