/**
 * Host devices, masked paths and the flags that loosen them, attacked from inside a container
 * through the real CLI and daemon: a node made with mknod must not open, the allowed ones must,
 * --device / --privileged / --cap-add / --cap-drop do what docker's do, bad values exit 125.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { sbxPty, startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon }

/** Try mknod + open read-write of each node in each directory; print what happened. */
const PROBE = `for d in /dev /tmp /dev/shm /; do
  for n in "b 7 0" "c 1 11" "c 10 237"; do
    f=$d/probe-$(echo $n | tr ' ' -)
    if ! mknod $f $n 2>/dev/null; then echo "MKNOD-FAILED $f"; continue; fi
    if (exec 3<>$f) 2>/dev/null; then echo "OPENED $f"; else echo "refused $f"; fi
    rm -f $f
  done
done`;

const cgroupV1Devices = existsSync('/sys/fs/cgroup/devices/devices.allow');

const s = suite<Ctx>('security: devices', {} as Ctx);
s.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
s.after(async (ctx) => { await ctx.d?.close(); });

s('a node made with mknod (loop0 7:0, kmsg 1:11, loop-control 10:237) does not open in /dev, /tmp, /dev/shm or /', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '--rm', 'busybox', 'sh', '-c', PROBE]);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, /OPENED/, `a host device opened inside the container:\n${r.stdout}`);
  assert.not.match(r.stdout, /MKNOD-FAILED/, 'mknod itself is allowed, as docker allows it');
  assert.is(r.stdout.match(/refused/g)?.length, 12, r.stdout);
}));

s('the allowed nodes work: null, zero, full, urandom, and a tty under -t', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '--rm', 'busybox', 'sh', '-c',
    'echo x > /dev/null && head -c 10 /dev/urandom | wc -c && head -c 3 /dev/zero | wc -c && head -c 5 /dev/random | wc -c; echo x > /dev/full || echo full-refused']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').map((l) => l.trim()), ['10', '3', '5', 'full-refused', '']);
  assert.match(r.stderr, /No space left on device/);
  const t = sbxPty(d.root, ['run', '-t', '--rm', 'busybox', 'sh', '-c', 'tty; echo via-tty > /dev/tty; echo via-console > /dev/console; echo done']);
  assert.is(await t.exit, 0, t.output());
  assert.match(t.output(), /\/dev\/(console|pts\/\d+)\r*\nvia-tty\r*\nvia-console\r*\ndone/);
}));

s('--device HOST[:CONTAINER[:PERMS]] binds the host node and allows it', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '--rm', '--device', '/dev/loop-control', '--device', '/dev/loop1:/dev/disk/l1:r', 'busybox', 'sh', '-c',
    '(exec 3<>/dev/loop-control) && echo rw-opened; (exec 3</dev/disk/l1) && echo r-opened; (exec 3<>/dev/disk/l1) 2>/dev/null && echo rw-opened-l1; ' + PROBE]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^rw-opened\nr-opened\n/);
  if (cgroupV1Devices) assert.not.match(r.stdout, /rw-opened-l1/, 'PERMS r: the devices cgroup refuses a write open');
  assert.not.match(r.stdout, /OPENED/, 'only the named device opens');
  const id = (await sbx(d.root, ['run', '-d', '--device', '/dev/loop-control:/dev/lc:rw', 'busybox', 'true'])).stdout.trim();
  const hc = JSON.parse((await sbx(d.root, ['inspect', id])).stdout)[0].HostConfig;
  assert.equal(hc.Devices, [{ PathOnHost: '/dev/loop-control', PathInContainer: '/dev/lc', CgroupPermissions: 'rw' }]);
  await sbx(d.root, ['rm', '-f', id]);
  // HOST:PERMS, as docker reads it
  const id2 = (await sbx(d.root, ['run', '-d', '--device', '/dev/loop-control:r', 'busybox', 'true'])).stdout.trim();
  const hc2 = JSON.parse((await sbx(d.root, ['inspect', id2])).stdout)[0].HostConfig;
  assert.equal(hc2.Devices, [{ PathOnHost: '/dev/loop-control', PathInContainer: '/dev/loop-control', CgroupPermissions: 'r' }]);
  await sbx(d.root, ['rm', '-f', id2]);
}));

s('--device refuses what is not a device node, and bad permissions, with exit 125', privileged<Ctx>(async ({ d }) => {
  const f = await sbx(d.root, ['run', '--rm', '--device', '/etc/passwd', 'busybox', 'true']);
  assert.is(f.code, 125);
  assert.match(f.stderr, /\/etc\/passwd.*not a device node/);
  const m = await sbx(d.root, ['run', '--rm', '--device', '/dev/loop-control:/dev/lc:rwx', 'busybox', 'true']);
  assert.is(m.code, 125);
  assert.match(m.stderr, /--device.*bad mode specified: rwx/);
  const n = await sbx(d.root, ['run', '--rm', '--device', '/dev/no-such-device', 'busybox', 'true']);
  assert.is(n.code, 125);
  assert.match(n.stderr, /\/dev\/no-such-device.*no such file or directory/);
}));

s('masked paths read empty: /proc/kcore, /proc/keys, /proc/timer_list, /proc/sched_debug, /sys/firmware', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '--rm', 'busybox', 'sh', '-c',
    'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do [ -e $f ] && echo "$f $(cat $f | wc -c)"; done; ' +
    'echo "firmware [$(ls -A /sys/firmware)]"; ls -A /proc/acpi 2>/dev/null | wc -l; touch /sys/firmware/x 2>/dev/null || echo ro']);
  assert.is(r.code, 0, r.stderr);
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith('/proc/'))) assert.match(line, / 0$/, `${line}: masked, reads nothing`);
  assert.match(r.stdout, /^\/proc\/timer_list 0$/m, 'timer_list exists here and is masked');
  assert.match(r.stdout, /^firmware \[\]$/m);
  assert.match(r.stdout, /^0\nro\n$/m);
}));

