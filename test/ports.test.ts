/**
 * Published ports through the real CLI and daemon: UDP echo through -p /udp, a free host port
 * for -p CPORT and -P (EXPOSE), `sbx port` and inspect in docker's shape, and the errors
 * (malformed -p, a taken port) before anything starts; the TCP relay passes a server-first
 * banner, bulk data both ways and each side's half-close, many short connections each getting exactly
 * its own bytes, and a port nobody listens on. Only the host's loopback is dialled.
 */
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { busyboxLayer, putImage, tarOf } from './_helpers/fixtures.js';
import { eventually } from './_helpers/wait.js';
import { privileged } from './_helpers/root.js';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'probe', 'probe');

interface Ctx { d: TestDaemon }
const ports = suite<Ctx>('ports', {} as Ctx);
ports.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  const s = ctx.d.daemon.services;
  await putImage(s.content, s.images, 'docker.io/library/udpbox:1', [await busyboxLayer(), await tarOf([{ name: 'bin/probe', data: readFileSync(PROBE), mode: 0o755 }])],
    { config: { ExposedPorts: { '8080/tcp': {}, '5353/udp': {} } } });
});
ports.after(async (ctx) => { await ctx.d?.close(); });

/** One datagram to 127.0.0.1:port; its answer (retried: the echo server may not be up yet). */
async function udpAsk(port: number, text: string): Promise<string | undefined> {
  const sock = createSocket('udp4');
  try {
    return await new Promise<string | undefined>((resolve) => {
      const t = setTimeout(() => resolve(undefined), 300);
      sock.once('message', (m) => { clearTimeout(t); resolve(m.toString()); });
      sock.send(text, port, '127.0.0.1');
    });
  } finally { sock.close(); }
}

ports('UDP echo through -p /udp; -P and -p CPORT take free ports; sbx port and inspect as docker shows them', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '-d', '--name', 'echo', '-P', '-p', '127.0.0.1::9000', 'udpbox:1', 'probe', 'udp-echo', '5353']);
  assert.is(r.code, 0, r.stderr);
  const listed = (await sbx(d.root, ['port', 'echo'])).stdout;
  assert.match(listed, /^5353\/udp -> 127\.0\.0\.1:\d+\n8080\/tcp -> 127\.0\.0\.1:\d+\n9000\/tcp -> 127\.0\.0\.1:\d+\n$/);
  const udp = Number((await sbx(d.root, ['port', 'echo', '5353/udp'])).stdout.trim().split(':')[1]);
  assert.is(await eventually('the echo answers', () => udpAsk(udp, 'ping over udp')), 'ping over udp');
  const info = JSON.parse((await sbx(d.root, ['inspect', 'echo'])).stdout)[0];
  assert.equal(info.NetworkSettings.Ports['5353/udp'], [{ HostIp: '127.0.0.1', HostPort: String(udp) }]);
  assert.equal(info.HostConfig.PortBindings['9000/tcp'], [{ HostIp: '127.0.0.1', HostPort: '' }]);
  assert.match((await sbx(d.root, ['ps'])).stdout, new RegExp(`127\\.0\\.0\\.1:${udp}->5353/udp`));
  const none = await sbx(d.root, ['port', 'echo', '53/udp']);
  assert.is(none.code, 1);
  assert.match(none.stderr, /No public port '53\/udp' published for echo/);
  assert.is((await sbx(d.root, ['rm', '-f', 'echo'])).code, 0);
  assert.is(await udpAsk(udp, 'after rm'), undefined, 'the port closes with the container');
}));

/** One TCP conversation: read the banner line, send `data` and half-close, collect the answer to its end. */
function converse(port: number, data: Buffer): Promise<{ banner: string; echoed: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let banner: string | undefined;
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      if (banner !== undefined) return;
      const all = Buffer.concat(chunks);
      const nl = all.indexOf(10);
      if (nl < 0) return;
      banner = all.subarray(0, nl).toString();
      chunks.length = 0;
      if (nl + 1 < all.length) chunks.push(all.subarray(nl + 1));
      sock.end(data); // the server spoke first; now our bytes, then our half-close
    });
    sock.on('end', () => {
      if (banner === undefined) reject(new Error('closed before the banner'));
      else resolve({ banner, echoed: Buffer.concat(chunks) });
    });
    sock.on('error', reject);
  });
}

