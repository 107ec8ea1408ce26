/**
 * Commit interop with the real peers: an image sbx commits (with a whiteout) goes through skopeo
 * into Debian's docker-registry and podman runs it — the edit present, the deleted file gone,
 * the committed CMD running; an image podman commits (with a whiteout) comes back through an OCI
 * archive and `sbx load`, and `sbx run` of it honours the whiteout.
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveImage } from '../daemon/images/resolve.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { must, requireTools, startDockerRegistry, startPodman, type Podman, type Registry } from './_helpers/peers.js';

interface Ctx { ok: boolean; d: TestDaemon; reg: Registry; pm: Podman }

const s = suite<Ctx>('commit interop', {} as Ctx);
s.before(async (ctx) => {
  ctx.ok = await requireTools('skopeo', 'podman', 'docker-registry', 'mknod');
  if (!ctx.ok) return;
  ctx.d = await startTestDaemon();
  ctx.reg = await startDockerRegistry();
  ctx.pm = await startPodman([ctx.reg.host]);
  const r = await sbx(ctx.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after(async (ctx) => {
  if (!ctx.ok) return;
  await ctx.pm.close();
  await ctx.reg.close();
  await ctx.d.close();
});

s('sbx commit → skopeo → docker-registry → podman run: edited, deleted, committed CMD', async ({ ok, d, reg, pm }) => {
  if (!ok) return;
  const run = await sbx(d.root, ['run', '--name', 'web', 'busybox', 'sh', '-c', "mkdir -p /www && echo '<h1>edited</h1>' > /www/index.html && rm /etc/motd"]);
  assert.is(run.code, 0, run.stderr);
  const c = await sbx(d.root, ['commit', '-a', 'me', '-m', 'edited index.html', '-c', 'CMD ["httpd","-f","-p","80","-h","/www"]', '-c', 'EXPOSE 80', 'web', 'mysite:1']);
  assert.is(c.code, 0, c.stderr);
  const base = await resolveImage(d.daemon.services, 'busybox');
  const mine = await resolveImage(d.daemon.services, 'mysite:1');
  const diff = await sbx(d.root, ['diff', 'busybox', 'mysite:1']);
  assert.is(diff.stdout, 'C /etc\nD /etc/motd\nA /www\nA /www/index.html\n');
  const ref = `${reg.host}/sbx/mysite:1`;
  await must('skopeo', ['copy', '--dest-tls-verify=false', `oci:${join(d.root, 'oci')}:mysite:1`, `docker://${ref}`]);
  const info = JSON.parse(await must('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${ref}`]));
  assert.equal(info.config.Cmd, ['httpd', '-f', '-p', '80', '-h', '/www']);
  assert.equal(info.rootfs.diff_ids, [...base.config.rootfs.diff_ids, mine.config.rootfs.diff_ids.at(-1)]);

  const cat = await pm.podman(['run', '--rm', '--tls-verify=false', ref, 'cat', '/www/index.html']);
  assert.is(cat.code, 0, cat.stderr);
  assert.is(cat.stdout, '<h1>edited</h1>\n');
  const ls = await pm.podman(['run', '--rm', ref, 'ls', '/etc/motd']);
  assert.is.not(ls.code, 0, 'the deleted file is gone in podman too');
  // The committed CMD: httpd serving /www inside the container.
  const daemonized = await pm.podman(['run', '-d', '--name', 'mysite', ref]);
  assert.is(daemonized.code, 0, daemonized.stderr);
  let body = '';
  for (let i = 0; i < 50 && !body.includes('edited'); i++) {
    body = (await pm.podman(['exec', 'mysite', 'wget', '-qO-', 'http://127.0.0.1:80/index.html'])).stdout;
    if (!body.includes('edited')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.is(body, '<h1>edited</h1>\n');
  const ps = await pm.podman(['inspect', '--format', '{{.Config.Cmd}}', 'mysite']);
  assert.match(ps.stdout, /httpd -f -p 80 -h \/www/);
  await pm.podman(['rm', '-f', 'mysite']);
});

s('podman commit (with a whiteout) → skopeo oci-archive → sbx load: the whiteout is honoured', async ({ ok, d, reg, pm }) => {
  if (!ok) return;
  const ref = `${reg.host}/sbx/mysite:1`;
  const run = await pm.podman(['run', '--name', 'pc', '--tls-verify=false', ref, 'sh', '-c', 'rm /etc/passwd && echo from-podman > /podman.txt']);
  assert.is(run.code, 0, run.stderr);
  const com = await pm.podman(['commit', '--format', 'oci', 'pc', 'localhost/pm:1']);
  assert.is(com.code, 0, com.stderr);
  const archive = join(pm.dir, 'pm.tar');
  await must('skopeo', ['copy', 'containers-storage:localhost/pm:1', `oci-archive:${archive}:pm:1`], { env: pm.env });
  const load = await sbx(d.root, ['load', '-i', archive]);
  assert.is(load.code, 0, load.stderr);
  const out = await sbx(d.root, ['run', '--rm', 'pm:1', 'sh', '-c',
    'cat /podman.txt /www/index.html; ls /etc/passwd 2>/dev/null || echo passwd-gone; ls /etc/motd 2>/dev/null || echo motd-gone']);
  assert.is(out.stdout, 'from-podman\n<h1>edited</h1>\npasswd-gone\nmotd-gone\n', out.stderr);
  const back = await sbx(d.root, ['diff', 'mysite:1', 'pm:1']);
  // podman's own commit also carries its mount stubs (/etc/mtab, /run/.containerenv).
  const lines = back.stdout.trim().split('\n').filter((l) => !/^A \/(etc\/mtab|run|run\/\.containerenv)$/.test(l));
  assert.equal(lines, ['C /etc', 'D /etc/passwd', 'A /podman.txt']);
});

s.run();
