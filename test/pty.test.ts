/**
 * The container's terminal (-t) is a pty of the container's own devpts (runc's console socket):
 * `tty` prints a /dev/pts path that exists in the container, /dev/tty opens, resize reaches it,
 * and no terminal the container can reach lives on the host's devpts.
 */
import { statSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { sbxPty, startBusyboxDaemon, type PtyCli } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { eventually } from './_helpers/wait.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon }
const run = suite<Ctx>('pty: the container terminal', {} as Ctx);
run.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
run.after(async (ctx) => { await ctx.d?.close(); });

/** Type `line` into the shell on `t` and wait for the output to match `re` (the echo of the typed line must not). */
async function ask(t: PtyCli, line: string, re: RegExp, timeoutMs?: number): Promise<RegExpExecArray> {
  const mark = t.output().length;
  t.pty.write(`${line}\r`);
  await t.expect(re, mark, timeoutMs);
  return re.exec(t.output().slice(mark))!;
}

// st_dev of the devpts the container mounted, of its stdin and of /dev/console (busybox stat)
const DEVS = 'echo D=$(stat -c %d /dev/pts)/$(stat -L -c %d /proc/self/fd/0)/$(stat -L -c %d /dev/console)/';

run('run -it: tty is /dev/pts/0 of the container\'s own devpts, /dev/tty opens, /dev/console is it', privileged<Ctx>(async ({ d }) => {
  const t = sbxPty(d.root, ['run', '-it', '--rm', 'busybox', 'sh']);
  await t.expect(/# /);
  await ask(t, 'echo T=$(tty) L=$(ls /dev/pts | tr "\\n" " ")', /T=\/dev\/pts\/0 L=0 ptmx\r\n/);
  const [, pts, stdin, console] = await ask(t, DEVS, /D=(\d+)\/(\d+)\/(\d+)\//);
  assert.is(stdin, pts, 'stdin is a pty of the container\'s devpts');
  assert.is(console, pts, '/dev/console is the container\'s pty too');
  assert.is.not(Number(pts), statSync('/dev/pts').dev, 'a devpts instance of its own');
  await ask(t, 'echo via-dev-tty > /dev/tty && echo W=$((40+2))', /via-dev-tty\r\nW=42/);
  t.pty.write('exit 3\r');
  assert.is(await t.exit, 3);
}));

run('exec -it: a /dev/pts/N that exists in the container, owned by the user; resize reaches it', privileged<Ctx>(async ({ d }) => {
  assert.is((await sbx(d.root, ['run', '-dit', '--name', 'p1', 'busybox', 'sh'])).code, 0);
  const e = sbxPty(d.root, ['exec', '-it', '-u', '1000', 'p1', 'sh'], { cols: 80, rows: 24 });
  await e.expect(/\$ /);
  const [, n] = await ask(e, 'echo T=$(tty) E=$(test -e $(tty) && echo yes) O=$(stat -c %u $(tty))', /T=\/dev\/pts\/(\d+) E=yes O=1000\r\n/);
  assert.ok(Number(n) >= 1, 'pts/0 is PID 1\'s; the exec gets the next one');
  const [, pts, stdin] = await ask(e, DEVS, /D=(\d+)\/(\d+)\/(\d+)\//);
  assert.is(stdin, pts);
  await ask(e, 'stty size', /24 80\r\n/);
  e.pty.resize(100, 30);
  await eventually('the new size inside the exec', async () => {
    try { await ask(e, 'echo S=$(stty size)', /S=30 100\r\n/, 1000); return true; } catch { return false; }
  });
  e.pty.write('exit 4\r');
  assert.is(await e.exit, 4);
  assert.is((await sbx(d.root, ['rm', '-f', 'p1'])).code, 0);
}));

run('attack: no terminal the container can reach (stdio, /dev/console, /dev/pts/*) is on the host\'s devpts', privileged<Ctx>(async ({ d }) => {
  const host = statSync('/dev/pts').dev;
  const r = await sbx(d.root, ['run', '-t', '--rm', 'busybox', 'sh', '-c',
    'for f in /proc/self/fd/0 /proc/self/fd/1 /dev/console /dev/pts/*; do echo "$f $(stat -L -c %d $f)"; done'], { timeoutMs: 30000 });
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split(/\r?\n/).map((l) => l.split(' '));
  assert.ok(lines.length >= 4, r.stdout);
  for (const [path, dev] of lines) assert.is.not(Number(dev), host, `${path} is on the host's devpts`);
  assert.equal(lines.filter(([p]) => p!.startsWith('/dev/pts/')).map(([p]) => p), ['/dev/pts/0', '/dev/pts/ptmx'], 'only its own pty');
}));

run('-t: a command that cannot run still gives docker\'s 127 and message', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '-t', '--rm', 'busybox', 'no-such-cmd']);
  assert.is(r.code, 127);
  assert.match(r.stderr, /no-such-cmd.*not found/);
  const w = await sbx(d.root, ['run', '-t', '--rm', '-w', '/etc/passwd/x', 'busybox', 'true']);
  assert.is(w.code, 125, w.stderr);
}));

run.run();
