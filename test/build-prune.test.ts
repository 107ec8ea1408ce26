/**
 * Build cache housekeeping through the CLI: `sbx system df` (docker's table), `sbx builder prune`
 * (dangling step images; entries whose image rmi removed; -a everything; the prompt without -f),
 * each build's step images listed once.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { buildSuite } from './_helpers/build.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

const s = buildSuite('build: prune and df');

const WEB_PING = 'FROM busybox\nENV TARGET="example.com"\nWORKDIR /web-ping\nCOPY app.js big ./\nCMD ["sh", "/web-ping/app.js"]\n';

async function build(d: TestDaemon, ctx: string) {
  const r = await sbx(d.root, ['build', '--progress', 'plain', '-t', 'img', ctx], { timeoutMs: 120000 });
  assert.is(r.code, 0, r.stderr);
  return [...r.stderr.matchAll(/^#(\d+) CACHED$/gm)].length;
}

/** `sbx system df` as rows of cells, by TYPE. */
async function df(d: TestDaemon): Promise<Record<string, string[]>> {
  const r = await sbx(d.root, ['system', 'df']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  const rows: Record<string, string[]> = {};
  for (const l of lines.slice(1)) {
    const m = /^(Images|Containers|Local Volumes|Build Cache)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.+)$/.exec(l);
    assert.ok(m, `a df row: ${l}`);
    rows[m[1]!] = m.slice(2);
  }
  assert.equal(Object.keys(rows), ['Images', 'Containers', 'Local Volumes', 'Build Cache']);
  return rows;
}

const images = async (d: TestDaemon) => (await sbx(d.root, ['images', '-q'])).stdout.trim().split('\n');

s('system df; builder prune drops what an edit left behind, then what rmi left; -a drops all', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), WEB_PING);
  await writeFile(join(ctx, 'app.js'), 'echo one\n');
  await writeFile(join(ctx, 'big'), Buffer.alloc(200_000, 7));
  await build(d, ctx);
  const first = await images(d);
  assert.is(first.length, 5, 'busybox, 3 step images (ENV, WORKDIR, COPY), img');
  assert.is(await build(d, ctx), 4);
  assert.equal(await images(d), first, 'a cached rebuild adds no image and lists none twice');
  let u = await df(d);
  assert.equal(u['Local Volumes'], ['0', '0', '0B', '0B']);
  assert.equal(u.Containers, ['0', '0', '0B', '0B']);
  assert.equal(u['Build Cache']!.slice(0, 2), ['4', '1'], 'one entry per step; the one naming img is in use');
  assert.equal(u.Images!.slice(0, 2), ['5', '0']);
  assert.match(u.Images![3]!, /^\S+ \(100%\)$/);

  await writeFile(join(ctx, 'big'), Buffer.alloc(300_000, 8));
  assert.is(await build(d, ctx), 2, 'ENV and WORKDIR stay cached');
  u = await df(d);
  assert.equal(u['Build Cache']!.slice(0, 2), ['6', '1']);
  assert.match(u['Build Cache']![2]!, /^2\d\dkB$/, 'the old COPY layer is what only the cache holds');

  const no = await sbx(d.root, ['builder', 'prune'], { input: 'n\n' });
  assert.is(no.code, 1);
  assert.match(no.stdout, /^WARNING! This will remove all dangling build cache\. Are you sure you want to continue\? \[y\/N\] $/);
  assert.match(no.stderr, /builder prune has been cancelled/);
  assert.is((await df(d))['Build Cache']![0], '6');

  const p1 = await sbx(d.root, ['builder', 'prune'], { input: 'y\n' });
  assert.is(p1.code, 0, p1.stderr);
  assert.match(p1.stdout, /^WARNING!.*\[y\/N\] Deleted build cache objects:\n([0-9a-f]{64}\n){2}\nTotal reclaimed space: 2\d\dkB\n$/);
  assert.is((await images(d)).length, 5, 'the old COPY and CMD step images are gone');
  assert.equal((await df(d))['Build Cache']!.slice(0, 2), ['4', '1']);
  assert.is(await build(d, ctx), 4, 'what img was built from stays cached');

  assert.is((await sbx(d.root, ['rmi', 'img'])).code, 0);
  assert.equal((await df(d))['Build Cache']!.slice(0, 2), ['3', '0'], 'the entry whose image rmi removed is not counted');
  const p2 = await sbx(d.root, ['builder', 'prune', '-f']);
  assert.match(p2.stdout, /^Deleted build cache objects:\n([0-9a-f]{64}\n){4}\nTotal reclaimed space: 3\d\dkB\n$/);
  assert.is((await images(d)).length, 1, 'only busybox is left');
  assert.equal((await df(d))['Build Cache'], ['0', '0', '0B', '0B']);

  await build(d, ctx);
  const all = await sbx(d.root, ['builder', 'prune', '--all', '--force']);
  assert.match(all.stdout, /^Deleted build cache objects:\n([0-9a-f]{64}\n){4}\nTotal reclaimed space: \S+\n$/);
  assert.is((await images(d)).length, 2, 'img and busybox: tagged images are not build cache');
  assert.is(await build(d, ctx), 0, '-a leaves nothing cached');
}));

s('system df counts containers; a step image a container runs is in use', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo x > /f\n');
  const id = (await sbx(d.root, ['build', '-q', ctx], { timeoutMs: 120000 })).stdout.trim();
  const run = await sbx(d.root, ['run', '--name', 'c1', id, 'sh', '-c', 'head -c 5000 /dev/zero > /out']);
  assert.is(run.code, 0, run.stderr);
  const u = await df(d);
  assert.equal(u.Containers, ['1', '0', '5kB', '5kB (100%)']);
  assert.equal(u['Build Cache']!.slice(0, 2), ['1', '1']);
  const p = await sbx(d.root, ['builder', 'prune', '-a', '-f']);
  assert.match(p.stdout, /Total reclaimed space: 0B/);
  assert.ok((await images(d)).includes(id.slice(7, 19)), 'the image the container uses stays');
}));

s.run();
