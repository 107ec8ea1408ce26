/**
 * Interop with the real tools, against Debian's docker-registry and sbx's embedded registry
 * (`sbx registry serve`), each without and with htpasswd auth: sbx push → skopeo inspect shows
 * the same digest → podman pull + run; podman commit + push → sbx pull (diff_ids verified,
 * layers unpacked); skopeo copy → sbx pull. Plus `sbxd --registry` serving its own store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveImage } from '../daemon/images/resolve.js';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { makeBusyboxImage } from './_helpers/image.js';
import { freePort, must, requireTools, startDockerRegistry, startPodman, type Podman } from './_helpers/peers.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Reg { host: string; user?: string; password?: string; close(): Promise<void> }

/** `sbx registry serve` as a user runs it, on its own root. */
async function startSbxRegistry(opts: { auth?: boolean } = {}): Promise<Reg> {
  const dir = await tmpdir('sbx-serve-');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const args = ['registry', 'serve', '--addr', host, '--root', join(dir, 'root'), '--log-level', 'error'];
  if (opts.auth) {
    await writeFile(join(dir, 'htpasswd'), await must('htpasswd', ['-Bbn', 'sbxuser', 'sbxpass']));
    args.push('--htpasswd', join(dir, 'htpasswd'));
  }
  const child: ChildProcess = spawn(SBX_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SBX_ROOT: join(dir, 'root') } });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log += d; });
  child.stderr!.on('data', (d: Buffer) => { log += d; });
  const deadline = Date.now() + 15000;
  for (;;) {
    const res = await fetch(`http://${host}/v2/`).catch(() => undefined);
    if (res && (res.status === 200 || res.status === 401)) break;
    if (child.exitCode !== null || Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`sbx registry serve did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host, ...(opts.auth ? { user: 'sbxuser', password: 'sbxpass' } : {}),
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(undefined); else child.once('exit', r); });
      await rmrf(dir);
    },
  };
}

const KINDS: [string, (auth: boolean) => Promise<Reg>][] = [
  ['docker-registry', (auth) => startDockerRegistry({ auth })],
  ['sbx registry serve', (auth) => startSbxRegistry({ auth })],
];

interface Ctx { ok: boolean; d: TestDaemon; reg: Reg; pm: Podman }

for (const [kind, start] of KINDS) {
  for (const auth of [false, true]) {
    const title = `${kind}${auth ? ' with htpasswd' : ''}`;
    const s = suite<Ctx>(`interop: ${title}`, {} as Ctx);
    s.before(async (ctx) => {
      ctx.ok = await requireTools('skopeo', 'podman', 'docker-registry', 'htpasswd');
      if (!ctx.ok) return;
      ctx.d = await startTestDaemon();
      ctx.reg = await start(auth);
      ctx.pm = await startPodman([ctx.reg.host]);
      if (auth) {
        const r = await sbx(ctx.d.root, ['login', ctx.reg.host, '-u', ctx.reg.user!, '--password-stdin'], { input: `${ctx.reg.password}\n` });
        assert.is(r.code, 0, r.stderr);
        const p = await ctx.pm.podman(['login', '--tls-verify=false', '-u', ctx.reg.user!, '-p', ctx.reg.password!, ctx.reg.host]);
        assert.is(p.code, 0, p.stderr);
      }
    });
    s.after(async (ctx) => {
      if (!ctx.ok) return;
      await ctx.pm.close();
      await ctx.reg.close();
      await ctx.d.close();
    });
    const creds = (reg: Reg): string[] => (reg.user ? ['--creds', `${reg.user}:${reg.password}`] : []);

    s('sbx push → skopeo inspect (same digest) → podman pull + run', async ({ ok, d, reg, pm }) => {
      if (!ok) return;
      const ref = `${reg.host}/sbx/busybox:1`;
      // Over 4 MiB of random and of text: several gzip members, stored and deflated ones.
      const big = Buffer.concat([randomBytes(5 << 20), Buffer.from('sbx text line\n'.repeat(400000))]);
      await makeBusyboxImage(d.daemon.services, ref, { 'hello.txt': 'made by sbx\n', 'big.bin': big });
      const r = await sbx(d.root, ['push', ref]);
      assert.is(r.code, 0, r.stderr);
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(r.stdout)![1];
      const info = JSON.parse(await must('skopeo', ['inspect', '--tls-verify=false', ...creds(reg), `docker://${ref}`]));
      assert.is(info.Digest, digest);
      const pull = await pm.podman(['pull', '--tls-verify=false', ref]);
      assert.is(pull.code, 0, pull.stderr);
      const run = await pm.podman(['run', '--rm', ref, 'sh', '-c', 'cat /hello.txt; busybox sha256sum /big.bin']);
      assert.is(run.code, 0, run.stderr);
      assert.is(run.stdout, `made by sbx\n${createHash('sha256').update(big).digest('hex')}  /big.bin\n`);
    });

    s('podman commit + push → sbx pull verifies diff_ids, unpacks and runs it', async ({ ok, d, reg, pm }) => {
      if (!ok) return;
      const base = `${reg.host}/sbx/busybox:1`;
      const made = `${reg.host}/podman/made:v1`;
      const run = await pm.podman(['run', '--name', 'c1', base, 'sh', '-c', 'echo from-podman > /podman.txt']);
      assert.is(run.code, 0, run.stderr);
      assert.is((await pm.podman(['commit', '--format', 'oci', 'c1', made])).code, 0);
      const push = await pm.podman(['push', '--tls-verify=false', made]);
      assert.is(push.code, 0, push.stderr);
      const r = await sbx(d.root, ['pull', made]);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stdout, /Already exists/, 'the base layer sbx pushed is reused');
      const img = await resolveImage(d.daemon.services, made);
      assert.is(img.config.rootfs.diff_ids.length, 2);
      const unpacked = await d.daemon.services.unpacker.unpack(img);
      assert.equal(unpacked.diffIds, img.config.rootfs.diff_ids);
      const ran = await sbx(d.root, ['run', '--rm', made, 'cat', '/podman.txt', '/hello.txt']);
      assert.is(ran.code, 0, ran.stderr);
      assert.is(ran.stdout, 'from-podman\nmade by sbx\n');
    });

    s('skopeo copy → sbx pull, and podman pulls it back', async ({ ok, d, reg, pm }) => {
      if (!ok) return;
      const ref = `${reg.host}/skopeo/copied:2`;
      await must('skopeo', ['copy', '--dest-tls-verify=false', ...(reg.user ? ['--dest-creds', `${reg.user}:${reg.password}`] : []),
        `oci:${join(d.root, 'oci')}:${reg.host}/sbx/busybox:1`, `docker://${ref}`]);
      const r = await sbx(d.root, ['pull', ref]);
      assert.is(r.code, 0, r.stderr);
      const pulled = await resolveImage(d.daemon.services, ref);
      const original = await resolveImage(d.daemon.services, `${reg.host}/sbx/busybox:1`);
      assert.equal(pulled.config.rootfs.diff_ids, original.config.rootfs.diff_ids);
      const back = await pm.podman(['run', '--rm', '--tls-verify=false', ref, 'cat', '/hello.txt']);
      assert.is(back.code, 0, back.stderr);
      assert.is(back.stdout, 'made by sbx\n');
    });

    s.run();
  }
}

