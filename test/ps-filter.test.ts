/**
 * `ps --filter` (issue 12 "Output"): status, name, label, ancestor, id, exited; the same key ORs,
 * different keys AND; a status filter lists stopped containers without -a (docker's); a bad
 * filter is docker's "invalid filter 'x'", exit 1; a filter without "=" a flag error, exit 125.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; ids: Record<string, string>; image: string }
const s = suite<Ctx>('ps --filter', {} as Ctx);
s.before(async (ctx) => {
  ctx.d = await startTestDaemon();
  ctx.ids = {};
  if (process.getuid?.() !== 0) return;
  const r = await sbx(ctx.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
  ctx.image = r.stdout.trim();
  await ok(ctx.d.root, ['tag', 'busybox', 'other:1']);
  // web-1 runs, ok-1 exited 0, bad-3 exited 3, new-1 never started (other:1).
  ctx.ids['web-1'] = (await ok(ctx.d.root, ['run', '-d', '--name', 'web-1', 'busybox', 'sleep', '60'])).trim();
  await ok(ctx.d.root, ['run', '--name', 'ok-1', 'busybox', 'true']);
  await sbx(ctx.d.root, ['run', '--name', 'bad-3', 'busybox', 'sh', '-c', 'exit 3']);
  ctx.ids['new-1'] = (await ok(ctx.d.root, ['create', '--name', 'new-1', 'other:1', 'true'])).trim();
});
s.after(async (ctx) => {
  await sbx(ctx.d.root, ['rm', '-f', 'web-1']).catch(() => undefined);
  await ctx.d.close();
});

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
/** The names `ps ARGS` lists, sorted. */
const names = async (root: string, ...args: string[]): Promise<string[]> =>
  (await ok(root, ['ps', '--format', 'json', ...args])).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { Names: string }).Names).sort();

s('status: one value, several (OR), and without -a it still lists stopped containers', privileged(async ({ d }) => {
  assert.equal(await names(d.root, '--filter', 'status=exited'), ['bad-3', 'ok-1']);
  assert.equal(await names(d.root, '-f', 'status=created', '-f', 'status=running'), ['new-1', 'web-1']);
  assert.equal(await names(d.root, '-a', '--filter', 'status=paused'), []);
  assert.equal(await names(d.root), ['web-1']);
}));

s('name (a pattern), id (a prefix), ancestor (name or image ID), exited, label', privileged(async ({ d, ids, image }) => {
  assert.equal(await names(d.root, '-a', '--filter', 'name=-1'), ['new-1', 'ok-1', 'web-1']);
  assert.equal(await names(d.root, '-a', '--filter', 'name=^/b'), ['bad-3']);
  assert.equal(await names(d.root, '-a', '--filter', `id=${ids['new-1']!.slice(0, 10)}`), ['new-1']);
  // a tag resolves to its image ID, as docker's: other:1 is busybox's image, so every container matches
  assert.equal(await names(d.root, '-a', '--filter', 'ancestor=other:1'), ['bad-3', 'new-1', 'ok-1', 'web-1']);
  assert.equal(await names(d.root, '-a', '--filter', `ancestor=${image.slice(7, 19)}`), ['bad-3', 'new-1', 'ok-1', 'web-1']);
  assert.equal(await names(d.root, '-a', '--filter', 'exited=3'), ['bad-3']);
  assert.equal(await names(d.root, '-a', '--filter', 'exited=0', '--filter', 'exited=3'), ['bad-3', 'ok-1']);
  assert.equal(await names(d.root, '-a', '--filter', 'label=tier'), [], 'no container has labels');
  // -q prints the same selection.
  assert.is(await ok(d.root, ['ps', '-q', '--filter', 'status=created']), `${ids['new-1']!.slice(0, 12)}\n`);
}));

s('ancestor= matches containers of images built on the ancestor, not the other way round; an unknown image matches nothing', privileged(async ({ d }) => {
  await ok(d.root, ['run', '--name', 'edit', 'busybox', 'sh', '-c', 'echo hi > /made']);
  await ok(d.root, ['commit', 'edit', 'child:1']);
  await ok(d.root, ['create', '--name', 'kid', 'child:1', 'true']);
  try {
    assert.equal(await names(d.root, '-a', '--filter', 'ancestor=busybox'), ['bad-3', 'edit', 'kid', 'new-1', 'ok-1', 'web-1']);
    assert.equal(await names(d.root, '-a', '--filter', 'ancestor=child:1'), ['kid']);
    assert.equal(await names(d.root, '-a', '--filter', 'ancestor=nosuch:9'), []);
    assert.equal(await names(d.root, '-a', '--filter', 'ancestor=child:1', '--filter', 'ancestor=nosuch:9'), ['kid']);
  } finally {
    await ok(d.root, ['rm', 'kid', 'edit']);
  }
}));

s('different keys AND', privileged(async ({ d, image }) => {
  assert.equal(await names(d.root, '-a', '--filter', `ancestor=${image}`, '--filter', 'status=exited', '--filter', 'name=ok'), ['ok-1']);
  assert.equal(await names(d.root, '-a', '--filter', 'status=running', '--filter', 'exited=0'), []);
}));

s('bad filters: docker\'s messages and exit codes', privileged(async ({ d }) => {
  const key = await sbx(d.root, ['ps', '--filter', 'colour=red']);
  assert.is(key.code, 1);
  assert.is(key.stderr, "Error response from daemon: invalid filter 'colour'\n");
  assert.is(key.stdout, '');
  const status = await sbx(d.root, ['ps', '--filter', 'status=sleepy']);
  assert.is(status.code, 1);
  assert.is(status.stderr, "Error response from daemon: invalid filter 'status=sleepy'\n");
  const shape = await sbx(d.root, ['ps', '--filter', 'x']);
  assert.is(shape.code, 125);
  assert.match(shape.stderr, /^Error: invalid argument "x" for "-f, --filter" flag: bad format of filter \(expected name=value\)\n/);
}));

s.run();
