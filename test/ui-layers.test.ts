/**
 * `sbx image layers IMAGE`: the layer explorer on the command line (dive's summary). Per layer, top
 * first, its size, the paths it adds, changes and deletes (a whiteout is a delete), and what made
 * it; --files lists them; --format json gives the counts (and the files with --files).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { putImage, tarOf } from './_helpers/fixtures.js';

interface Ctx { d: TestDaemon; base: string; top: string }
const layers = suite<Ctx>('sbx image layers', {} as Ctx);

layers.before(async (ctx) => {
  ctx.d = await startTestDaemon();
  const s = ctx.d.daemon.services;
  const base = await tarOf([
    { name: 'etc/' }, { name: 'etc/motd', data: 'hello\n' }, { name: 'etc/old', data: 'gone soon' },
    { name: 'srv/' }, { name: 'srv/data', data: 'x'.repeat(2000) },
  ]);
  const top = await tarOf([
    { name: 'etc/' }, { name: 'etc/motd', data: 'hello again\n' }, { name: 'etc/.wh.old', data: '' },
    { name: 'srv/' }, { name: 'srv/new', data: 'new!' },
  ]);
  const img = await putImage(s.content, s.images, 'docker.io/library/layered:1', [base, top]);
  ctx.base = img.manifest.layers[0]!.digest;
  ctx.top = img.manifest.layers[1]!.digest;
});
layers.after(async (ctx) => { await ctx.d?.close(); });

const short = (d: string): string => d.slice('sha256:'.length, 'sha256:'.length + 12);

layers('a table as dive summarises: per layer, top first, size and A/C/D counts', async ({ d, base, top }) => {
  const r = await sbx(d.root, ['image', 'layers', 'layered:1']);
  assert.is(r.code, 0, r.stderr);
  const rows = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));
  assert.equal(rows[0], ['LAYER', 'SIZE', 'ADDED', 'CHANGED', 'DELETED', 'CREATED BY']);
  // the top layer: C /etc /etc/motd /srv, A /srv/new, D /etc/old
  assert.equal(rows[1]!.slice(0, 1).concat(rows[1]!.slice(2)), [short(top), '1', '3', '1', 'sbx test fixture']);
  assert.equal(rows[2]!.slice(0, 1).concat(rows[2]!.slice(2)), [short(base), '5', '0', '0', 'sbx test fixture']);
  assert.match(rows[1]![1]!, /^\d+(\.\d+)?kB$/, 'a human size');
  assert.is(rows.length, 3);
});

layers('--files lists each layer\'s paths as sbx diff prints them, with sizes', async ({ d, top }) => {
  const r = await sbx(d.root, ['image', 'layers', '--files', 'layered:1']);
  assert.is(r.code, 0, r.stderr);
  const [upper, lower] = r.stdout.split('\n\n');
  assert.match(upper!, new RegExp(`^${short(top)}  \\S+  sbx test fixture\\n`));
  assert.equal(upper!.split('\n').slice(1).filter(Boolean), ['C /etc', 'C /etc/motd  12B', 'D /etc/old', 'C /srv', 'A /srv/new  4B']);
  assert.ok(lower!.includes('A /srv/data  2kB\n'), lower);
});

layers('--format json: one object per layer; --no-trunc gives the full digest', async ({ d, base, top }) => {
  const r = await sbx(d.root, ['image', 'layers', '--format', 'json', '--no-trunc', '--files', 'layered:1']);
  assert.is(r.code, 0, r.stderr);
  const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(objs.map((o) => [o.ID, o.Added, o.Changed, o.Deleted]), [[top, 1, 3, 1], [base, 5, 0, 0]]);
  assert.ok((objs[0]!.Files as { path: string }[]).some((f) => f.path === '/etc/old'));
  const t = await sbx(d.root, ['image', 'layers', '--format', '{{.Added}}/{{.Deleted}}', 'layered:1']);
  assert.is(t.stdout, '1/1\n5/0\n');
});

layers('errors: no such image (a daemon error, 125), wrong argument count, unknown flag', async ({ d }) => {
  const missing = await sbx(d.root, ['image', 'layers', 'nope:1']);
  assert.is(missing.code, 125, missing.stderr);
  assert.match(missing.stderr, /nope:1: no such image/);
  const none = await sbx(d.root, ['image', 'layers']);
  assert.is(none.code, 1);
  assert.match(none.stderr, /requires exactly 1 argument/);
  const flag = await sbx(d.root, ['image', 'layers', '--bogus', 'layered:1']);
  assert.is(flag.code, 125);
  assert.match(flag.stderr, /unknown flag: --bogus/);
});

layers.run();
