/**
 * Issue 9, item 2: the seccomp filter, the container's own session keyring and --security-opt.
 * The attacks are made from inside real containers by test/probe/probe.c (built static with
 * sbx-init), copied into a hand-made busybox root; the host side of the keyring test is the same
 * probe run on the host. The profile format itself: security-seccomp-profile.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExitInfo } from '../protocol/index.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import { sbx } from './_helpers/cli.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { createLinuxRuntime } from '../daemon/runtime/linux.js';
import type { ContainerSpec, Process, Runtime } from '../daemon/runtime/runtime.js';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'probe', 'probe');
const PATH_ENV = 'PATH=/bin';

interface Ctx { dir: string; rootfs: string; rt: Runtime; n: number }

function busyboxRootWithProbe(dir: string): string {
  const r = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) mkdirSync(join(r, d), { recursive: true });
  cpSync('/bin/busybox', join(r, 'bin/busybox'));
  execFileSync('chroot', [r, '/bin/busybox', '--install', '-s', '/bin']);
  writeFileSync(join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  cpSync(PROBE, join(r, 'bin/probe'));
  return r;
}

function specFor(ctx: Ctx, over: Partial<ContainerSpec> = {}): ContainerSpec {
  const id = `sbxsec${process.pid}x${++ctx.n}`;
  const stateDir = join(ctx.dir, id);
  mkdirSync(stateDir, { recursive: true });
  return { id, stateDir, rootfs: [{ type: 'bind', source: ctx.rootfs, options: ['rbind'] }], hostname: 'box', network: 'none', init: false, ...over };
}

function collect(p: Process): Promise<{ out: string; err: string; exit: ExitInfo }> {
  let out = '';
  let err = '';
  p.onData((s, d) => { if (s === 'stdout') out += d; else err += d; });
  return new Promise((resolve) => p.onExit((exit) => resolve({ out, err, exit })));
}

/** Run a command as a container's PID 1; with `exec`, also run `exec` in it through sbx-init join. */
async function run(ctx: Ctx, args: string[], over: Partial<ContainerSpec> = {}, exec?: string[]) {
  const s = specFor(ctx, over);
  const proc = { env: [PATH_ENV], cwd: '/', user: { uid: 0, gid: 0, groups: [] }, tty: false, stdin: false };
  const task = await ctx.rt.start(s, { ...proc, args: exec ? ['sleep', '30'] : args });
  const main = collect(task.process);
  let joined: Awaited<ReturnType<typeof collect>> | undefined;
  if (exec) {
    joined = await collect(await ctx.rt.exec(s, task.pid1, { ...proc, args: exec }));
    process.kill(task.pid1, 'SIGKILL');
  }
  const r = await main;
  await ctx.rt.cleanup(s.id);
  return joined ?? r;
}

const seccompLine = (status: string): string => /^Seccomp:\s*(\d)$/m.exec(status)?.[1] ?? 'missing';
const results = (out: string): Record<string, string> => Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));

const rt = suite<Ctx>('security: seccomp filter and keyring (runtime)', {} as Ctx);
rt.before(async (ctx) => {
  ctx.n = 0;
  if (process.getuid?.() !== 0) return;
  ctx.dir = await tmpdir('sbx-sec-');
  ctx.rootfs = busyboxRootWithProbe(ctx.dir);
  ctx.rt = createLinuxRuntime();
});
rt.after(async (ctx) => { if (ctx.dir) await rmrf(ctx.dir); });

rt('the first process and an exec run in seccomp filter mode (Seccomp: 2)', privileged<Ctx>(async (ctx) => {
  const main = await run(ctx, ['cat', '/proc/self/status']);
  assert.is(main.exit.status, 0, main.err);
  assert.is(seccompLine(main.out), '2', 'PID 1 is filtered');
  const exec = await run(ctx, [], {}, ['cat', '/proc/self/status']);
  assert.is(seccompLine(exec.out), '2', 'an exec is filtered too');
}));

