/**
 * Detach keys as docker's: Ctrl-P Ctrl-Q (or --detach-keys, or config.json detachKeys) leave
 * run -it / attach / exec -it with "read escape sequence" and exit 0, the process keeps running;
 * a partial sequence followed by another key passes every byte through. Through real ptys.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DetachMatcher, parseDetachKeys } from '../cli/detach-keys.js';
import { sbx } from './_helpers/cli.js';
import { sbxPty, startBusyboxDaemon, type PtyCli } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { eventually } from './_helpers/wait.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon }
const run = suite<Ctx>('detach keys', {} as Ctx);
run.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
run.after(async (ctx) => { await ctx.d?.close(); });

run('docker\'s syntax: ctrl-@..ctrl-_, single characters, comma lists, any case; bad ones refused', () => {
  assert.equal([...parseDetachKeys('')], [16, 17], 'default ctrl-p,ctrl-q');
  assert.equal([...parseDetachKeys('ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 1, 26, 27, 28, 29, 30, 31]);
  assert.equal([...parseDetachKeys('CTRL-X,a,~')], [24, 0x61, 0x7e]);
  for (const bad of ['ctrl-', 'ctrl-1', 'abc', 'ctrl-p,,ctrl-q', 'ctrl-pp']) {
    assert.throws(() => parseDetachKeys(bad), (e: Error) => e.message === `Invalid detach keys (${bad}) provided`, bad);
  }
});

run('the matcher: held bytes are released when the sequence breaks, even across chunks', () => {
  const m = new DetachMatcher(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.equal(m.feed(Buffer.from('ab\x10')), { pass: Buffer.from('ab'), detach: false });
  assert.equal(m.feed(Buffer.from('x')), { pass: Buffer.from('\x10x'), detach: false }, 'ctrl-p then x sends both');
  assert.equal(m.feed(Buffer.from('\x10\x10')), { pass: Buffer.from('\x10'), detach: false });
  assert.equal(m.feed(Buffer.from('\x11rest')), { pass: Buffer.alloc(0), detach: true });
});

async function typeUntil(t: PtyCli, line: string, re: RegExp): Promise<void> {
  // keystrokes typed before the shell set its line up may be dropped: type until it answers
  await eventually(`${re} on the terminal`, async () => {
    const mark = t.output().length;
    t.pty.write(`${line}\r`);
    try { await t.expect(re, mark, 1000); return true; } catch { return false; }
  });
}

run('run -it: Ctrl-P x passes through, Ctrl-P Ctrl-Q detaches (exit 0), attach comes back, --detach-keys', privileged<Ctx>(async ({ d }) => {
  const t = sbxPty(d.root, ['run', '-it', '--name', 'dt1', 'busybox', 'sh']);
  await typeUntil(t, 'echo up-$((1+1))', /up-2/);
  // cat -v shows what the container got: both bytes of the broken sequence
  let mark = t.output().length;
  t.pty.write('cat -v\r');
  await t.expect(/cat -v\r\n/, mark);
  mark = t.output().length;
  t.pty.write('\x10x\r');
  await t.expect(/\^Px\r\n/, mark);
  t.pty.write('\x04');
  await typeUntil(t, 'echo back-$((2+2))', /back-4/);
  t.pty.write('\x10\x11');
  assert.is(await t.exit, 0);
  assert.match(t.output(), /read escape sequence/);
  assert.match((await sbx(d.root, ['ps'])).stdout, /dt1/, 'the container keeps running');

  const a = sbxPty(d.root, ['attach', '--detach-keys', 'ctrl-x,e', 'dt1']);
  await typeUntil(a, 'echo again-$((3+3))', /again-6/);
  a.pty.write('\x10\x11'); // not the keys of this attach: passed to the shell
  await typeUntil(a, 'echo still-$((4+4))', /still-8/);
  a.pty.write('\x18e');
  assert.is(await a.exit, 0);
  assert.match(a.output(), /read escape sequence/);
  assert.is((await sbx(d.root, ['rm', '-f', 'dt1'])).code, 0);
}));

run('exec -it detaches and its process keeps running; config.json detachKeys is the default', privileged<Ctx>(async ({ d }) => {
  assert.is((await sbx(d.root, ['run', '-dit', '--name', 'dt2', 'busybox', 'sh'])).code, 0);
  const cfg = mkdtempSync(join(tmpdir(), 'sbx-detach-'));
  writeFileSync(join(cfg, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-a,q' }));
  const e = sbxPty(d.root, ['exec', '-it', 'dt2', 'sh', '-c', 'echo $$ > /tmp/exec.pid; exec sh'], undefined, { DOCKER_CONFIG: cfg });
  await typeUntil(e, 'echo in-$((5+5))', /in-10/);
  e.pty.write('\x01q');
  assert.is(await e.exit, 0);
  assert.match(e.output(), /read escape sequence/);
  const alive = await sbx(d.root, ['exec', 'dt2', 'sh', '-c', 'kill -0 $(cat /tmp/exec.pid) && echo alive']);
  assert.is(alive.stdout, 'alive\n', 'the exec process keeps running');
  assert.is((await sbx(d.root, ['rm', '-f', 'dt2'])).code, 0);
}));

run('bad --detach-keys: exit 125 with docker\'s message, and nothing created', privileged<Ctx>(async ({ d }) => {
  const before = (await sbx(d.root, ['ps', '-aq'])).stdout;
  const r = await sbx(d.root, ['run', '-it', '--detach-keys', 'ctrl-', 'busybox', 'true']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /Invalid detach keys \(ctrl-\) provided/);
  assert.is((await sbx(d.root, ['ps', '-aq'])).stdout, before);
}));

run.run();
