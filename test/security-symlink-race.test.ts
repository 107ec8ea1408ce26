/**
 * Attack on the daemon's reads: a container swaps /x between a regular file and a symlink to a
 * root-only host file, and /d between a directory and a symlink to the host directory holding
 * it, in a tight loop, while `sbx diff -p` and `sbx commit --pause=false` read its layer. The
 * host file's content must never show in a diff nor land in a committed layer.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const SECRET = 'HOST-SECRET-d41d8cd98f00b204';
const DIFFS = 40;
const COMMITS = 8;
const BUDGET_MS = 90_000;

interface Ctx { d: TestDaemon; tmp: string }
const s = suite<Ctx>('security: container symlink races against diff and commit', {} as Ctx);

s.before.each(async (ctx) => {
  ctx.tmp = await tmpdir('sbx-race-');
  ctx.d = await startTestDaemon();
});
s.after.each(async (ctx) => {
  await sbx(ctx.d.root, ['rm', '-f', 'racer']).catch(() => undefined);
  await ctx.d.close();
  await rmrf(ctx.tmp);
});

async function until(what: string, cond: () => Promise<boolean>, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.unreachable(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

s('the host file never reaches `sbx diff -p` or a committed layer', privileged(async ({ d, tmp }) => {
  const hostDir = join(tmp, 'host');
  await mkdir(hostDir, { mode: 0o700 });
  const secret = join(hostDir, 'secret');
  await writeFile(secret, `${SECRET}\n`);
  await chmod(secret, 0o600);
  assert.is((await sbx(d.root, ['import', '--busybox', 'busybox'])).code, 0);

  // Same-length content in the container's own file, so a size check cannot save the reader.
  const own = 'x'.repeat(SECRET.length);
  const loop = [
    `echo ${own} > /f; mkdir -p /dd; echo ${own} > /dd/secret; cp /f /x; mv /dd /d; echo ready > /ready`,
    'while :; do',
    `  ln -sf ${secret} /x.l; mv -f /x.l /x; cp /f /x.f; mv -f /x.f /x;`,
    `  mv /d /dd; ln -s ${hostDir} /d; rm /d; mv /dd /d;`,
    'done',
  ].join('\n');
  const run = await sbx(d.root, ['run', '-d', '--name', 'racer', 'busybox', 'sh', '-c', loop]);
  assert.is(run.code, 0, run.stderr);
  const diffOf = async (): Promise<string> => (await sbx(d.root, ['diff', 'racer'])).stdout;
  await until('the racing loop to start', async () => /A \/ready/.test(await diffOf()));

  const deadline = Date.now() + BUDGET_MS;
  const outputs: string[] = [];
  const layers: string[] = [];
  const diffs = (async () => {
    for (let i = 0; i < DIFFS && Date.now() < deadline; i++) {
      const r = await sbx(d.root, ['diff', '-p', 'racer']);
      outputs.push(r.stdout + r.stderr);
    }
  })();
  const commits = (async () => {
    for (let i = 0; i < COMMITS && Date.now() < deadline; i++) {
      const c = await sbx(d.root, ['commit', '--pause=false', 'racer', `leak:${i}`]);
      if (c.code !== 0) { outputs.push(c.stderr); continue; } // a commit may refuse a tree that changed under it
      const inspect = JSON.parse((await sbx(d.root, ['image', 'inspect', `leak:${i}`])).stdout) as { RootFS: { Layers: string[] } }[];
      const top = inspect[0]!.RootFS.Layers.at(-1)!;
      layers.push((await readFile(join(d.root, 'oci', 'blobs', 'sha256', top.slice('sha256:'.length)))).toString('latin1'));
    }
  })();
  await Promise.all([diffs, commits]);

  assert.ok(outputs.length >= 10, `enough diff runs (${outputs.length})`);
  assert.ok(layers.length >= 3, `enough commits (${layers.length}): ${outputs.filter((o) => !o.startsWith('diff') && !o.startsWith('A ')).slice(0, 3).join('\n')}`);
  // The race was live: diffs saw /x, and layers hold /x as the container's file or its symlink.
  assert.ok(outputs.some((o) => /[AC] \/x\b|b\/x/.test(o) || o.includes('/x')), 'diffs saw /x');
  assert.ok(layers.every((l) => l.includes(own)), 'each layer holds the container\'s own content');
  const leakedDiffs = outputs.filter((o) => o.includes(SECRET));
  const leakedLayers = layers.filter((l) => l.includes(SECRET));
  assert.ok(leakedDiffs.length === 0 && leakedLayers.length === 0,
    `the host file leaked: into ${leakedDiffs.length} of ${outputs.length} diff outputs, ${leakedLayers.length} of ${layers.length} committed layers\n${(leakedDiffs[0] ?? '').slice(0, 1500)}`);
}));

s.run();
