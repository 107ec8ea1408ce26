/**
 * The Docker Engine API's container verbs on sbxd's socket through Debian's docker CLI: the seed
 * scenario (run -it on a pseudo-terminal, edit, commit -m -c, run -d -p, fetch; exec, cp both
 * ways, top, stats, diff, export), pause/unpause/restart/rename/update/prune, detach keys.
 * dockerode and raw streams are in docker-api-streams.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker, dockerPty, raw } from './_helpers/docker-cli.js';
import { freePort } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; sock: string }
const test = suite<Ctx>('docker api: container verbs (CLI)', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
});
test.after(async (ctx) => {
  if (!ctx.d) return;
  const ids = (await docker(ctx.sock, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await docker(ctx.sock, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

const LONG = 60_000;
const PAGE = '<h1>hello from docker</h1>';

/** Until the session's terminal has `size`: docker's CLI resizes it after the start (API 1.41 has no ConsoleSize), racing the shell. */
function sized(d: TestDaemon, session: () => string, size: { cols: number; rows: number }): Promise<unknown> {
  return eventually(`the terminal resized to ${size.cols}x${size.rows}`, () => {
    const got = d.daemon.services.containers.session(session()).size;
    return got?.cols === size.cols && got.rows === size.rows;
  }, LONG);
}

