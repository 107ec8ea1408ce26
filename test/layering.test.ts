/** protocol/ is a leaf: it imports nothing from daemon/ or cli/, and no npm or Node-only modules. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const protocolDir = join(repo, 'protocol');

const files = readdirSync(protocolDir).filter((f) => f.endsWith('.ts'));

test('protocol/ has sources', () => assert.ok(files.length >= 4));

for (const f of files) {
  test(`protocol/${f} imports only protocol/`, () => {
    const src = readFileSync(join(protocolDir, f), 'utf8');
    for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      assert.ok(spec.startsWith('./'), `protocol/${f} imports "${spec}": protocol/ may import only its own files`);
    }
  });
}

test('cli/ does not import daemon/ except the daemon verb', () => {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []);
  for (const f of walk(join(repo, 'cli'))) {
    if (f.endsWith('commands/daemon.ts') || f.endsWith('commands/registry.ts')) continue;
    const src = readFileSync(f, 'utf8');
    assert.not.match(src, /from\s+['"][./]*\/daemon\//, `${f} imports daemon/: go through protocol/ and the client`);
  }
});

test.run();
