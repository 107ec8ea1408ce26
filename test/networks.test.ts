/**
 * Networks through the real CLI and daemon: the default bridge reaches a server on the host's
 * loopback through host.docker.internal, none reaches nothing, user networks resolve their
 * members by name and alias and are cut off from each other, teardown leaves no veth or process
 * (the namespace goes with the network's last member), and the outbound helper (pasta) starts on
 * the first packet that leaves a network, which still arrives; an idle network's holder costs a few kB.
 * Only loopback servers on the host and containers on networks this test made are ever dialled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { requireTools } from './_helpers/peers.js';
import { eventually } from './_helpers/wait.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; server: Server; port: number; forward: string }

/** The host's own links that sbx could have made: its bridge name or its veth names (v + 10 hex). */
const sbxLinksOnHost = (): string[] => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n')
  .map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter((n) => n === 'br0' || /^v[0-9a-f]{10}$/.test(n));
const ipForward = (): string => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
const net = suite<Ctx>('networks', {} as Ctx);
net.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.forward = ipForward();
  ctx.d = await startBusyboxDaemon();
  ctx.server = createServer((_req, res) => res.end('hello from the host\n'));
  await new Promise<void>((r) => ctx.server.listen(0, '127.0.0.1', () => r()));
  ctx.port = (ctx.server.address() as { port: number }).port;
});
net.after(async (ctx) => { ctx.server?.close(); await ctx.d?.close(); });

net('the default bridge reaches a host loopback server as host.docker.internal; none reaches nothing', privileged<Ctx>(async ({ d, port }) => {
  if (!await requireTools('pasta')) return;
  const r = await sbx(d.root, ['run', '--rm', 'busybox', 'sh', '-c',
    `ls /sys/class/net | tr '\\n' ' '; wget -qO- http://host.docker.internal:${port}/ && wget -qO- http://host.containers.internal:${port}/`]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'eth0 lo hello from the host\nhello from the host\n');
  const none = await sbx(d.root, ['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c',
    `ls /sys/class/net; grep -c host.docker.internal /etc/hosts; wget -qO- http://127.0.0.1:${port}/ 2>/dev/null || echo unreachable`]);
  assert.is(none.stdout, 'lo\n0\nunreachable\n', none.stderr);
  const added = await sbx(d.root, ['run', '--rm', '--add-host', 'web.test:host-gateway', '--add-host', 'db.test:10.1.2.3',
    '--dns', '10.9.9.9', '--dns-search', 'example.test', 'busybox', 'sh', '-c', `wget -qO- http://web.test:${port}/; grep db.test /etc/hosts; cat /etc/resolv.conf`]);
  assert.is(added.stdout, 'hello from the host\n10.1.2.3\tdb.test\nsearch example.test\nnameserver 10.9.9.9\n', added.stderr);
}));

net('pasta starts on a network\'s first packet for outside, and that packet (one UDP datagram, never resent) arrives', privileged<Ctx>(async ({ d, port }) => {
  if (!await requireTools('pasta')) return;
  // a DNS server on the host's loopback that answers every A query with 10.1.2.3
  const dns = createSocket('udp4');
  dns.on('message', (q, from) => {
    const question = q.subarray(12, 12 + q.subarray(12).indexOf(0) + 5);
    dns.send(Buffer.concat([q.subarray(0, 2), Buffer.from([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]), question,
      Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3])]), from.port, from.address);
  });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', () => r()));
  try {
    assert.is((await sbx(d.root, ['network', 'create', 'lazy'])).code, 0);
    assert.is((await sbx(d.root, ['run', '-d', '--name', 'quiet', '--network', 'lazy', 'busybox', 'sleep', '60'])).code, 0);
    const idle = d.daemon.services.networks.pids('lazy');
    assert.is(idle.length, 1, 'an idle network runs its namespace holder and no pasta');
    // what an idle network costs: its holder relays from a binary without a C library (sbx-hold)
    const pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${idle[0]}/smaps_rollup`, 'utf8'))?.[1]);
    assert.ok(pss <= 64, `the idle holder's PSS is ${pss} kB (in sbx-init's own image it kept 0.5–0.9 MiB)`);
    // one attempt, no resend: the answer comes only if the datagram that started pasta got through
    const r = await sbx(d.root, ['exec', 'quiet', 'sh', '-c', `nslookup -retry=1 -timeout=5 -type=a -port=${(dns.address()).port} web.test $(awk '/host.docker.internal/ {print $1}' /etc/hosts) && wget -qO- http://host.docker.internal:${port}/`]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Name:\s+web\.test\nAddress: 10\.1\.2\.3\n[^]*hello from the host\n$/);
    assert.is(d.daemon.services.networks.pids('lazy').length, 2, 'the holder and pasta');
  } finally {
    dns.close();
    await sbx(d.root, ['rm', '-f', 'quiet']);
    await sbx(d.root, ['network', 'rm', 'lazy']);
  }
}));

