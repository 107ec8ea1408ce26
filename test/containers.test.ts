/** Containers through the real CLI and daemon: lifecycle, exit codes, terminals, isolation. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { sbxPty, startBusyboxDaemon } from './_helpers/containers.js';
import { busyboxLayer, putImage, tarOf } from './_helpers/fixtures.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { freePort } from './_helpers/peers.js';
import { eventually } from './_helpers/wait.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon }
const run = suite<Ctx>('containers: cli', {} as Ctx);
run.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
run.after(async (ctx) => { await ctx.d?.close(); });

run('run: own exit code, 127 not found, 126 cannot execute, stdout and stderr apart', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.is(r.code, 3);
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
  const nf = await sbx(d.root, ['run', '--rm', 'busybox', 'no-such-cmd']);
  assert.is(nf.code, 127);
  assert.match(nf.stderr, /no-such-cmd.*not found/);
  const ce = await sbx(d.root, ['run', '--rm', 'busybox', '/etc/passwd']);
  assert.is(ce.code, 126);
  assert.match(ce.stderr, /permission denied/i);
  const none = await sbx(d.root, ['ps', '-a', '-q']);
  assert.is(none.stdout, '', '--rm removed every container');
}));

run('run -i passes stdin and its EOF through', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'hi\n');
  const big = 'x'.repeat(300_000) + '\n';
  const w = await sbx(d.root, ['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: big });
  assert.is(w.stdout.trim(), String(big.length));
}));

run('run -d, ps, logs, exec, stop, start, kill, wait, rm', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '-d', '--name', 'c2', '-e', 'GREETING=hi', '-w', '/tmp', '--hostname', 'box', 'busybox',
    'sh', '-c', 'trap "exit 0" TERM; echo "$GREETING $(pwd) $(hostname)"; echo warn >&2; while :; do sleep 0.1; done']);
  assert.is(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ps = await sbx(d.root, ['ps']);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
  assert.match(ps.stdout, new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sh -c trap .*Up .*c2`));
  const json = JSON.parse((await sbx(d.root, ['ps', '--format', 'json'])).stdout.trim().split('\n')[0]!);
  assert.is(json.Names, 'c2');
  assert.is(json.State, 'running');
  const logs = await eventually('both log lines', async () => {
    const l = await sbx(d.root, ['logs', 'c2']);
    return l.stdout.endsWith('\n') && l.stderr.endsWith('\n') ? l : undefined;
  });
  assert.is(logs.stdout, 'hi /tmp box\n');
  assert.is(logs.stderr, 'warn\n');
  const ex = await sbx(d.root, ['exec', '-e', 'X=1', 'c2', 'sh', '-c', 'echo $X $(hostname) $(cat /proc/1/cmdline | tr "\\0" " ")']);
  assert.is(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /^1 box sh -c trap/);
  const exCode = await sbx(d.root, ['exec', 'c2', 'sh', '-c', 'exit 9']);
  assert.is(exCode.code, 9);
  assert.is((await sbx(d.root, ['exec', 'c2', 'nope'])).code, 127);
  const dup = await sbx(d.root, ['run', '-d', '--name', 'c2', 'busybox', 'true']);
  assert.is(dup.code, 125);
  assert.match(dup.stderr, /already in use/);
  const stop = await sbx(d.root, ['stop', '-t', '5', 'c2']);
  assert.is(stop.code, 0, stop.stderr);
  const psa = await sbx(d.root, ['ps', '-a']);
  assert.match(psa.stdout, /Exited \(0\) .*c2/);
  assert.is((await sbx(d.root, ['wait', 'c2'])).stdout, '0\n');
  assert.is((await sbx(d.root, ['start', 'c2'])).code, 0);
  assert.is((await sbx(d.root, ['kill', 'c2'])).code, 0);
  assert.is((await sbx(d.root, ['wait', 'c2'])).stdout, '137\n');
  const rm = await sbx(d.root, ['rm', 'c2']);
  assert.is(rm.code, 0, rm.stderr);
  assert.is((await sbx(d.root, ['ps', '-aq'])).stdout, '');
  assert.not.ok(existsSync(join(d.root, 'containers', id)), 'rm removed the records');
  const gone = await sbx(d.root, ['logs', 'c2']);
  assert.is(gone.code, 125);
  assert.match(gone.stderr, /no such container/);
}));

run('bad input: unknown image, bad -e/-u/--memory, rm of a running container', privileged<Ctx>(async ({ d }) => {
  const img = await sbx(d.root, ['run', '--pull', 'never', 'nosuchimage']); // never: no pull from docker.io in a test
  assert.is(img.code, 125);
  assert.match(img.stderr, /no such image/);
  assert.is((await sbx(d.root, ['run', '-e', '=x', 'busybox', 'true'])).code, 125);
  assert.is((await sbx(d.root, ['run', '--memory', 'lots', 'busybox', 'true'])).code, 125);
  const u = await sbx(d.root, ['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']);
  assert.is(u.code, 125);
  assert.match(u.stderr, /unable to find user nosuchuser/);
  const r = await sbx(d.root, ['run', '-d', '--name', 'busy1', 'busybox', 'sleep', '60']);
  const rm = await sbx(d.root, ['rm', 'busy1']);
  assert.is(rm.code, 1);
  assert.match(rm.stderr, /container is running/);
  assert.is((await sbx(d.root, ['rm', '-f', 'busy1'])).code, 0);
  assert.not.ok(existsSync(join(d.root, 'containers', r.stdout.trim())));
  assert.is((await sbx(d.root, ['ps', '-aq'])).stdout, '', 'failed runs left nothing behind');
}));

run('run -it: a shell on a terminal; echo, resize, exit code', privileged<Ctx>(async ({ d }) => {
  const t = sbxPty(d.root, ['run', '-it', '--rm', '--name', 'tty1', 'busybox', 'sh']);
  await t.expect(/# /);
  let mark = t.output().length;
  t.pty.write('echo hello-$((6*7))\r');
  await t.expect(/hello-42/, mark);
  mark = t.output().length;
  t.pty.write('stty size; tty\r');
  await t.expect(/24 80\r\n\/dev\/pts\/0/, mark);
  t.pty.resize(120, 40);
  // the resize travels to the container on its own message: ask until the shell sees it
  await eventually('the new size inside the container', async () => {
    mark = t.output().length;
    t.pty.write('stty size\r');
    await t.expect(/\d+ \d+\r\n/, mark, 2000);
    return /40 120/.test(t.output().slice(mark));
  });
  t.pty.write('exit 5\r');
  assert.is(await t.exit, 5);
  assert.not.match(t.output(), /\r\r\n/, 'no doubled carriage returns');
}));

run('exec -it into a running container; attach and detach with Ctrl-P Ctrl-Q', privileged<Ctx>(async ({ d }) => {
  assert.is((await sbx(d.root, ['run', '-dit', '--name', 'sh1', 'busybox', 'sh'])).code, 0);
  const e = sbxPty(d.root, ['exec', '-it', 'sh1', 'sh']);
  await e.expect(/# /);
  e.pty.write('echo pid=$$ init=$(cat /proc/1/comm)\r');
  await e.expect(/pid=([2-9]|\d\d+) init=sh/);
  e.pty.write('exit 4\r');
  assert.is(await e.exit, 4);
  const a = sbxPty(d.root, ['attach', 'sh1']);
  // keystrokes typed before the attach is connected may be dropped by the shell's line setup: type until echoed
  await eventually('an echo through the attach', async () => {
    a.pty.write('echo attached-$((1+1))\r');
    try { await a.expect(/attached-2/, 0, 1000); return true; } catch { return false; }
  });
  a.pty.write('\x10\x11');
  assert.is(await a.exit, 0);
  const ps = await sbx(d.root, ['ps']);
  assert.match(ps.stdout, /sh1/, 'detach leaves the container running');
  assert.is((await sbx(d.root, ['rm', '-f', 'sh1'])).code, 0);
}));

run('isolation from inside: pid 1, hostname, no mount, read-only /proc/sys, fork bomb contained', privileged<Ctx>(async ({ d }) => {
  const r = await sbx(d.root, ['run', '--rm', '--hostname', 'iso', '--pids-limit', '64', 'busybox', 'sh', '-c', [
    'echo $$', 'hostname', 'ps -o pid= | wc -l',
    'mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo nomount',
    '(echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null && echo sysw || echo sysro',
    'test -e /work && echo host || echo nohost',
    // the kernel's own count (ps may also list tasks already uncharged but not yet gone from
    // /proc), read with builtins only: while the bomb holds every pid, a fork for cat would fail
    'g=/sys/fs/cgroup/pids; [ -e $g/pids.max ] || g=/sys/fs/cgroup',
    'bomb() { bomb | bomb & }; (bomb) 2>/dev/null & sleep 1',
    'read c < $g/pids.current; read m < $g/pids.max; while read k v; do [ "$k" = max ] && e=$v; done < $g/pids.events; echo "$c $m $e"',
    'kill -9 -1 2>/dev/null; echo survived',
  ].join('; ')], { timeoutMs: 60000 });
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], '1');
  assert.is(lines[1], 'iso');
  assert.ok(Number(lines[2]) <= 4, `only the container's processes: ${lines[2]}`);
  assert.is(lines[3], 'nomount');
  assert.is(lines[4], 'sysro');
  assert.is(lines[5], 'nohost');
  const [current, max, refused] = (lines[6] ?? '').split(' ').map(Number);
  assert.is(max, 64, `pids.max seen inside: ${lines[6]}`);
  assert.ok(current! <= 64 && refused! > 0, `the pids limit held and refused forks (current max refused): ${lines[6]}`);
  assert.is(lines[7], 'survived');
}));

run('two containers from one image share its layer and not their writes', privileged<Ctx>(async ({ d }) => {
  await sbx(d.root, ['run', '-d', '--name', 'w1', 'busybox', 'sh', '-c', 'echo one > /root/f; sleep 60']);
  await sbx(d.root, ['run', '-d', '--name', 'w2', 'busybox', 'sleep', '60']);
  await eventually('w1 wrote /root/f', async () => (await sbx(d.root, ['exec', 'w1', 'cat', '/root/f'])).stdout === 'one\n');
  assert.is((await sbx(d.root, ['exec', 'w2', 'cat', '/root/f'])).code, 1);
  assert.is((await sbx(d.root, ['rm', '-f', 'w1', 'w2'])).code, 0);
}));

run('--init reaps orphans; --network none has only loopback, host the host\'s; --memory kills at the limit', privileged<Ctx>(async ({ d }) => {
  const init = await sbx(d.root, ['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/comm; (sleep 0.1 &); sleep 0.6; ps -o stat= | grep -c Z']);
  assert.is(init.stdout, 'init\n0\n', init.stderr);
  const none = await sbx(d.root, ['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
  assert.is(none.stdout.trim(), 'lo');
  const host = await sbx(d.root, ['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net | wc -l']);
  assert.ok(Number(host.stdout.trim()) > 1, `host interfaces: ${host.stdout}`);
  const oom = await sbx(d.root, ['run', '--rm', '--memory', '16m', 'busybox', 'sh', '-c', 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo ${#x}']);
  assert.is(oom.code, 137, `killed at the memory limit: ${oom.stdout} ${oom.stderr}`);
}));

run('-p publishes a container port on the host loopback; a taken port is a clear error', privileged<Ctx>(async ({ d }) => {
  const port = await freePort();
  const r = await sbx(d.root, ['run', '-d', '--name', 'web1', '-p', `${port}:8080`, 'busybox', 'sh', '-c',
    'mkdir -p /www && echo hello-port > /www/index.html && exec httpd -f -p 8080 -h /www']);
  assert.is(r.code, 0, r.stderr);
  let body = '';
  for (let i = 0; i < 50 && !body; i++) {
    body = await fetch(`http://127.0.0.1:${port}/index.html`).then((res) => res.text(), () => '');
    if (!body) await new Promise((res) => setTimeout(res, 100));
  }
  assert.is(body, 'hello-port\n');
  const many = await Promise.all(Array.from({ length: 40 }, () => fetch(`http://127.0.0.1:${port}/index.html`).then((res) => res.text())));
  assert.ok(many.every((b) => b === 'hello-port\n'), 'forty concurrent requests through the published port all answered');
  assert.match((await sbx(d.root, ['ps'])).stdout, new RegExp(`127\\.0\\.0\\.1:${port}->8080/tcp\\s+web1`));
  const pid1 = JSON.parse((await sbx(d.root, ['inspect', 'web1'])).stdout)[0].State.Pid as number;
  assert.ok(pid1 > 0);
  const taken = await sbx(d.root, ['run', '-d', '--name', 'web2', '-p', `${port}:80`, 'busybox', 'sleep', '5']);
  assert.is(taken.code, 125);
  assert.match(taken.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`));
  assert.is((await sbx(d.root, ['run', '-p', 'x:80', 'busybox', 'true'])).code, 125);
  assert.is((await sbx(d.root, ['rm', '-f', 'web1', 'web2'])).code, 0);
  const gone = await fetch(`http://127.0.0.1:${port}/`).then(() => 'answered', () => 'refused');
  assert.is(gone, 'refused', 'the port closes with the container');
  const forwarders = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(`forward --proto tcp --host-ip 127.0.0.1 --host-port ${port} `));
  assert.equal(forwarders, [], 'no port forwarder outlives its container');
}));

run('a device node shipped in an image layer cannot be opened in the container', privileged<Ctx>(async ({ d }) => {
  const s = d.daemon.services;
  const evil = await tarOf([{ name: 'evil-null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }]);
  await putImage(s.content, s.images, 'docker.io/library/devlayer:1', [await busyboxLayer(), evil]);
  const r = await sbx(d.root, ['run', '--rm', 'devlayer:1', 'sh', '-c', 'echo ok > /dev/null && echo x > /evil-null']);
  assert.is(r.code, 1, `writing to the layer's device node must fail: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /Permission denied/);
}));

run('inspect finds a container before an image; image inspect and container inspect keep to their kind', privileged<Ctx>(async ({ d }) => {
  assert.is((await sbx(d.root, ['run', '-d', '--name', 'insp', 'busybox', 'sleep', '30'])).code, 0);
  const c = await sbx(d.root, ['inspect', 'insp']);
  assert.is(c.code, 0, c.stderr);
  const [obj] = JSON.parse(c.stdout);
  assert.is(obj.Name.replace(/^\//, ''), 'insp');
  assert.is(obj.State.Status, 'running');
  assert.is((await sbx(d.root, ['container', 'inspect', '-f', '{{.State.Status}}', 'insp'])).stdout, 'running\n');
  const img = await sbx(d.root, ['image', 'inspect', 'insp']);
  assert.is(img.code, 1);
  assert.match(img.stderr, /No such object: insp/);
  const both = await sbx(d.root, ['inspect', 'insp', 'busybox']);
  assert.is(both.code, 0, both.stderr);
  assert.ok(JSON.parse(both.stdout)[1].RootFS.Layers.length >= 1, 'the second object is the image');
  assert.is((await sbx(d.root, ['rm', '-f', 'insp'])).code, 0);
}));

run.run();
