/**
 * A container's change journal follows its lifecycle through the manager's started/exited
 * events, with no polling: it is open as soon as `sbx run -d` returns (a change made in the first
 * milliseconds is in `sbx events`), and closed, its last rescan written, by the time `sbx wait`
 * returns; the recorder then holds nothing for the container.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

const s = suite<{ d: TestDaemon }>('changes: journals follow the container lifecycle', {} as { d: TestDaemon });
s.before.each(async (ctx) => {
  ctx.d = await startTestDaemon();
  if (process.getuid?.() !== 0) return;
  const r = await sbx(ctx.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after.each(async (ctx) => {
  await sbx(ctx.d.root, ['rm', '-f', 'early', 'brief']).catch(() => undefined);
  await ctx.d.close();
});

const paths = (out: string): string[] => out.trim().split('\n').filter(Boolean).map((l) => l.split('\t').slice(2, 4).join(' ')).sort();

s('a change in the first milliseconds is recorded; after exit the recorder holds nothing', privileged(async ({ d }) => {
  const run = await sbx(d.root, ['run', '-d', '--name', 'early', 'busybox', 'sh', '-c', 'touch /early; exec sleep 60']);
  assert.is(run.code, 0, run.stderr);
  const id = d.daemon.services.containers.get('early').config.id;
  assert.ok(await d.daemon.services.changes.live(id), 'the journal is open when run -d returns');
  const ev = await sbx(d.root, ['events', 'early']);
  assert.is(ev.code, 0, ev.stderr);
  assert.ok(paths(ev.stdout).includes('A /early'), ev.stdout);

  assert.is((await sbx(d.root, ['kill', 'early'])).code, 0);
  assert.is((await sbx(d.root, ['wait', 'early'])).code, 0);
  assert.is(await d.daemon.services.changes.live(id), undefined, 'no journal once the container has exited');
  assert.ok(paths((await sbx(d.root, ['events', 'early'])).stdout).includes('A /early'), 'the journal file stays');
}));

s('a container that exits at once still has its journal, closed when wait returns', privileged(async ({ d }) => {
  const run = await sbx(d.root, ['run', '--name', 'brief', 'busybox', 'sh', '-c', 'echo hi > /brief']);
  assert.is(run.code, 0, run.stderr);
  const id = d.daemon.services.containers.get('brief').config.id;
  assert.is((await sbx(d.root, ['wait', 'brief'])).code, 0);
  assert.is(await d.daemon.services.changes.live(id), undefined);
  const ev = await sbx(d.root, ['events', 'brief']);
  assert.ok(paths(ev.stdout).includes('A /brief'), ev.stdout);
  // started again: a new journal opens on the same file and closes again on exit
  assert.is((await sbx(d.root, ['start', '-a', 'brief'])).code, 0);
  assert.is((await sbx(d.root, ['wait', 'brief'])).code, 0);
  assert.is(await d.daemon.services.changes.live(id), undefined);
}));

s.run();
