/**
 * docker's network, volume and disk-usage routes through the real docker CLI: network
 * create/ls/inspect/connect/rm/prune, volume create/ls/inspect/rm/prune (in use refused with
 * 409), and `docker system df` summing what sbx stores.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker } from './_helpers/docker-cli.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; sock: string }
const test = suite<Ctx>('docker api: networks, volumes, df', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
});
test.after(async (ctx) => { await ctx.d?.close(); });

test('docker network create/ls/inspect/connect/rm/prune', privileged<Ctx>(async ({ sock }) => {
  const c = await docker(sock, ['network', 'create', '--subnet', '10.77.0.0/24', '--label', 'team=sbx', 'backend']);
  assert.is(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const dup = await docker(sock, ['network', 'create', 'backend']);
  assert.is(dup.code, 1);
  assert.match(dup.stderr, /network with name backend already exists/);
  const ls = await docker(sock, ['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
  assert.is(ls.code, 0, ls.stderr);
  assert.equal(ls.stdout.trim().split('\n').sort(), ['backend bridge local', 'bridge bridge local', 'host host local', 'none null local']);
  const f = await docker(sock, ['network', 'ls', '-q', '--no-trunc', '--filter', 'label=team=sbx']);
  assert.is(f.stdout, `${id}\n`);
  const ins = await docker(sock, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}} {{.Labels.team}}', 'backend']);
  assert.is(ins.stdout, '10.77.0.0/24 sbx\n', ins.stderr);

  const run = await docker(sock, ['run', '-d', '--name', 'member', '--network', 'backend', 'busybox', 'sleep', '300'], { timeoutMs: 60000 });
  assert.is(run.code, 0, run.stderr);
  const addr = await docker(sock, ['inspect', '-f', '{{.NetworkSettings.Networks.backend.IPAddress}}', 'member']);
  assert.match(addr.stdout, /^10\.77\.0\.\d+\n$/, addr.stderr);
  const busy = await docker(sock, ['network', 'rm', 'backend']);
  assert.is(busy.code, 1);
  assert.match(busy.stderr, /has active endpoints/);
  assert.is((await docker(sock, ['network', 'disconnect', 'backend', 'member'])).code, 0);
  const members = await docker(sock, ['network', 'inspect', '-f', '{{len .Containers}}', 'backend']);
  assert.is(members.stdout, '0\n');
  assert.is((await docker(sock, ['network', 'connect', '--alias', 'db', 'backend', 'member'])).code, 0);
  const ping = await docker(sock, ['run', '--rm', '--network', 'backend', 'busybox', 'ping', '-c1', '-W5', 'db'], { timeoutMs: 60000 });
  assert.is(ping.code, 0, `the alias resolves on the network: ${ping.stdout}${ping.stderr}`);
  assert.is((await docker(sock, ['rm', '-f', 'member'])).code, 0);

  assert.is((await docker(sock, ['network', 'create', 'spare'])).code, 0);
  const prune = await docker(sock, ['network', 'prune', '-f']);
  assert.is(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, /Deleted Networks:\n(backend\nspare|spare\nbackend)\n/);
  const nf = await docker(sock, ['network', 'rm', 'backend']);
  assert.is(nf.code, 1);
  assert.match(nf.stderr, /backend/);
}));

test('docker volume create/ls/inspect/rm/prune; a volume in use is refused', privileged<Ctx>(async ({ sock }) => {
  const c = await docker(sock, ['volume', 'create', '--label', 'k=v', 'data']);
  assert.is(c.code, 0, c.stderr);
  assert.is(c.stdout, 'data\n');
  const ls = await docker(sock, ['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
  assert.is(ls.stdout, 'local data\n', ls.stderr);
  const ins = await docker(sock, ['volume', 'inspect', '-f', '{{.Labels.k}} {{.Scope}}', 'data']);
  assert.is(ins.stdout, 'v local\n');
  const w = await docker(sock, ['run', '--name', 'user', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f'], { timeoutMs: 60000 });
  assert.is(w.code, 0, w.stderr);
  const inUse = await docker(sock, ['volume', 'rm', 'data']);
  assert.is(inUse.code, 1);
  assert.match(inUse.stderr, /volume is in use/);
  const df = await docker(sock, ['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}']);
  assert.is(df.code, 0, df.stderr);
  assert.equal(df.stdout.trim().split('\n'), ['Images 1 1', 'Containers 1 0', 'Local Volumes 1 1', 'Build Cache 0 0']);
  assert.is((await docker(sock, ['rm', 'user'])).code, 0);
  assert.is((await docker(sock, ['volume', 'create', 'spare'])).code, 0);
  const prune = await docker(sock, ['volume', 'prune', '-f']);
  assert.is(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, /Deleted Volumes:\n(data\nspare|spare\ndata)\n/);
  assert.match(prune.stdout, /Total reclaimed space: 5B/);
  const ls2 = await docker(sock, ['volume', 'ls', '-q']);
  assert.is(ls2.stdout, '');
  const nf = await docker(sock, ['volume', 'inspect', 'data']);
  assert.is(nf.code, 1);
  assert.match(nf.stderr, /no such volume: data/i, nf.stderr);
}));

test.run();