const REFUSED: Record<string, string> = {
  perf_event_open: 'EPERM', io_uring_setup: 'EPERM', io_uring_enter: 'EPERM', io_uring_register: 'EPERM', userfaultfd: 'EPERM',
  bpf: 'EPERM', keyctl: 'EPERM', add_key: 'EPERM', request_key: 'EPERM', kcmp: 'EPERM', get_mempolicy: 'EPERM',
  set_mempolicy: 'EPERM', mbind: 'EPERM', move_pages: 'EPERM', unshare: 'EPERM', setns: 'EPERM', mount: 'EPERM',
  umount2: 'EPERM', personality: 'EPERM', clone_newuser: 'EPERM', clone3: 'ENOSYS', socket_vsock: 'EPERM',
};

rt('every attack syscall is refused with EPERM (clone3 with ENOSYS), in the first process and in an exec', privileged<Ctx>(async (ctx) => {
  for (const exec of [undefined, ['probe', 'attacks']]) {
    const r = await run(ctx, ['probe', 'attacks'], {}, exec);
    assert.is(r.exit.status, 0, r.err);
    assert.equal(results(r.out), REFUSED, exec ? 'exec' : 'PID 1');
  }
}));

rt('unshare -Urm cannot make a user namespace with a full capability set', privileged<Ctx>(async (ctx) => {
  const r = await run(ctx, ['sh', '-c', 'unshare -Urm sh -c "mount -t tmpfs x /tmp && echo mounted"; echo "exit $?"']);
  assert.not.match(r.out, /mounted/);
  assert.match(r.out, /exit [1-9]/);
  assert.match(r.err, /Operation not permitted/);
}));

rt('ordinary programs still work: a shell pipeline, fork, exec, threads, sockets', privileged<Ctx>(async (ctx) => {
  const sh = await run(ctx, ['sh', '-c', 'mkdir -p /tmp/a && echo hi > /tmp/a/f && cat /tmp/a/f | tr a-z A-Z && ls /tmp/a | wc -l']);
  assert.is(sh.out, 'HI\n1\n', sh.err);
  const r = await run(ctx, ['probe', 'spawn']);
  assert.equal(results(r.out), { fork: 'ok', exec: 'ok', thread: 'ok', socket_inet: 'ok', personality_query: 'ok' });
}));

rt('the container can neither read a key the host added nor plant one the host sees', privileged<Ctx>(async (ctx) => {
  const desc = `sbx-test-secret-${process.pid}`;
  const planted = `sbx-test-planted-${process.pid}`;
  const host = (...a: string[]): string => { try { return execFileSync(PROBE, a, { encoding: 'utf8' }).trim(); } catch (e) { return String((e as { stdout?: string }).stdout ?? '').trim(); } };
  assert.match(host('addkey', '@s', desc, 'hunter2'), /^\d+$/, 'the host stored its secret in its session keyring');
  assert.match(host('addkey', '@u', desc, 'hunter2'), /^\d+$/, 'and in root\'s user keyring');
  try {
    assert.is(host('findkey', '@s', desc), 'hunter2', 'the host reads its own secret');
    const r = await run(ctx, ['sh', '-c', `for k in @s @u; do probe findkey $k ${desc}; probe addkey $k ${planted} evil; done`]);
    assert.not.match(r.out, /hunter2/, 'the secret leaked into the container');
    assert.is(r.out, 'EPERM\nEPERM\nEPERM\nEPERM\n');
    for (const k of ['@s', '@u']) assert.is(host('findkey', k, planted), 'ENOKEY', `the container planted a key in the host's ${k}`);
    // without the filter the container still has its own session keyring (runc's rule), not the daemon's
    const open = await run(ctx, ['sh', '-c', `probe findkey @s ${desc}; probe addkey @s ${planted} evil >/dev/null; echo done`], { seccomp: null });
    assert.is(open.out, 'ENOKEY\ndone\n', open.err);
    assert.is(host('findkey', '@s', planted), 'ENOKEY', 'a key the container put in its session keyring reached the host\'s');
  } finally {
    for (const k of ['@s', '@u']) { host('rmkey', k, desc); host('rmkey', k, planted); }
  }
}));