s('--privileged: every capability, host devices open, nothing masked', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '--rm', '--privileged', 'busybox', 'sh', '-c',
    'grep CapEff /proc/self/status; (exec 3<>/dev/loop0) && echo loop0-opened; [ -c /dev/kmsg ] && echo has-kmsg; ' +
    'echo "timer_list $(head -c 100 /proc/timer_list | wc -c)"; echo "firmware [$(ls -A /sys/firmware | head -1)]"']);
  assert.is(r.code, 0, r.stderr);
  // every capability the daemon itself holds (root here may lack some, e.g. SYS_RESOURCE)
  const host = /CapBnd:\s+([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  assert.match(r.stdout, new RegExp(`CapEff:\\s+${host}`));
  assert.match(r.stdout, /loop0-opened/);
  assert.match(r.stdout, /has-kmsg/);
  assert.match(r.stdout, /timer_list 100/);
  if (existsSync('/sys/firmware')) assert.not.match(r.stdout, /firmware \[\]/);
  const id = (await sbx(d.root, ['run', '-d', '--privileged', 'busybox', 'true'])).stdout.trim();
  const hc = JSON.parse((await sbx(d.root, ['inspect', id])).stdout)[0].HostConfig;
  assert.equal([hc.Privileged, hc.CapAdd, hc.CapDrop, hc.Devices], [true, null, null, []]);
  await sbx(d.root, ['rm', '-f', id]);
}));

s('--cap-add NET_ADMIN shows in CapEff; --cap-drop CHOWN makes chown fail; inspect shows both', privileged<Ctx>(async ({ d }) => {
  const bit = (hex: string, n: number): boolean => ((BigInt(`0x${hex}`) >> BigInt(n)) & 1n) === 1n;
  const base = await sbx(d.root, ['run', '--rm', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status; touch /tmp/f; chown 1:1 /tmp/f && echo chowned']);
  const baseHex = /CapEff:\s+([0-9a-f]+)/.exec(base.stdout)![1]!;
  assert.not.ok(bit(baseHex, 12), 'no NET_ADMIN by default');
  assert.match(base.stdout, /chowned/);
  const r = await sbx(d.root, ['run', '--rm', '--cap-add', 'net_admin', '--cap-drop', 'CAP_CHOWN', 'busybox', 'sh', '-c',
    'grep CapEff /proc/self/status; ip link set lo mtu 1280 && echo mtu-set; touch /tmp/f; chown 1:1 /tmp/f || echo chown-refused']);
  assert.is(r.code, 0, r.stderr);
  const hex = /CapEff:\s+([0-9a-f]+)/.exec(r.stdout)![1]!;
  assert.ok(bit(hex, 12), `NET_ADMIN (12) in CapEff ${hex}`);
  assert.not.ok(bit(hex, 0), `CHOWN (0) not in CapEff ${hex}`);
  assert.match(r.stdout, /mtu-set/);
  assert.match(r.stdout, /chown-refused/);
  assert.match(r.stderr, /Operation not permitted/);
  const id = (await sbx(d.root, ['run', '-d', '--cap-add', 'net_admin', '--cap-drop', 'chown', 'busybox', 'true'])).stdout.trim();
  const hc = JSON.parse((await sbx(d.root, ['inspect', id])).stdout)[0].HostConfig;
  assert.equal([hc.Privileged, hc.CapAdd, hc.CapDrop], [false, ['CAP_NET_ADMIN'], ['CAP_CHOWN']]);
  await sbx(d.root, ['rm', '-f', id]);
  const all = await sbx(d.root, ['run', '--rm', '--cap-drop', 'ALL', '--cap-add', 'CHOWN', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
  assert.match(all.stdout, /CapEff:\s+0000000000000001/);
}));

s('unknown capability names exit 125 naming the value; the API answers 400 naming the field', privileged<Ctx>(async ({ d }) => {
  const a = await sbx(d.root, ['run', '--rm', '--cap-add', 'CAP_FOO', 'busybox', 'true']);
  assert.is(a.code, 125);
  assert.match(a.stderr, /capAdd.*unknown capability.*CAP_FOO/);
  const b = await sbx(d.root, ['run', '--rm', '--cap-drop', 'bogus', 'busybox', 'true']);
  assert.is(b.code, 125);
  assert.match(b.stderr, /capDrop.*unknown capability.*bogus/);
  const res = await post(join(d.root, 'sbx.sock'), '/v1/containers', { image: 'busybox', capAdd: ['NET_ADMIN', 'nope'] });
  assert.is(res.status, 400);
  assert.match(res.body, /capAdd/);
  assert.match(res.body, /nope/);
  const dev = await post(join(d.root, 'sbx.sock'), '/v1/containers', { image: 'busybox', devices: [{ pathOnHost: 'dev/null', pathInContainer: '/dev/x', cgroupPermissions: 'rwm' }] });
  assert.is(dev.status, 400);
  assert.match(dev.body, /devices.*pathOnHost/);
  assert.is((await sbx(d.root, ['ps', '-a', '-q'])).stdout, '', 'nothing was created');
}));

s.run();

function post(socketPath: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
