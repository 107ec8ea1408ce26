/**
 * The build cache finds a hit by the step image's manifest descriptor (not by listing every stored
 * image): a rebuild after other builds is all CACHED with the same ID, and entries written before
 * the descriptor was kept (an older daemon's cache.json, ID only) still serve hits after a restart.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; ctx: string }
const s = suite<Ctx>('build cache lookup', {} as Ctx);
s.before.each(async (c) => {
  c.d = await startTestDaemon();
  c.ctx = await tmpdir();
  if (process.getuid?.() !== 0) return;
  const r = await sbx(c.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after.each(async (c) => {
  await c.d.close();
  await rmrf(c.ctx);
});

const build = (d: TestDaemon, args: string[]) => sbx(d.root, ['build', '--progress', 'plain', ...args], { timeoutMs: 120000 });

s('rebuild after other builds: every step CACHED, same ID; an ID-only cache.json still hits after a restart', privileged(async (c) => {
  await writeFile(join(c.ctx, 'Dockerfile'), 'FROM busybox\nENV A=1\nWORKDIR /app\nCOPY app.txt .\nCMD ["cat", "app.txt"]\n');
  await writeFile(join(c.ctx, 'app.txt'), 'hello\n');
  const first = await build(c.d, ['-q', '-t', 'app', c.ctx]);
  assert.is(first.code, 0, first.stderr);
  for (const n of [1, 2, 3]) {
    await writeFile(join(c.ctx, 'app.txt'), `other ${n}\n`);
    assert.is((await build(c.d, ['-q', '-t', `other${n}`, c.ctx])).code, 0);
  }
  await writeFile(join(c.ctx, 'app.txt'), 'hello\n');
  const again = await build(c.d, ['-t', 'app', c.ctx]);
  assert.is(again.code, 0, again.stderr);
  assert.is((again.stderr.match(/CACHED/g) ?? []).length, 4, again.stderr);
  assert.match(again.stderr, new RegExp(`writing image ${first.stdout.trim()} done`));

  // An older daemon kept only the image ID per entry.
  await c.d.daemon.close();
  const file = join(c.d.root, 'build', 'cache.json');
  const entries = JSON.parse(await readFile(file, 'utf8')) as Record<string, { image: string; target?: unknown; used: string }>;
  assert.ok(Object.values(entries).every((e) => e.target), 'entries keep the manifest descriptor');
  for (const e of Object.values(entries)) delete e.target;
  await writeFile(file, JSON.stringify(entries));
  c.d = { ...(await startTestDaemon({ root: c.d.root })) };
  const old = await build(c.d, ['-t', 'app', c.ctx]);
  assert.is(old.code, 0, old.stderr);
  assert.is((old.stderr.match(/CACHED/g) ?? []).length, 4, old.stderr);
  assert.match(old.stderr, new RegExp(`writing image ${first.stdout.trim()} done`));
  assert.is((await sbx(c.d.root, ['run', '--rm', 'app'])).stdout, 'hello\n');
}));

s.run();
