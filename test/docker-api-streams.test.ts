/**
 * The Docker Engine API's streams and shapes with dockerode and raw requests: attach (hijacked,
 * plain, WebSocket), exec with stdin and ExitCode, commit, docker's status codes, the stats
 * JSON (one-shot, two samples, stream), archive's stat header, and the TCP listener's token on
 * docker's upgrades.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { docker, raw } from './_helpers/docker-cli.js';
import { busyboxLayer, putImage } from './_helpers/fixtures.js';
import { freePort } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; sock: string; port: number }
const test = suite<Ctx>('docker api: streams (dockerode, raw)', {} as Ctx);
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

test.run();
