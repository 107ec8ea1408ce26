/**
 * The Docker Engine API's container verbs on sbxd's socket, driven by the real clients: the seed
 * scenario through Debian's docker CLI (run -it on a pseudo-terminal, edit, commit -m -c, run -d
 * -p, fetch; exec, cp both ways, top, stats, pause/unpause/restart/rename, diff, export, update,
 * prune), dockerode (create, attach, exec, commit, remove) and raw requests (attach/ws, status codes).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { docker, dockerPty } from './_helpers/docker-cli.js';
import { busyboxLayer, putImage } from './_helpers/fixtures.js';
import { freePort } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; sock: string; port: number }
const test = suite<Ctx>('docker api: container verbs', {} as Ctx);
const TOKEN = 'docker-api-test-token';
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.port = await freePort();
  ctx.d = await startTestDaemon({ tcp: `127.0.0.1:${ctx.port}`, token: TOKEN });
  const sv = ctx.d.daemon.services;
  await putImage(sv.content, sv.images, 'docker.io/library/busybox:latest', [await busyboxLayer()]);
  ctx.sock = sv.config.socket;
});
test.after(async (ctx) => {
  if (!ctx.d) return;
  const ids = (await docker(ctx.sock, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await docker(ctx.sock, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

const LONG = 60_000;
const PAGE = '<h1>hello from docker</h1>';

/** One raw request on the socket: status, headers, body. */
function raw(sock: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** The first `n` lines of a streamed GET /containers/{id}/stats, then the request is dropped. */
function statsLines(sock: string, id: string, n: number): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, path: `/v1.41/containers/${id}/stats` }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d;
        const lines = text.split('\n').filter(Boolean);
        if (text.endsWith('\n') && lines.length >= n) { req.destroy(); resolve(lines.slice(0, n).map((l) => JSON.parse(l))); }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
    req.end();
  });
}