net('user networks: members find each other by name and alias, other networks cannot; rm in use is refused', privileged<Ctx>(async (ctx) => {
  const { d } = ctx;
  assert.match((await sbx(d.root, ['network', 'create', 'app'])).stdout, /^[a-f0-9]{64}\n$/);
  assert.is((await sbx(d.root, ['network', 'create', 'other'])).code, 0);
  const dup = await sbx(d.root, ['network', 'create', 'app']);
  assert.is(dup.code, 125);
  assert.match(dup.stderr, /network with name app already exists/);
  const ls = await sbx(d.root, ['network', 'ls']);
  assert.match(ls.stdout, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n/);
  for (const n of ['app', 'other', 'bridge', 'host', 'none']) assert.match(ls.stdout, new RegExp(`[0-9a-f]{12}\\s+${n}\\s+`));
  const db = await sbx(d.root, ['run', '-d', '--network', 'app', '--name', 'db', '--network-alias', 'database', 'busybox', 'sh', '-c',
    'mkdir /www && echo db-page > /www/index.html && exec httpd -f -p 5432 -h /www']);
  assert.is(db.code, 0, db.stderr);
  const page = await eventually('db answers by name', async () => {
    const r = await sbx(d.root, ['run', '--rm', '--network', 'app', 'busybox', 'sh', '-c', 'wget -qO- http://db:5432/ && wget -qO- http://database:5432/']);
    return r.code === 0 ? r.stdout : undefined;
  });
  assert.is(page, 'db-page\ndb-page\n');
  const far = await sbx(d.root, ['run', '--rm', '--network', 'other', 'busybox', 'sh', '-c', 'wget -qO- http://db:5432/ 2>&1; echo "exit $?"']);
  assert.match(far.stdout, /bad address 'db:5432'\nexit 1\n$/);
  const info = JSON.parse((await sbx(d.root, ['inspect', 'db'])).stdout)[0];
  const ep = info.NetworkSettings.Networks.app;
  assert.match(ep.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(ep.Aliases, ['database']);
  // the embedded DNS at the network's gateway answers names and aliases (nslookup asks it, not /etc/hosts)
  const ns = await sbx(d.root, ['run', '--rm', '--network', 'app', 'busybox', 'sh', '-c', 'grep nameserver /etc/resolv.conf; nslookup database; nslookup db']);
  const gw = JSON.parse((await sbx(d.root, ['network', 'inspect', 'app'])).stdout)[0].IPAM.Config[0].Gateway;
  assert.ok(ns.stdout.startsWith(`nameserver ${gw}\n`), ns.stdout);
  assert.match(ns.stdout, new RegExp(`Name:\\s+database\\nAddress: ${ep.IPAddress.replace(/\./g, '\\.')}\\n[\\s\\S]*Name:\\s+db\\nAddress: ${ep.IPAddress.replace(/\./g, '\\.')}\\n`));
  const ninfo = JSON.parse((await sbx(d.root, ['network', 'inspect', 'app'])).stdout)[0];
  assert.is(ninfo.Containers[info.Id].IPv4Address.split('/')[0], ep.IPAddress);
  const inUse = await sbx(d.root, ['network', 'rm', 'app']);
  assert.is(inUse.code, 125);
  assert.match(inUse.stderr, /network app id [0-9a-f]{64} has active endpoints/);
  const bad = await sbx(d.root, ['run', '--rm', '--network', 'nosuch', 'busybox', 'true']);
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /network nosuch not found/);

  // teardown: the container's veth leaves with it, and the namespace (holder, pasta, bridge) with
  // the last member; the next member opens a new one; rm leaves no process of the network
  const pids = d.daemon.services.networks.pids('app');
  assert.ok(pids.length >= 1, 'the network has its namespace holder');
  // a namespace whose holder has gone took its bridge and every veth with it
  const veths = (): number => !existsSync(`/proc/${pids[0]}`) ? 0
    : execFileSync('nsenter', [`--net=/proc/${pids[0]}/ns/net`, 'ip', '-o', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  assert.is(veths(), 1, 'db is the one port of the bridge');
  assert.equal(sbxLinksOnHost(), [], 'the bridge and the veths live in the network\'s namespace, none in the host\'s');
  assert.is(ipForward(), ctx.forward, 'the host\'s ip_forward is untouched');
  assert.is((await sbx(d.root, ['rm', '-f', 'db'])).code, 0);
  await eventually('no veth left on the bridge', async () => veths() === 0);
  for (const p of pids) await eventually(`process ${p} of the network is gone with its last member`, async () => !existsSync(`/proc/${p}`));
  const again = await sbx(d.root, ['run', '--rm', '--network', 'app', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0 | wc -l']);
  assert.is(again.stdout, '1\n', `a new member gets a new namespace: ${again.stderr}`);
  const later = d.daemon.services.networks.pids('app');
  assert.is((await sbx(d.root, ['network', 'rm', 'app', 'other'])).stdout, 'app\nother\n');
  for (const p of later) await eventually(`process ${p} of the network is gone`, async () => !existsSync(`/proc/${p}`));
  assert.not.match((await sbx(d.root, ['network', 'ls'])).stdout, /\bapp\b/);
}));

net('connect joins a running container to a user network (a new interface, found by name and alias); disconnect takes it away', privileged<Ctx>(async ({ d }) => {
  assert.is((await sbx(d.root, ['network', 'create', 'hot'])).code, 0);
  assert.is((await sbx(d.root, ['run', '-d', '--name', 'hp', 'busybox', 'sleep', '60'])).code, 0);
  assert.is((await sbx(d.root, ['network', 'connect', '--alias', 'hotalias', 'hot', 'hp'])).code, 0);
  assert.is((await sbx(d.root, ['exec', 'hp', 'ls', '/sys/class/net'])).stdout, 'eth0\neth1\nlo\n');
  const seen = await sbx(d.root, ['run', '--rm', '--network', 'hot', 'busybox', 'sh', '-c', 'ping -c1 -W2 hp >/dev/null && ping -c1 -W2 hotalias >/dev/null && echo reached']);
  assert.is(seen.stdout, 'reached\n', seen.stderr);
  const nets = JSON.parse((await sbx(d.root, ['inspect', 'hp'])).stdout)[0].NetworkSettings.Networks;
  assert.equal(Object.keys(nets).sort(), ['bridge', 'hot']);
  const twice = await sbx(d.root, ['network', 'connect', 'hot', 'hp']);
  assert.is(twice.code, 125);
  assert.match(twice.stderr, /already exists in network hot/);
  assert.is((await sbx(d.root, ['network', 'disconnect', 'hot', 'hp'])).code, 0);
  assert.is((await sbx(d.root, ['exec', 'hp', 'ls', '/sys/class/net'])).stdout, 'eth0\nlo\n');
  const gone = await sbx(d.root, ['run', '--rm', '--network', 'hot', 'busybox', 'sh', '-c', 'ping -c1 -W1 hp 2>&1 | head -1']);
  assert.is(gone.stdout, "ping: bad address 'hp'\n");
  const not = await sbx(d.root, ['network', 'disconnect', 'hot', 'hp']);
  assert.is(not.code, 125);
  assert.match(not.stderr, /is not connected to network hot/);
  assert.is((await sbx(d.root, ['rm', '-f', 'hp'])).code, 0);
  assert.is((await sbx(d.root, ['network', 'rm', 'hot'])).code, 0);
}));

net('a daemon restart keeps the networks, leaves no process of the old one, and the network works again', privileged<Ctx>(async (ctx) => {
  assert.is((await sbx(ctx.d.root, ['network', 'create', 'keep'])).code, 0);
  assert.is((await sbx(ctx.d.root, ['run', '-d', '--network', 'keep', '--name', 'k1', 'busybox', 'sleep', '60'])).code, 0);
  const old = [...ctx.d.daemon.services.networks.pids('keep'), ...ctx.d.daemon.services.networks.pids('bridge')];
  assert.ok(old.length >= 1);
  const bridgeId = JSON.parse((await sbx(ctx.d.root, ['network', 'inspect', 'bridge'])).stdout)[0].Id;
  await ctx.d.daemon.close();
  for (const p of old) await eventually(`process ${p} of the old daemon's networks is gone`, async () => !existsSync(`/proc/${p}`));
  ctx.d = await startBusyboxDaemon(ctx.d.root);
  const ls = (await sbx(ctx.d.root, ['network', 'ls'])).stdout;
  assert.match(ls, /\bkeep\b/);
  assert.is(JSON.parse((await sbx(ctx.d.root, ['network', 'inspect', 'bridge'])).stdout)[0].Id, bridgeId, 'the default bridge keeps its id');
  assert.equal(JSON.parse((await sbx(ctx.d.root, ['network', 'inspect', 'keep'])).stdout)[0].Containers, {}, 'no member survives the old daemon');
  assert.is((await sbx(ctx.d.root, ['start', 'k1'])).code, 0);
  const r = await sbx(ctx.d.root, ['run', '--rm', '--network', 'keep', 'busybox', 'ping', '-c', '1', '-W', '2', 'k1']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is((await sbx(ctx.d.root, ['rm', '-f', 'k1'])).code, 0);
  assert.is((await sbx(ctx.d.root, ['network', 'rm', 'keep'])).code, 0);
}));

net.run();
