/**
 * The seed scenario end to end, in order, as a docker user types it: run -it busybox through a
 * pseudo-terminal, write /www/index.html, exit; commit -m -c CMD; history; run -d -p PORT:80 and
 * fetch the edit; push to the embedded registry (sbxd --registry), rmi, pull back, run again and
 * fetch; cp the page out; stats --no-stream; restart; fetch again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { sbxPty } from './_helpers/containers.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { busyboxLayer, putImage } from './_helpers/fixtures.js';
import { freePort } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';
import { tmpdir, rmrf } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

const s = suite<{ d: TestDaemon; reg: string }>('e2e: the seed scenario', {} as { d: TestDaemon; reg: string });
s.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.reg = `127.0.0.1:${await freePort()}`;
  ctx.d = await startTestDaemon({ registry: ctx.reg });
  const sv = ctx.d.daemon.services;
  await putImage(sv.content, sv.images, 'docker.io/library/busybox:latest', [await busyboxLayer()]);
});
s.after(async (ctx) => {
  if (!ctx.d) return;
  const ids = (await sbx(ctx.d.root, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await sbx(ctx.d.root, ['rm', '-f', ...ids]);
  await ctx.d.close();
});

const PAGE = '<h1>hello from the seed</h1>';
/** The page as the published port serves it, once httpd answers. */
const fetchPage = (port: number): Promise<string> => eventually(`the page on port ${port}`, async () => {
  const r = await fetch(`http://127.0.0.1:${port}/`);
  return r.ok && (await r.text());
});

s('run -it, edit, commit, history, run -p, push, rmi, pull, run, cp, stats, restart', privileged(async ({ d, reg }) => {
  const ok = async (args: string[]): Promise<string> => {
    const r = await sbx(d.root, args);
    assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  // 1. a shell on a terminal: write the page, exit
  const t = sbxPty(d.root, ['run', '-it', '--name', 'seed', 'busybox', 'sh']);
  await t.expect(/# /);
  const mark = t.output().length;
  t.pty.write(`mkdir -p /www && echo '${PAGE}' > /www/index.html && tty\r`);
  await t.expect(/\/dev\/pts\/0/, mark);
  t.pty.write('exit\r');
  assert.is(await t.exit, 0);

  // 2. commit with a message and a CMD; history shows it on top
  const id = (await ok(['commit', '-m', 'the seed page', '-c', 'CMD ["httpd","-f","-p","80","-h","/www"]', 'seed', 'seed/web:1'])).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const hist = (await ok(['history', 'seed/web:1'])).split('\n');
  assert.match(hist[0]!, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
  assert.match(hist[1]!, /the seed page/);

  // 3. serve it on a published port
  const port = await freePort();
  await ok(['run', '-d', '--name', 'web1', '-p', `${port}:80`, 'seed/web:1']);
  assert.is((await fetchPage(port)).trim(), PAGE);

  // 4. push to the embedded registry, remove it here, pull it back
  const remote = `${reg}/seed/web:1`;
  await ok(['tag', 'seed/web:1', remote]);
  await ok(['push', remote]);
  await ok(['rm', '-f', 'web1']);
  await ok(['rmi', 'seed/web:1', remote]);
  assert.not.match(await ok(['images']), /seed\/web/);
  await ok(['pull', remote]);
  const pulled = JSON.parse(await ok(['image', 'inspect', remote]))[0];
  assert.is(pulled.Id, id, 'the image pulled back is the one committed');

  // 5. run it again, fetch, cp the page out
  const port2 = await freePort();
  await ok(['run', '-d', '--name', 'web2', '-p', `${port2}:80`, remote]);
  assert.is((await fetchPage(port2)).trim(), PAGE);
  const out = await tmpdir('sbx-e2e-');
  try {
    await ok(['cp', 'web2:/www/index.html', join(out, 'index.html')]);
    assert.is(readFileSync(join(out, 'index.html'), 'utf8').trim(), PAGE);
  } finally { await rmrf(out); }

  // 6. stats --no-stream: one row for the server, one process
  const st = (await ok(['stats', '--no-stream', 'web2'])).trimEnd().split('\n');
  assert.is(st.length, 2);
  const cells = st[1]!.split(/ {3,}/);
  assert.is(cells[1], 'web2');
  assert.is(cells[7], '1');
  assert.match(cells[3]!, /^[\d.]+(B|KiB|MiB) \/ [\d.]+(MiB|GiB|TiB)$/);

  // 7. restart: a new start, the same page
  const before = JSON.parse(await ok(['inspect', 'web2']))[0].State.StartedAt;
  await ok(['restart', 'web2']);
  const after = JSON.parse(await ok(['inspect', 'web2']))[0].State;
  assert.is(after.Status, 'running');
  assert.ok(after.StartedAt > before, `StartedAt ${after.StartedAt} after ${before}`);
  assert.is((await fetchPage(port2)).trim(), PAGE);
}));

s.run();