test('seed scenario with the docker CLI: run -it, edit, commit -m -c, run -d -p, fetch, exec, cp, top, stats, diff, export', privileged<Ctx>(async ({ sock }) => {
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await docker(sock, args, { timeoutMs: LONG, ...(input !== undefined ? { input } : {}) });
    assert.is(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  // 1. a shell on a terminal (the CLI resizes it to the terminal's size after the start)
  const t = dockerPty(sock, ['run', '-it', '--name', 'seed', 'busybox', 'sh'], { cols: 100, rows: 30 });
  await t.expect(/# /, 0, LONG);
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

test('dockerode: create, attach (hijacked and plain), exec with stdin and ExitCode, commit, remove', privileged<Ctx>(async ({ sock }) => {
  const dk = new Docker({ socketPath: sock });
  const c = await dk.createContainer({
    Image: 'busybox', Cmd: ['sh', '-c', 'read x; echo got $x; echo e >&2; exit 2'],
    OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true,
  });
  const st = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
  const out = { stdout: new PassThrough(), stderr: new PassThrough() };
  const text = { stdout: '', stderr: '' };
  out.stdout.on('data', (d: Buffer) => { text.stdout += d; });
  out.stderr.on('data', (d: Buffer) => { text.stderr += d; });
  dk.modem.demuxStream(st, out.stdout, out.stderr);
  await c.start();
  st.end('hello\n');
  assert.equal(await c.wait(), { StatusCode: 2, Error: null });
  await eventually('attached output', () => text.stdout === 'got hello\n' && text.stderr === 'e\n', LONG);
  await c.remove();

  const r = await dk.createContainer({ Image: 'busybox', Cmd: ['sleep', '600'] });
  await r.start();
  const ex = await r.exec({ Cmd: ['sh', '-c', 'cat; echo done; exit 9'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  assert.is((await ex.inspect()).Running, false);
  const es = await ex.start({ hijack: true, stdin: true });
  let eo = '';
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => { eo += d; });
  dk.modem.demuxStream(es, sink, sink);
  es.end('piped\n');
  await new Promise((res) => es.on('end', res));
  assert.is(eo, 'piped\ndone\n');
  const info = await ex.inspect();
  assert.is(info.ExitCode, 9);
  assert.is(info.Running, false);
  assert.is(info.ContainerID, r.id);

  const plain = await r.exec({ Cmd: ['echo', 'plain'], AttachStdout: true, AttachStderr: true });
  const ps = await plain.start({});
  const chunks: Buffer[] = [];
  ps.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((res) => ps.on('end', res));
  assert.equal(Buffer.concat(chunks), Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 6]), Buffer.from('plain\n')]), 'one multiplexed stdout frame');
  await plain.start({}).then(() => assert.unreachable('an exec runs once'), (e: { statusCode: number }) => assert.is(e.statusCode, 409));

  await r.exec({ Cmd: ['sh', '-c', 'echo edited > /f'] }).then((e) => e.start({ Detach: true }));
  await eventually('the detached exec wrote /f', async () => (await r.changes())?.some((ch: { Path: string }) => ch.Path === '/f'), LONG);
  const img = await r.commit({ repo: 'me/dode', comment: 'from dockerode' });
  assert.match(img.Id, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await r.changes()).find((ch: { Path: string }) => ch.Path === '/f'), { Path: '/f', Kind: 1 });
  await r.remove({ force: true });
  await dk.getContainer(r.id).inspect().then(() => assert.unreachable('removed'), (e: { statusCode: number }) => assert.is(e.statusCode, 404));
  assert.is((await dk.getImage('me/dode').inspect()).Comment, 'from dockerode');
}));

test('attach over WebSocket, status codes, stats JSON, archive HEAD header', privileged<Ctx>(async ({ sock }) => {
  const dk = new Docker({ socketPath: sock });
  const t = await dk.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'read x; echo ws $x; echo err >&2'], OpenStdin: true });
  const ws = new WebSocket(`ws+unix://${sock}:/v1.41/containers/${t.id}/attach/ws?stream=1&stdin=1&stdout=1&stderr=1`);
  let wo = '';
  const kinds = new Set<boolean>();
  ws.on('message', (d: Buffer, binary: boolean) => { wo += d; kinds.add(binary); });
  const closed = new Promise((res) => ws.on('close', res));
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  await t.start();
  ws.send('abc\n');
  await closed;
  assert.is(wo, 'ws abc\nerr\n');
  assert.equal([...kinds], [false], 'API 1.41: text messages, as docker before 1.42');
  assert.is((await t.wait()).StatusCode, 0);

  // 304 for start-of-started and stop-of-stopped; 409 for exec into a stopped one and pause of a stopped one
  assert.is((await raw(sock, 'POST', `/v1.41/containers/${t.id}/stop`)).status, 304);
  const ex = await raw(sock, 'POST', `/v1.41/containers/${t.id}/exec`, { Cmd: ['true'] });
  assert.is(ex.status, 409);
  assert.match(JSON.parse(ex.text).message, /is not running/);
  assert.is((await raw(sock, 'POST', `/v1.41/containers/${t.id}/pause`)).status, 409);
  assert.is((await raw(sock, 'GET', '/v1.41/exec/nope/json')).status, 404);
  assert.is((await raw(sock, 'POST', '/v1.41/containers/nope/restart')).status, 404);

  const s = await dk.createContainer({ Image: 'busybox', Cmd: ['sleep', '600'] });
  await s.start();
  const priv = await raw(sock, 'POST', `/v1.41/containers/${s.id}/exec`, { Cmd: ['true'], Privileged: true });
  assert.is(priv.status, 400);
  assert.match(JSON.parse(priv.text).message, /Privileged is not supported/);
  assert.is((await raw(sock, 'POST', `/v1.41/containers/${s.id}/start`)).status, 304);

  const one = JSON.parse((await raw(sock, 'GET', `/v1.41/containers/${s.id}/stats?stream=false&one-shot=true`)).text);
  assert.is(one.id, s.id);
  assert.ok(one.memory_stats.usage > 0 && one.memory_stats.limit >= one.memory_stats.usage, JSON.stringify(one.memory_stats));
  assert.is(one.pids_stats.current, 1);
  assert.ok(one.cpu_stats.system_cpu_usage > 0 && one.cpu_stats.online_cpus > 0);
  const two = JSON.parse((await raw(sock, 'GET', `/v1.41/containers/${s.id}/stats?stream=false`)).text);
  assert.ok(two.cpu_stats.system_cpu_usage > two.precpu_stats.system_cpu_usage && two.precpu_stats.system_cpu_usage > 0, 'precpu is the sample before');

  const lines = await statsLines(sock, s.id, 2);
  assert.is(lines[0]!.precpu_stats.system_cpu_usage, 0, 'the first line of a stream has no sample before it');
  assert.is(lines[1]!.precpu_stats.system_cpu_usage, lines[0]!.cpu_stats.system_cpu_usage, 'each next line carries the one before');

  const head = await raw(sock, 'HEAD', `/v1.41/containers/${s.id}/archive?path=/bin/sh`);
  assert.is(head.status, 200);
  const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString('utf8'));
  assert.is(stat.name, 'sh');
  assert.is((await raw(sock, 'HEAD', `/v1.41/containers/${s.id}/archive?path=/nope`)).status, 404);
  await s.remove({ force: true });
  await t.remove();
}));

/** The status line a raw upgrade request gets on the TCP listener. */
function upgradeStatus(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.write(head));
    let text = '';
    c.on('data', (d: Buffer) => { text += d; if (text.includes('\r\n')) { resolve(text.split('\r\n')[0]!); c.destroy(); } });
    c.on('error', reject);
  });
}

test('TCP listener: docker\'s upgrades (attach/ws, hijacked exec start) need the bearer token too', privileged<Ctx>(async ({ port }) => {
  const ws = 'GET /containers/x/attach/ws?stream=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  const exec = 'POST /v1.41/exec/x/start HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 2\r\n';
  assert.is(await upgradeStatus(port, `${ws}\r\n`), 'HTTP/1.1 401 Unauthorized');
  assert.is(await upgradeStatus(port, `${exec}\r\n{}`), 'HTTP/1.1 401 Unauthorized');
  const auth = `Authorization: Bearer ${TOKEN}\r\n\r\n`;
  assert.is(await upgradeStatus(port, `${ws}${auth}`), 'HTTP/1.1 404 Not Found', 'with the token: docker\'s answer (no such container)');
  assert.is(await upgradeStatus(port, `${exec}${auth}{}`), 'HTTP/1.1 404 Not Found', 'with the token: docker\'s answer (no such exec instance)');
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
