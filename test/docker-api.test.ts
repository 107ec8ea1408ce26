/**
 * The Docker Engine API on sbxd's socket, driven by the real clients: Debian's docker CLI
 * (DOCKER_HOST=unix://SOCK) and dockerode. System routes, docker's error bodies, and the
 * container lifecycle create/start/ps/inspect/logs/stop/kill/wait/rm.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Docker from 'dockerode';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker, raw } from './_helpers/docker-cli.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon; sock: string }
const test = suite<Ctx>('docker api', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
});
test.after(async (ctx) => { await ctx.d?.close(); });

test('docker version, info; _ping answers OK with API-Version', privileged<Ctx>(async ({ sock }) => {
  const v = await docker(sock, ['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}} {{.Client.APIVersion}}']);
  assert.is(v.code, 0, v.stderr);
  assert.is(v.stdout.trim(), '1.41 linux 1.41');
  const info = await docker(sock, ['info', '--format', '{{.Images}} {{.Containers}} {{.OSType}}']);
  assert.is(info.code, 0, info.stderr);
  assert.is(info.stdout.trim(), '1 0 linux');
  const ping = await raw(sock, 'GET', '/_ping');
  assert.is(ping.status, 200);
  assert.is(ping.text, 'OK');
  assert.is(ping.headers['api-version'], '1.41');
  assert.is(ping.headers.ostype, 'linux');
  const old = await raw(sock, 'GET', '/v1.12/version');
  assert.is(old.status, 400);
  assert.match(JSON.parse(old.text).message, /too old/);
}));

test('errors: docker\'s {"message"} body with 404, 409 and 400; the CLI prints them', privileged<Ctx>(async ({ sock }) => {
  const nf = await raw(sock, 'GET', '/v1.41/containers/nope/json');
  assert.is(nf.status, 404);
  assert.equal(Object.keys(JSON.parse(nf.text)), ['message']);
  assert.match(JSON.parse(nf.text).message, /nope/);
  const page = await raw(sock, 'GET', '/v1.41/no/such/route');
  assert.is(page.status, 404);
  assert.equal(JSON.parse(page.text), { message: 'page not found' });
  const i = await docker(sock, ['inspect', 'nope']);
  assert.is(i.code, 1);
  assert.match(i.stderr, /No such object: nope/);
  const rm = await docker(sock, ['rm', 'nope']);
  assert.is(rm.code, 1);
  assert.match(rm.stderr, /No such container: nope/);
  const bad = await raw(sock, 'POST', '/v1.41/containers/create', { Image: 'busybox', HostConfig: { CpuShares: 512 } });
  assert.is(bad.status, 400);
  assert.match(JSON.parse(bad.text).message, /HostConfig\.CpuShares is not supported/);
  const up = await docker(sock, ['run', '-d', '--name', 'dup', 'busybox', 'sleep', '60']);
  assert.is(up.code, 0, up.stderr);
  const dup = await raw(sock, 'POST', '/v1.41/containers/create?name=dup', { Image: 'busybox' });
  assert.is(dup.status, 409);
  const rmRunning = await raw(sock, 'DELETE', '/v1.41/containers/dup');
  assert.is(rmRunning.status, 409);
  const again = await raw(sock, 'POST', '/v1.41/containers/dup/start');
  assert.is(again.status, 304);
  assert.is((await docker(sock, ['rm', '-f', 'dup'])).code, 0);
}));

test('docker create/start/ps/inspect/logs/wait/rm', privileged<Ctx>(async ({ sock }) => {
  const c = await docker(sock, ['create', '--name', 'web', '-e', 'A=1', 'busybox', 'sh', '-c', 'echo out $A; echo err >&2; exit 3']);
  assert.is(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const created = await docker(sock, ['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
  assert.is(created.stdout, 'web Created\n');
  assert.is((await docker(sock, ['start', 'web'])).stdout, 'web\n');
  const w = await docker(sock, ['wait', 'web']);
  assert.is(w.stdout, '3\n');
  const ps = await docker(sock, ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Image}} {{.Command}} {{.Status}}']);
  assert.match(ps.stdout, new RegExp(`^${id} busybox "sh -c .*" Exited \\(3\\) `));
  assert.is((await docker(sock, ['ps', '-q'])).stdout, '', 'not running');
  const ins = await docker(sock, ['inspect', '--format', '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.Config.Image}} {{index .Config.Cmd 2}}', 'web']);
  assert.is(ins.code, 0, ins.stderr);
  assert.is(ins.stdout, '/web exited 3 busybox echo out $A; echo err >&2; exit 3\n');
  const logs = await docker(sock, ['logs', 'web']);
  assert.is(logs.stdout, 'out 1\n');
  assert.is(logs.stderr, 'err\n');
  assert.is((await docker(sock, ['logs', '--tail', '0', 'web'])).stdout, '');
  assert.is((await docker(sock, ['rm', 'web'])).stdout, 'web\n');
  assert.is((await docker(sock, ['ps', '-a', '-q'])).stdout, '');
}));

test('docker run -d, stop, start, kill, ps filters, rm -f', privileged<Ctx>(async ({ sock }) => {
  // PID 1 ignores a signal it has no handler for: TERM reaches the trap, KILL always works
  const r = await docker(sock, ['run', '-d', '--name', 'sl', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.1; done']);
  assert.is(r.code, 0, r.stderr);
  assert.is((await docker(sock, ['ps', '--format', '{{.Names}}'])).stdout, 'sl\n');
  assert.is((await docker(sock, ['ps', '-a', '--filter', 'status=exited', '-q'])).stdout, '');
  const st = await docker(sock, ['stop', '-t', '1', 'sl']);
  assert.is(st.stdout, 'sl\n', st.stderr);
  assert.match((await docker(sock, ['ps', '-a', '--format', '{{.Status}}'])).stdout, /^Exited \(7\)/, 'TERM ran the trap');
  assert.is((await docker(sock, ['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}'])).stdout, 'sl\n');
  assert.is((await docker(sock, ['start', 'sl'])).code, 0);
  assert.is((await docker(sock, ['kill', '--signal', 'TERM', 'sl'])).stdout, 'sl\n');
  assert.is((await docker(sock, ['wait', 'sl'])).stdout, '7\n');
  assert.is((await docker(sock, ['start', 'sl'])).code, 0);
  assert.is((await docker(sock, ['kill', 'sl'])).code, 0);
  assert.is((await docker(sock, ['wait', 'sl'])).stdout, '137\n');
  const stopped = await docker(sock, ['stop', 'sl']);
  assert.is(stopped.code, 0, 'stopping a stopped container is no error (304)');
  assert.is((await docker(sock, ['start', 'sl'])).code, 0);
  assert.is((await docker(sock, ['rm', '-f', 'sl'])).stdout, 'sl\n');
  assert.is((await docker(sock, ['ps', '-a', '-q'])).stdout, '');
}));

test('dockerode: ping, version, create, start, list, inspect, logs, wait, stop, kill, remove', privileged<Ctx>(async ({ sock }) => {
  const dk = new Docker({ socketPath: sock });
  assert.is(String(await dk.ping()), 'OK');
  assert.is((await dk.version()).ApiVersion, '1.41');
  const c = await dk.createContainer({ Image: 'busybox', name: 'dode', Cmd: ['sh', '-c', 'echo from dockerode; exit 5'], HostConfig: { ShmSize: 64 * 1024 * 1024 } });
  assert.is((await c.inspect()).State.Status, 'created');
  assert.equal(await c.wait(), { StatusCode: 0, Error: null }, 'not-running: a created container is not running');
  await c.start();
  assert.equal(await c.wait(), { StatusCode: 5, Error: null });
  const list = await dk.listContainers({ all: true, filters: { name: ['dode'] } });
  assert.is(list.length, 1);
  assert.is(list[0]!.Names[0], '/dode');
  assert.is(list[0]!.State, 'exited');
  const logs = await c.logs({ stdout: true, stderr: true, follow: false });
  const out = { stdout: '', stderr: '' };
  dk.modem.demuxStream(await bufferStream(logs), { write: (b: Buffer) => { out.stdout += b; } } as NodeJS.WritableStream, { write: (b: Buffer) => { out.stderr += b; } } as NodeJS.WritableStream);
  await eventually('demuxed logs', () => out.stdout === 'from dockerode\n');
  await c.remove();
  await dk.getContainer('dode').inspect().then(() => assert.unreachable('removed'), (e: { statusCode: number }) => assert.is(e.statusCode, 404));

  const s = await dk.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'] });
  await s.start();
  assert.is((await s.inspect()).State.Running, true);
  await s.stop({ t: 1 });
  assert.is((await s.inspect()).State.ExitCode, 137);
  await s.start();
  await s.kill({ signal: 'SIGKILL' });
  assert.is((await s.wait()).StatusCode, 137);
  await s.remove({ force: true });
  assert.equal(await dk.listContainers({ all: true }), []);
}));

test('docker run attaches over the hijacked connection: output, exit code, stdin with -i, --rm', privileged<Ctx>(async ({ sock }) => {
  const r = await docker(sock, ['run', '--rm', 'busybox', 'sh', '-c', 'echo hi; echo err >&2; exit 4']);
  assert.is(r.code, 4);
  assert.is(r.stdout, 'hi\n');
  assert.is(r.stderr, 'err\n');
  const i = await docker(sock, ['run', '--rm', '-i', 'busybox', 'wc', '-c'], { input: 'x'.repeat(200_000) });
  assert.is(i.code, 0, i.stderr);
  assert.is(i.stdout.trim(), '200000');
  const nf = await raw(sock, 'POST', '/v1.41/containers/nope/attach?stream=1&stdout=1');
  assert.is(nf.status, 404, 'no upgrade asked: not an attach');
  assert.is((await docker(sock, ['ps', '-a', '-q'])).stdout, '', '--rm removed them');
}));

test('docker logs -f follows until the exit', privileged<Ctx>(async ({ sock }) => {
  assert.is((await docker(sock, ['run', '-d', '--name', 'fol', 'busybox', 'sh', '-c', 'echo one; sleep 0.5; echo two'])).code, 0);
  const f = await docker(sock, ['logs', '-f', 'fol']);
  assert.is(f.code, 0, f.stderr);
  assert.is(f.stdout, 'one\ntwo\n');
  assert.is((await docker(sock, ['rm', 'fol'])).code, 0);
}));

/** dockerode answers logs without follow as a Buffer; as a stream with follow. */
async function bufferStream(v: unknown): Promise<NodeJS.ReadableStream> {
  const { Readable } = await import('node:stream');
  return Buffer.isBuffer(v) ? Readable.from([v]) : v as NodeJS.ReadableStream;
}

test.run();
