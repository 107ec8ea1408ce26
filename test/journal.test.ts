import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatChange, type ChangeRecord } from '../protocol/index.js';
import { Journal, minimalScan, readJournal } from '../daemon/changes/journal.js';
import { DirView, LayeredView } from '../daemon/snapshots/view.js';
import { mountOverlay, sh, writeTree } from './_helpers/fstree.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { dir: string; merged: string; upper: string; lower: string; umount?: () => Promise<void>; journal?: Journal }

const j = suite<Ctx>('change journal', {} as Ctx);

j.before.each(async (ctx) => {
  ctx.dir = await tmpdir('sbx-journal-');
  ctx.lower = join(ctx.dir, 'lower');
  ctx.upper = join(ctx.dir, 'upper');
  ctx.merged = join(ctx.dir, 'merged');
  ctx.journal = undefined;
  ctx.umount = undefined;
});
j.after.each(async (ctx) => {
  await ctx.journal?.close();
  await ctx.umount?.().catch(() => undefined);
  await rmrf(ctx.dir);
});

async function setup(ctx: Ctx, opts: { fullRescanMs?: number; throttleMs?: number } = {}): Promise<Journal> {
  await writeTree(ctx.lower, {
    'etc/motd': 'welcome\n', 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n', 'opt/app/a': 'a', 'opt/app/b/c': 'c', 'bin/busybox': 'ELF',
  });
  ctx.umount = await mountOverlay([ctx.lower], ctx.upper, join(ctx.dir, 'work'), ctx.merged);
  ctx.journal = await Journal.open({ id: 'test', dir: ctx.dir, layer: ctx.upper, lower: new LayeredView([ctx.lower]) },
    { fullRescanMs: opts.fullRescanMs ?? 3_600_000, throttleMs: opts.throttleMs });
  return ctx.journal;
}

/** Wait (without flushing) until `pred` holds for the records seen live. */
async function until(records: ChangeRecord[], pred: (r: ChangeRecord[]) => boolean, ms = 20000): Promise<void> {
  await eventually(`live records (have ${records.length})`, () => pred(records), ms);
}

j('the seed scenario is recorded live, deletions of image files included', privileged(async (ctx) => {
  const journal = await setup(ctx);
  const live: ChangeRecord[] = [];
  journal.subscribe((r) => live.push(r));
  await sh(ctx.merged, "mkdir -p www && echo '<h1>edited</h1>' > www/index.html && rm etc/motd");
  await until(live, (rs) => rs.length >= 4);
  await journal.flush(); // a rescan still pending would show a record too many
  assert.equal(live.map(formatChange).sort(), ['A /www', 'A /www/index.html', 'C /etc', 'D /etc/motd']);
  assert.equal(live.map((r) => r.seq), [1, 2, 3, 4]);
  assert.equal(live.find((r) => r.path === '/www/index.html')!.size, 16);
  assert.equal(await readJournal(ctx.dir), live, 'the file holds what was sent live');
}));

j('a burst of 20,000 files: every one recorded, without a flush', privileged(async (ctx) => {
  const journal = await setup(ctx);
  const live: ChangeRecord[] = [];
  journal.subscribe((r) => live.push(r));
  await sh(ctx.merged, 'mkdir burst && cd burst && seq 1 20000 | sed s/^/f/ | xargs touch');
  await until(live, (rs) => rs.length >= 20001, 30000);
  await journal.flush(); // settles the rescans still running before the records are checked
  const adds = live.filter((r) => r.op === 'add');
  assert.is(adds.length, 20001);
  assert.is(new Set(adds.map((r) => r.path)).size, 20001);
  // touch sets the time after creating: a file seen in between is then also (truly) modified.
  assert.ok(live.every((r) => r.op === 'add' || (r.op === 'modify' && r.path.startsWith('/burst/f'))));
  assert.equal(live.map((r) => r.seq), live.map((_, i) => i + 1));
}));