// ---

const mounted = suite<{ ok: boolean; d: TestDaemon; host: string }>('interop: sbxd --registry', {} as { ok: boolean; d: TestDaemon; host: string });
mounted.before(async (ctx) => {
  ctx.ok = await requireTools('skopeo');
  if (!ctx.ok) return;
  ctx.host = `127.0.0.1:${await freePort()}`;
  ctx.d = await startTestDaemon({ registry: ctx.host });
});
mounted.after(async (ctx) => { if (ctx.ok) await ctx.d.close(); });

mounted('the daemon serves its own blobs; registry tags stay out of `sbx images`', async ({ ok, d, host }) => {
  if (!ok) return;
  await makeBusyboxImage(d.daemon.services, 'local/app:1');
  const before = (await d.daemon.services.images.list()).map((i) => i.name);
  await must('skopeo', ['copy', '--dest-tls-verify=false', `oci:${join(d.root, 'oci')}:local/app:1`, `docker://${host}/served/app:1`]);
  assert.equal((await d.daemon.services.images.list()).map((i) => i.name), before, 'pushing to the embedded registry tags nothing locally');
  const tags = await (await fetch(`http://${host}/v2/served/app/tags/list`)).json();
  assert.equal(tags, { name: 'served/app', tags: ['1'] });
  const r = await sbx(d.root, ['pull', `${host}/served/app:1`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Already exists/);
});

mounted.run();