rt('seccomp: null (unconfined) and privileged load no filter', privileged<Ctx>(async (ctx) => {
  for (const over of [{ seccomp: null }, { privileged: true }]) {
    const r = await run(ctx, ['cat', '/proc/self/status'], over);
    assert.is(seccompLine(r.out), '0', JSON.stringify(over));
  }
}));

rt.run();

// ---

interface CliCtx { d: TestDaemon; dir: string }
const cli = suite<CliCtx>('security: sbx run --security-opt', {} as CliCtx);
cli.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.dir = await tmpdir('sbx-secopt-');
});
cli.after(async (ctx) => { await ctx.d?.close(); if (ctx.dir) await rmrf(ctx.dir); });

const DENY_MKDIR = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
};

cli('default, seccomp=unconfined, a custom profile denying mkdir; inspect shows SecurityOpt', privileged<CliCtx>(async ({ d, dir }) => {
  const status = ['sh', '-c', 'grep "^Seccomp:" /proc/self/status'];
  const def = await sbx(d.root, ['run', '--rm', 'busybox', ...status]);
  assert.is(def.stdout, 'Seccomp:\t2\n', def.stderr);
  const off = await sbx(d.root, ['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', ...status]);
  assert.is(off.stdout, 'Seccomp:\t0\n', off.stderr);
  const file = join(dir, 'deny-mkdir.json');
  writeFileSync(file, JSON.stringify(DENY_MKDIR));
  const mk = await sbx(d.root, ['run', '--name', 'nomkdir', '--security-opt', `seccomp=${file}`, '--security-opt', 'no-new-privileges',
    'busybox', 'sh', '-c', 'touch /tmp/f && echo touched; mkdir /tmp/d']);
  assert.is(mk.code, 1);
  assert.is(mk.stdout, 'touched\n');
  assert.match(mk.stderr, /mkdir: can't create directory '\/tmp\/d': Operation not permitted/);
  const ins = await sbx(d.root, ['inspect', '-f', '{{json .HostConfig.SecurityOpt}}', 'nomkdir']);
  assert.is(ins.stdout.trim(), JSON.stringify([`seccomp=${file}`, 'no-new-privileges']), ins.stderr);
  const exec = await sbx(d.root, ['start', '-a', 'nomkdir']);
  assert.is(exec.code, 1, 'the profile is the container\'s: a restart keeps it');
  await sbx(d.root, ['rm', 'nomkdir']);
  const plain = await sbx(d.root, ['run', '--name', 'plain', 'busybox', 'true']);
  assert.is(plain.code, 0, plain.stderr);
  assert.is((await sbx(d.root, ['inspect', '-f', '{{json .HostConfig.SecurityOpt}}', 'plain'])).stdout.trim(), 'null');
  await sbx(d.root, ['rm', 'plain']);
}));

cli('--cap-add opens the syscalls the profile gates on that capability (mount with SYS_ADMIN); --privileged has no filter', privileged<CliCtx>(async ({ d }) => {
  const script = ['sh', '-c', 'mkdir -p /m; mount -t tmpfs none /m 2>&1 && echo mounted; grep "^Seccomp:" /proc/self/status'];
  const def = await sbx(d.root, ['run', '--rm', 'busybox', ...script]);
  assert.not.match(def.stdout, /^mounted$/m, 'a default container cannot mount');
  const admin = await sbx(d.root, ['run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', ...script]);
  assert.match(admin.stdout, /^mounted\nSeccomp:\t2$/m, admin.stdout + admin.stderr);
  const priv = await sbx(d.root, ['run', '--rm', '--privileged', 'busybox', ...script]);
  assert.match(priv.stdout, /^mounted\nSeccomp:\t0$/m, priv.stdout + priv.stderr);
}));

cli('bad --security-opt values and profiles: exit 125 and a message naming the value', privileged<CliCtx>(async ({ d, dir }) => {
  const write = (name: string, text: string): string => { const f = join(dir, name); writeFileSync(f, text); return f; };
  const cases: [string, RegExp][] = [
    ['apparmor=unconfined', /"apparmor=unconfined": sbx does not support apparmor=/],
    ['label=disable', /"label=disable": sbx does not support label=/],
    ['no-new-privileges=false', /sbx always sets no-new-privileges/],
    ['no-new-privileges=maybe', /"no-new-privileges=maybe": invalid value/],
    ['bogus', /"bogus": unknown security option .*seccomp=unconfined/],
    ['seccomp=', /want seccomp=unconfined or seccomp=PROFILE.json/],
    [`seccomp=${join(dir, 'missing.json')}`, /opening seccomp profile \(.*missing.json\) failed: ENOENT/],
    [`seccomp=${write('broken.json', '{"defaultAction": ')}`, /securityOpt seccomp=.*broken.json: seccomp profile: not valid JSON/],
    [`seccomp=${write('action.json', JSON.stringify({ defaultAction: 'SCMP_ACT_MAYBE' }))}`, /defaultAction: unknown action "SCMP_ACT_MAYBE"/],
    [`seccomp=${write('op.json', JSON.stringify({ ...DENY_MKDIR, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ISH' }] }] }))}`,
      /syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_ISH"/],
    [`seccomp=${write('typo.json', JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscall: [] }))}`, /unknown field "syscall"/],
  ];
  for (const [opt, re] of cases) {
    const r = await sbx(d.root, ['run', '--rm', '--security-opt', opt, 'busybox', 'true']);
    assert.is(r.code, 125, `${opt}: ${r.stderr}`);
    assert.match(r.stderr, re, opt);
  }
  assert.is((await sbx(d.root, ['ps', '-a', '-q'])).stdout, '', 'nothing was created');
  for (const ok of ['no-new-privileges', 'no-new-privileges=true', 'no-new-privileges:true']) {
    const r = await sbx(d.root, ['run', '--rm', '--security-opt', ok, 'busybox', 'true']);
    assert.is(r.code, 0, `${ok}: ${r.stderr}`);
  }
}));

cli('the API refuses a bad securityOpt or seccompProfile with 400 naming the field', privileged<CliCtx>(async ({ d }) => {
  const post = (body: unknown): Promise<{ status: number; body: { code: string; message: string } }> => new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const req = request({ socketPath: join(d.root, 'sbx.sock'), method: 'POST', path: '/v1/containers',
      headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
  const cases: [unknown, RegExp][] = [
    [{ securityOpt: 'seccomp=unconfined' }, /securityOpt must be an array of strings/],
    [{ securityOpt: ['systempaths=unconfined'] }, /securityOpt\[0\] "systempaths=unconfined": sbx does not support/],
    [{ securityOpt: ['no-new-privileges', 'seccomp=/etc/profile.json'] }, /seccomp=\/etc\/profile.json: the daemon does not read profile files/],
    [{ securityOpt: ['seccomp=unconfined', 'seccomp=unconfined'] }, /securityOpt\[1\].*seccomp is given twice/],
    [{ seccompProfile: 42 }, /seccompProfile must be a string/],
    [{ seccompProfile: '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}' },
      /seccompProfile: seccomp profile: syscalls\[0\]\.action: SCMP_ACT_NOTIFY needs a listener/],
    [{ securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]}]}'] },
      /securityOpt seccomp=\{.*: seccomp profile: syscalls\[0\]\.args\[0\]\.index: want an argument index 0-5/],
  ];
  for (const [extra, re] of cases) {
    const r = await post({ image: 'busybox', cmd: ['true'], ...(extra as object) });
    assert.is(r.status, 400, JSON.stringify(extra));
    assert.is(r.body.code, 'invalid_argument');
    assert.match(r.body.message, re);
  }
  const inline = await post({ image: 'busybox', cmd: ['true'], securityOpt: [`seccomp=${JSON.stringify(DENY_MKDIR)}`] });
  assert.ok(inline.status >= 200 && inline.status < 300, `docker's inline seccomp={...} is taken: ${JSON.stringify(inline.body)}`);
}));

cli.run();