j('modify, delete of an added tree (one record), delete of an image tree (one record), re-create', privileged(async (ctx) => {
  // Only flush() rescans here, so each step is seen whole (a live rescan racing `rm -rf` may
  // record the tree's lower part first, truthfully).
  const journal = await setup(ctx, { throttleMs: 3_600_000 });
  await sh(ctx.merged, 'mkdir -p new/x/y && echo 1 > new/x/y/f && echo 1 > note');
  await journal.flush();
  const mark = journal.last;
  await sh(ctx.merged, 'echo 22 > note && rm -rf new && rm -rf opt && echo root > etc/passwd');
  await journal.flush();
  await sh(ctx.merged, 'mkdir opt');
  await journal.flush();
  const rs = await readJournal(ctx.dir, mark);
  assert.equal(rs.map(formatChange), ['C /etc', 'C /etc/passwd', 'D /new', 'C /note', 'D /opt', 'A /opt']);
  assert.is(rs[0]!.seq, mark + 1);
}));

j('resumable: changes made while nobody watched are recorded on reopen, seq continues', privileged(async (ctx) => {
  const journal = await setup(ctx);
  await sh(ctx.merged, 'echo a > a && echo b > b');
  await journal.flush();
  await journal.close();
  ctx.journal = undefined;
  await sh(ctx.merged, 'rm a && echo bb > b && echo c > c && rm bin/busybox');
  ctx.journal = await Journal.open({ id: 'test', dir: ctx.dir, layer: ctx.upper, lower: new LayeredView([ctx.lower]) });
  const rs = await readJournal(ctx.dir, 2);
  assert.equal(rs.map(formatChange), ['D /a', 'C /b', 'C /bin', 'D /bin/busybox', 'A /c']);
  assert.equal(rs.map((r) => r.seq), [3, 4, 5, 6, 7]);
}));

j.run();

const unit = suite('journal helpers');
unit('minimalScan: deep roots swallow what is under them', () => {
  const m = new Map<string, boolean>([['/a/b', false], ['/a', true], ['/a-b', false], ['/c/d', true], ['/a/b/c', true], ['/c/d/e', false]]);
  assert.equal(minimalScan(m), [{ path: '/a', deep: true }, { path: '/a-b', deep: false }, { path: '/c/d', deep: true }]);
  assert.equal(minimalScan(new Map([['/x', false], ['/', true]])), [{ path: '/', deep: true }]);
});
unit.run();

const full = suite<{ dir: string; journal?: Journal }>('change journal: copy-based (full) trees', { dir: '' });
full.before.each(async (ctx) => { ctx.dir = await tmpdir('sbx-journal-full-'); ctx.journal = undefined; });
full.after.each(async (ctx) => { await ctx.journal?.close(); await rmrf(ctx.dir); });

full('a double walk against the image tree records adds, changes and deletions', async (ctx) => {
  await writeTree(join(ctx.dir, 'image'), { 'etc/motd': 'welcome\n', 'etc/passwd': 'root\n', 'opt/a/b': 'b' });
  await sh(ctx.dir, 'cp -a image tree');
  ctx.journal = await Journal.open({ id: 't', dir: ctx.dir, tree: join(ctx.dir, 'tree'), lower: new DirView(join(ctx.dir, 'image')) },
    { fullRescanMs: 3_600_000 });
  assert.is(ctx.journal.last, 0, 'an unchanged copy is no change');
  await sh(join(ctx.dir, 'tree'), "rm etc/motd && rm -rf opt && mkdir -p www && echo hi > www/index.html");
  await ctx.journal.flush();
  assert.equal((await readJournal(ctx.dir)).map(formatChange), ['C /etc', 'D /etc/motd', 'D /opt', 'A /www', 'A /www/index.html']);
  await sh(join(ctx.dir, 'tree'), 'rm -rf www && echo root2 > etc/passwd');
  await ctx.journal.flush();
  assert.equal((await readJournal(ctx.dir, 5)).map(formatChange), ['C /etc/passwd', 'D /www']);
});

full.run();