ports('TCP through -p: a server-first banner, 1 MB echoed on four connections at once, each half-close passed on', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '-d', '--name', 'tcpecho', '-p', '127.0.0.1::9000', 'busybox',
    'nc', '-ll', '-p', '9000', '-e', 'sh', '-c', 'echo banner; exec cat']);
  assert.is(r.code, 0, r.stderr);
  const port = Number((await sbx(d.root, ['port', 'tcpecho', '9000'])).stdout.trim().split(':')[1]);
  // until nc listens, the relay closes the connection before any banner
  await eventually('the echo server answers', () => converse(port, Buffer.from('x')).then((c) => c.banner, () => undefined));
  const data = [0, 1, 2, 3].map(() => randomBytes(1 << 20));
  const got = await Promise.all(data.map((b) => converse(port, b)));
  for (let i = 0; i < data.length; i++) {
    assert.is(got[i].banner, 'banner');
    // cat ends only at our half-close, and its exit reaches us as the end of the stream
    assert.ok(got[i].echoed.equals(data[i]), `connection ${i}: ${got[i].echoed.length} of ${data[i].length} bytes came back intact`);
  }
  assert.is((await sbx(d.root, ['rm', '-f', 'tcpecho'])).code, 0);
}));

/** Send `data`, half-close, and collect everything the server sends back until it closes (or resets). */
function echo(port: number, data: Buffer): Promise<{ back: Buffer; reset: boolean }> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1', () => sock.end(data));
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve({ back: Buffer.concat(chunks), reset: false }));
    sock.on('error', () => resolve({ back: Buffer.concat(chunks), reset: true }));
  });
}

ports('TCP through -p: 240 short connections in waves of 24 each get exactly their own bytes back; a port with no listener closes at once', privileged<Ctx>(async ({ d }) => {
  // probe's echo server (a child per connection): busybox nc -ll -e cat drops connections that overlap
  const r = await sbx(d.root, ['run', '-d', '--name', 'manyecho', '-p', '127.0.0.1::9000', '-p', '127.0.0.1::9001', 'udpbox:1', 'probe', 'tcp-echo', '9000']);
  assert.is(r.code, 0, r.stderr);
  const hostPort = async (p: number) => Number((await sbx(d.root, ['port', 'manyecho', String(p)])).stdout.trim().split(':')[1]);
  const port = await hostPort(9000);
  await eventually('the echo server answers', () => echo(port, Buffer.from('up?')).then((e) => e.back.toString() === 'up?'));
  // Sizes from 1 byte to past the relay's 64 KiB buffer: a connection that reused a finished
  // one's state would get stray bytes, a lost chunk would come back short.
  const sizes = [1, 7, 100, 1024, 4096, 65535, 65536, 65537, 200_000, 0, 3, 512];
  for (let wave = 0; wave < 10; wave++) {
    const data = Array.from({ length: 24 }, (_, i) => randomBytes(sizes[(i + wave) % sizes.length]!));
    const got = await Promise.all(data.map((b) => echo(port, b)));
    got.forEach((g, i) => {
      assert.not.ok(g.reset, `wave ${wave} connection ${i} was reset`);
      assert.ok(g.back.equals(data[i]!), `wave ${wave} connection ${i}: ${g.back.length} bytes back for ${data[i]!.length} sent, or different bytes`);
    });
  }
  // nothing listens on 9001 in the container: the client's connection ends (no hang, no bytes)
  const none = await echo(await hostPort(9001), Buffer.from('anyone?'));
  assert.is(none.back.length, 0);
  assert.is((await sbx(d.root, ['rm', '-f', 'manyecho'])).code, 0);
}));

ports('a malformed -p and a taken port are clear errors (exit 125) and start nothing', privileged<Ctx>(async ({ d }) => {
  for (const bad of ['x:80', '80:70000', '1-3:80-81', '127.0.0.1:80:90:1', '80/sctp']) {
    const r = await sbx(d.root, ['run', '--rm', '-p', bad, 'busybox', 'true']);
    assert.is(r.code, 125, bad);
    assert.match(r.stderr, new RegExp(`invalid argument "${bad.replace(/\./g, '\\.')}" for "-p, --publish" flag`));
  }
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const port = (holder.address() as { port: number }).port;
  try {
    const r = await sbx(d.root, ['run', '-d', '--name', 'late', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'touch /started; sleep 30']);
    assert.is(r.code, 125);
    assert.match(r.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`));
    const info = JSON.parse((await sbx(d.root, ['inspect', 'late'])).stdout)[0];
    assert.is(info.State.Status, 'created', 'the container never ran');
  } finally { holder.close(); }
  assert.is((await sbx(d.root, ['rm', '-f', 'late'])).code, 0);
}));

ports.run();