test('seed scenario with the docker CLI: run -it, edit, commit -m -c, run -d -p, fetch, exec, cp, top, stats, diff, export', privileged<Ctx>(async ({ d, sock }) => {
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await docker(sock, args, { timeoutMs: LONG, ...(input !== undefined ? { input } : {}) });
    assert.is(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  // 1. a shell on a terminal (the CLI resizes it to the terminal's size after the start)
  const t = dockerPty(sock, ['run', '-it', '--name', 'seed', 'busybox', 'sh'], { cols: 100, rows: 30 });
  await t.expect(/# /, 0, LONG);
  await sized(d, () => d.daemon.services.containers.get('seed').config.id, { cols: 100, rows: 30 });
  let mark = t.output().length;
  t.pty.write(`mkdir -p /www && echo '${PAGE}' > /www/index.html && tty && stty size\r`);
  await t.expect(/\/dev\/pts\/0\s+30 100/, mark, LONG);
  mark = t.output().length;
  t.pty.write('exit 3\r');
  assert.is(await t.exit, 3, 'docker run -it exits with the shell\'s code');
  assert.match(await ok(['diff', 'seed']), /^A \/www\nA \/www\/index\.html$/m);

  // 2. commit with a message and a CMD, then serve it on a published port
  const id = (await ok(['commit', '-m', 'the page', '-c', 'CMD ["httpd","-f","-p","80","-h","/www"]', 'seed', 'me/site'])).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.match(await ok(['history', '--format', '{{.Comment}}', 'me/site']), /^the page\n/);
  const port = await freePort();
  await ok(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'me/site']);
  const page = await eventually('the page', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    return r?.ok && (await r.text());
  }, LONG);
  assert.is(page.trim(), PAGE);

  // 3. exec: output and exit codes, stdin with -i, a terminal with -it
  assert.is(await ok(['exec', 'web', 'cat', '/www/index.html']), `${PAGE}\n`);
  const three = await docker(sock, ['exec', 'web', 'sh', '-c', 'echo err >&2; exit 3'], { timeoutMs: LONG });
  assert.is(three.code, 3);
  assert.is(three.stderr, 'err\n');
  const missing = await docker(sock, ['exec', 'web', 'no-such-command'], { timeoutMs: LONG });
  assert.is(missing.code, 127, missing.stderr);
  assert.match(missing.stderr, /no-such-command/);
  assert.is(await ok(['exec', '-i', 'web', 'wc', '-c'], 'x'.repeat(100_000)), '100000\n');
  const it = dockerPty(sock, ['exec', '-it', 'web', 'sh'], { cols: 90, rows: 20 });
  await it.expect(/# /, 0, LONG);
  const web = d.daemon.services.containers.get('web');
  await sized(d, () => `${web.config.id}.${web.execs}`, { cols: 90, rows: 20 });
  const m2 = it.output().length;
  it.pty.write('tty; stty size; exit 4\r');
  await it.expect(/\/dev\/pts\/\d+\s+20 90/, m2, LONG);
  assert.is(await it.exit, 4);

  // 4. cp both ways; the copy in shows in diff
  const dir = mkdtempSync(join(tmpdir(), 'sbx-docker-cp-'));
  await ok(['cp', 'web:/www/index.html', join(dir, 'out.html')]);
  assert.is(readFileSync(join(dir, 'out.html'), 'utf8'), `${PAGE}\n`);
  writeFileSync(join(dir, 'new.txt'), 'copied in\n');
  await ok(['cp', join(dir, 'new.txt'), 'web:/www/']);
  assert.is(await ok(['exec', 'web', 'cat', '/www/new.txt']), 'copied in\n');
  assert.match(await ok(['diff', 'web']), /^A \/www\/new\.txt$/m);
  const nf = await docker(sock, ['cp', 'web:/nope', dir]);
  assert.is(nf.code, 1);
  assert.match(nf.stderr, /No such container:path: web:\/nope/, "docker's words for a HEAD answered 404");

  // 5. top, stats
  const top = (await ok(['top', 'web'])).split('\n');
  assert.match(top[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  assert.match(top[1]!, /httpd -f -p 80 -h \/www$/);
  const stats = (await ok(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', 'web'])).trim().split('|');
  assert.is(stats[0], 'web');
  assert.match(stats[1]!, /^\d+\.\d\d%$/);
  assert.match(stats[2]!, /^[\d.]+[KMG]iB \/ [\d.]+[KMG]iB$/);
  assert.not.match(stats[2]!, /^0B/, 'memory in use');
  assert.is(stats[3], '1');

  // 6. export: the whole tree, the edit in it
  const exp = await docker(sock, ['export', 'seed'], { timeoutMs: LONG });
  assert.is(exp.code, 0, exp.stderr);
  assert.ok(exp.stdout.includes('www/index.html'), 'the tar names the edited file');
  assert.ok(exp.stdout.includes(PAGE), 'and holds its bytes');
  await ok(['rm', 'seed']);
  await ok(['rm', '-f', 'web']);
}));

test('docker pause, unpause, restart, rename, update, container prune', privileged<Ctx>(async ({ sock }) => {
  const ok = async (args: string[]): Promise<string> => {
    const r = await docker(sock, args, { timeoutMs: LONG });
    assert.is(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '600']);
  assert.is(await ok(['pause', 'p1']), 'p1\n');
  assert.match(await ok(['ps', '--format', '{{.Status}}']), /\(Paused\)/);
  assert.is(await ok(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'p1']), 'paused true\n');
  const again = await docker(sock, ['pause', 'p1']);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already paused/);
  const ex = await docker(sock, ['exec', 'p1', 'true']);
  assert.is(ex.code, 1, 'exec into a paused container is refused');
  assert.match(ex.stderr, /paused/);
  assert.is(await ok(['unpause', 'p1']), 'p1\n');
  assert.is(await ok(['inspect', '-f', '{{.State.Status}}', 'p1']), 'running\n');

  const before = (await ok(['inspect', '-f', '{{.State.StartedAt}}', 'p1'])).trim();
  assert.is(await ok(['restart', '-t', '1', 'p1']), 'p1\n');
  const after = (await ok(['inspect', '-f', '{{.State.StartedAt}} {{.State.Status}}', 'p1'])).trim().split(' ');
  assert.is(after[1], 'running');
  assert.ok(after[0]! > before, `restart gives a new StartedAt (${before} → ${after[0]})`);

  assert.is(await ok(['rename', 'p1', 'p2']), '');
  assert.is(await ok(['ps', '--format', '{{.Names}}']), 'p2\n');
  await ok(['run', '-d', '--name', 'p3', 'busybox', 'true']);
  const taken = await docker(sock, ['rename', 'p2', 'p3']);
  assert.is(taken.code, 1);
  assert.match(taken.stderr, /already in use/);

  assert.is(await ok(['update', '--memory', '64m', '--pids-limit', '50', 'p2']), 'p2\n');
  assert.is(await ok(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}', 'p2']), `${64 * 1024 * 1024} 50\n`);
  const badUpdate = await docker(sock, ['update', '--cpu-shares', '512', 'p2']);
  assert.is(badUpdate.code, 1);
  assert.match(badUpdate.stderr, /CpuShares is not supported/);

  await ok(['wait', 'p3']);
  const pruned = await ok(['container', 'prune', '-f']);
  assert.match(pruned, /^Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.is(await ok(['ps', '-a', '--format', '{{.Names}}']), 'p2\n', 'the running one stays');
  await ok(['rm', '-f', 'p2']);
}));

test('detach keys: ctrl-p ctrl-q leaves a TTY container running (the CLI\'s and the daemon\'s), attach again, its exit code', privileged<Ctx>(async ({ sock }) => {
  const t = dockerPty(sock, ['run', '-it', '--name', 'det', 'busybox', 'sh']);
  await t.expect(/# /, 0, LONG);
  t.pty.write('\x10\x11');
  assert.is(await t.exit, 0, 'the CLI detached');
  assert.is((await docker(sock, ['inspect', '-f', '{{.State.Status}}', 'det'])).stdout, 'running\n', 'the shell runs on: its stdin stays open');

  // the daemon's own scan, for clients that send the keys (a WebSocket here), with custom keys
  const ws = new WebSocket(`ws+unix://${sock}:/containers/det/attach/ws?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,x`);
  let seen = '';
  ws.on('message', (d: Buffer) => { seen += d; });
  const closed = new Promise((res) => ws.on('close', res));
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  ws.send('echo via-ws\r');
  await eventually('the echo over the WebSocket', () => /via-ws\r\n/.test(seen), LONG);
  ws.send('\x01x');
  await closed;
  assert.is((await docker(sock, ['inspect', '-f', '{{.State.Status}}', 'det'])).stdout, 'running\n', 'detached, not ended');
  const bad = await raw(sock, 'POST', '/v1.41/containers/det/exec', { Cmd: ['sh'], Tty: true, AttachStdin: true, DetachKeys: 'ctrl-1' });
  assert.is(bad.status, 400);
  assert.match(JSON.parse(bad.text).message, /Invalid detach keys/);

  const a = dockerPty(sock, ['attach', 'det']);
  a.pty.write('exit 6\r');
  assert.is(await a.exit, 6, 'docker attach ends with the container\'s exit code');
  assert.is((await docker(sock, ['rm', 'det'])).code, 0);
}));

test.run();
