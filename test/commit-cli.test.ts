/**
 * The seed scenario through the CLI, as a user types it: run a busybox container that edits its
 * file system, `sbx diff`, `sbx events`, `sbx commit -c`, `sbx history` / `sbx image inspect`,
 * `sbx run` of the new image; a live journal followed while a container runs; commit of a
 * running container (frozen, then thawed); bad input; a daemon killed in the middle of a commit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const s = suite<{ d: TestDaemon }>('commit: the seed scenario', {} as { d: TestDaemon });
s.before.each(async (ctx) => {
  ctx.d = await startTestDaemon();
  if (process.getuid?.() !== 0) return;
  const r = await sbx(ctx.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after.each(async (ctx) => {
  await sbx(ctx.d.root, ['rm', '-f', 'web', 'live', 'runner']).catch(() => undefined);
  await ctx.d.close();
});

const SEED = "mkdir -p /www && echo '<h1>edited</h1>' > /www/index.html && rm /etc/motd";

s('run → diff → events → commit -c → history/inspect → run the new image', privileged(async ({ d }) => {
  const run = await sbx(d.root, ['run', '--name', 'web', 'busybox', 'sh', '-c', SEED]);
  assert.is(run.code, 0, run.stderr);
  const diff = await sbx(d.root, ['diff', 'web']);
  assert.is(diff.code, 0, diff.stderr);
  assert.is(diff.stdout, 'C /etc\nD /etc/motd\nA /www\nA /www/index.html\n');
  const p = await sbx(d.root, ['diff', '-p', 'web']);
  assert.match(p.stdout, /\+\+\+ b\/www\/index.html\n@@ -0,0 \+1,1 @@\n\+<h1>edited<\/h1>\n/);
  assert.match(p.stdout, /--- a\/etc\/motd\n\+\+\+ \/dev\/null\n/);
  const ev = await sbx(d.root, ['events', 'web']);
  assert.is(ev.code, 0, ev.stderr);
  const lines = ev.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.equal(lines.map((l) => `${l[2]} ${l[3]}`).sort(), ['A /www', 'A /www/index.html', 'C /etc', 'D /etc/motd']);
  assert.equal(lines.map((l) => l[0]), ['1', '2', '3', '4']);
  const since = await sbx(d.root, ['events', 'web', '--since', '2']);
  assert.equal(since.stdout.trim().split('\n').map((l) => l.split('\t')[0]), ['3', '4']);

  const c = await sbx(d.root, ['commit', '-a', 'me', '-m', 'edited index.html', '-c', 'CMD ["httpd","-f","-p","80","-h","/www"]', '-c', 'EXPOSE 80', 'web', 'mysite:1']);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const hist = await sbx(d.root, ['history', '--no-trunc', 'mysite:1']);
  const top = hist.stdout.split('\n')[1]!;
  assert.ok(top.startsWith(c.stdout.trim()), hist.stdout);
  assert.match(top, /sh -c mkdir -p \/www/);
  assert.match(top, /edited index\.html/);
  const insp = JSON.parse((await sbx(d.root, ['image', 'inspect', 'mysite:1'])).stdout)[0];
  const base = JSON.parse((await sbx(d.root, ['image', 'inspect', 'busybox'])).stdout)[0];
  assert.is(insp.Id, c.stdout.trim());
  assert.equal(insp.RootFS.Layers.slice(0, -1), base.RootFS.Layers);
  assert.is(insp.RootFS.Layers.length, base.RootFS.Layers.length + 1);
  assert.equal(insp.Config.Cmd, ['httpd', '-f', '-p', '80', '-h', '/www']);
  assert.equal(insp.Config.ExposedPorts, { '80/tcp': {} });
  assert.is(insp.Author, 'me');

  const cat = await sbx(d.root, ['run', '--rm', 'mysite:1', 'cat', '/www/index.html']);
  assert.is(cat.stdout, '<h1>edited</h1>\n', cat.stderr);
  const ls = await sbx(d.root, ['run', '--rm', 'mysite:1', 'ls', '/etc/motd']);
  assert.is.not(ls.code, 0);

  // An unchanged container commits to no new layer.
  assert.is((await sbx(d.root, ['run', '--name', 'same', 'mysite:1', 'true'])).code, 0);
  const same = await sbx(d.root, ['commit', 'same', 'mysite:2']);
  assert.is(same.code, 0, same.stderr);
  const i2 = JSON.parse((await sbx(d.root, ['image', 'inspect', 'mysite:2'])).stdout)[0];
  assert.equal(i2.RootFS.Layers, insp.RootFS.Layers);
}));

s('the live journal follows a running container; commit freezes and thaws it', privileged(async ({ d }) => {
  const r = await sbx(d.root, ['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'sleep 0.3; echo a > /a; rm /etc/passwd; mkdir -p /d/e; touch /d/e/f; exec sleep 60']);
  assert.is(r.code, 0, r.stderr);
  const follow = spawn(SBX_BIN, ['events', '-f', 'live'], { env: { ...process.env, SBX_ROOT: d.root, SBX_NO_AUTOSTART: '1' } });
  let out = '';
  follow.stdout.on('data', (b: Buffer) => { out += b; });
  const deadline = Date.now() + 15000;
  while (!/\/d\/e\/f/.test(out) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  const got = out.trim().split('\n').map((l) => l.split('\t').slice(2).join(' ')).sort();
  assert.equal(got, ['A /a', 'A /d', 'A /d/e', 'A /d/e/f', 'C /etc', 'D /etc/passwd']);

  const c = await sbx(d.root, ['commit', 'live', 'live:1']);
  assert.is(c.code, 0, c.stderr);
  const e = await sbx(d.root, ['exec', 'live', 'sh', '-c', 'echo still-running > /after']);
  assert.is(e.code, 0, `thawed after the commit: ${e.stderr}`);
  while (!/\/after/.test(out) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  assert.match(out, /\tA\t\/after\n/);
  assert.is((await sbx(d.root, ['stop', '-t', '0', 'live'])).code, 0);
  const code = await new Promise<number | null>((res) => { if (follow.exitCode !== null) res(follow.exitCode); else follow.on('exit', res); });
  assert.is(code, 0, 'the follow ends when the container stops');
}));

s('bad input: unknown container, bad -c, a name docker would refuse', privileged(async ({ d }) => {
  const none = await sbx(d.root, ['commit', 'nosuch', 'x:1']);
  assert.is(none.code, 125);
  assert.match(none.stderr, /^Error: container nosuch: no such container/);
  assert.is((await sbx(d.root, ['run', '--name', 'web', 'busybox', 'true'])).code, 0);
  const bad = await sbx(d.root, ['commit', '-c', 'RUN make', 'web', 'x:1']);
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /change "RUN make": RUN is not a valid change command/);
  const name = await sbx(d.root, ['commit', 'web', 'UPPER/Case:1']);
  assert.is(name.code, 125);
  assert.match(name.stderr, /^Error: .*UPPER\/Case/);
  const ev = await sbx(d.root, ['events', 'nosuch']);
  assert.is(ev.code, 125);
  assert.is((await sbx(d.root, ['images', '-q'])).stdout.trim().split('\n').length, 1, 'no image was made');
}));

s.run();

// ------------------------------------------------------------------------------------------------

const crash = suite<{ root: string; daemon?: ChildProcess }>('commit: the daemon killed mid-commit', { root: '' });
crash.before.each(async (ctx) => { ctx.root = await tmpdir('sbx-crash-'); });
crash.after.each(async (ctx) => {
  ctx.daemon?.kill('SIGKILL');
  await rmrf(ctx.root);
});

async function startSbxd(root: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(SBX_BIN, '..', '..', 'daemon', 'main.js')], {
    env: { ...process.env, SBX_ROOT: root, SBX_LOG_LEVEL: 'error' }, stdio: 'ignore',
  });
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if ((await sbx(root, ['version'])).code === 0) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('sbxd did not start');
}

crash('no half image is visible and the container is intact', privileged(async (ctx) => {
  ctx.daemon = await startSbxd(ctx.root);
  assert.is((await sbx(ctx.root, ['import', '--busybox', 'busybox'])).code, 0);
  const run = await sbx(ctx.root, ['run', '--name', 'big', 'busybox', 'sh', '-c', 'dd if=/dev/urandom of=/big bs=1M count=300 2>/dev/null && echo done > /small']);
  assert.is(run.code, 0, run.stderr);
  const before = (await sbx(ctx.root, ['images', '-q', '--no-trunc'])).stdout;
  const commit = spawn(SBX_BIN, ['commit', 'big', 'big:1'], { env: { ...process.env, SBX_ROOT: ctx.root, SBX_NO_AUTOSTART: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  commit.stderr!.on('data', (b: Buffer) => { stderr += b; });
  // Kill sbxd once the layer is being written into the store's ingest area.
  const deadline = Date.now() + 20000;
  for (;;) {
    const ingest = await readdir(join(ctx.root, 'ingest')).catch(() => []);
    if (ingest.length > 0) break;
    if (Date.now() > deadline) assert.unreachable('the commit never started writing');
    await new Promise((r) => setTimeout(r, 5));
  }
  ctx.daemon.kill('SIGKILL');
  const code = await new Promise<number | null>((res) => commit.on('exit', res));
  if (code !== 125) console.log("STDERR", stderr);
  assert.is(code, 125, "the CLI reports the failure");
  ctx.daemon = await startSbxd(ctx.root);
  assert.is((await sbx(ctx.root, ['images', '-q', '--no-trunc'])).stdout, before, 'no new image');
  assert.is.not((await sbx(ctx.root, ['image', 'inspect', 'big:1'])).code, 0);
  const diff = await sbx(ctx.root, ['diff', 'big']);
  assert.is(diff.stdout, 'A /big\nA /small\n', 'the container is intact');
  const again = await sbx(ctx.root, ['commit', 'big', 'big:1']);
  assert.is(again.code, 0, again.stderr);
  const cat = await sbx(ctx.root, ['run', '--rm', 'big:1', 'cat', '/small']);
  assert.is(cat.stdout, 'done\n');
}));

crash.run();
