import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { sbx } from './_helpers/cli.js';
import { makeBusyboxImage } from './_helpers/image.js';
import { privileged } from './_helpers/root.js';

const s = suite<{ d: TestDaemon }>('sbx diff of images', {} as { d: TestDaemon });
s.before.each(async (ctx) => { ctx.d = await startTestDaemon(); });
s.after.each(async (ctx) => { await ctx.d.close(); });

s('two images: docker lines, -p unified diffs, --json', privileged(async ({ d }) => {
  const svc = d.daemon.services;
  await makeBusyboxImage(svc, 'one', { 'etc/motd': 'welcome\n', 'etc/conf': 'a=1\nb=2\nc=3\n', 'opt/x/y': 'y' });
  await makeBusyboxImage(svc, 'two', { 'etc/conf': 'a=1\nb=20\nc=3\n', 'www/index.html': '<h1>hi</h1>\n' });
  const r = await sbx(d.root, ['diff', 'one', 'two']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, ['C /etc', 'C /etc/conf', 'D /etc/motd', 'D /opt', 'A /www', 'A /www/index.html', ''].join('\n'));
  const p = await sbx(d.root, ['diff', '-p', 'one', 'two']);
  assert.is(p.code, 0, p.stderr);
  assert.match(p.stdout, /diff --git a\/etc\/conf b\/etc\/conf\n--- a\/etc\/conf\n\+\+\+ b\/etc\/conf\n@@ -1,3 \+1,3 @@\n a=1\n-b=2\n\+b=20\n c=3\n/);
  assert.match(p.stdout, /--- a\/etc\/motd\n\+\+\+ \/dev\/null\n@@ -1,1 \+0,0 @@\n-welcome\n/);
  assert.match(p.stdout, /--- \/dev\/null\n\+\+\+ b\/www\/index.html\n/);
  const j = await sbx(d.root, ['diff', '--json', 'one', 'two']);
  const parsed = JSON.parse(j.stdout);
  assert.equal(parsed.changes[2], { op: 'delete', path: '/etc/motd', kind: 'file' });
  assert.equal(parsed.changes[5], { op: 'add', path: '/www/index.html', kind: 'file', size: 12 });
}));

s('bad input: unknown names, wrong argument counts', async ({ d }) => {
  const r = await sbx(d.root, ['diff', 'nosuch', 'other']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /^Error: diff nosuch: no such container or image/);
  assert.is((await sbx(d.root, ['diff'])).code, 1);
  assert.is((await sbx(d.root, ['commit'])).code, 1);
  const e = await sbx(d.root, ['events', 'x', '--since', 'abc']);
  assert.is(e.code, 1);
});

s.run();
