/**
 * README's first command after setup: `sbx import --busybox busybox && sbx run -it --rm busybox sh`,
 * with the CLI starting sbxd itself, the shell driven through a real pseudo-terminal.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './_helpers/cli.js';
import { sbxPty } from './_helpers/containers.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

/** Alive and not a zombie (an autostarted sbxd is not our child: init reaps it). */
function alive(pid: number): boolean {
  try { return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

const t = suite<{ root: string }>('readme: first command', {} as { root: string });
t.before.each(async (ctx) => { ctx.root = await tmpdir('sbx-readme-'); });
t.after.each(async ({ root }) => {
  const r = await sbx(root, ['version', '--format', 'json']);
  if (r.code === 0) {
    const pid = JSON.parse(r.stdout).Server.Pid as number;
    process.kill(pid, 'SIGTERM');
    await eventually('the autostarted sbxd gone', () => !alive(pid));
  }
  await rmrf(root);
});

t('sbx import --busybox busybox && sbx images autostarts the daemon', async ({ root }) => {
  const env = { SBX_NO_AUTOSTART: '' };
  const imp = await sbx(root, ['import', '--busybox', 'busybox'], { env });
  assert.is(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /^sha256:[a-f0-9]{64}\n$/);
  const images = await sbx(root, ['images'], { env });
  assert.is(images.code, 0, images.stderr);
  assert.match(images.stdout, /\nbusybox\s+latest\s+[a-f0-9]{12}\s/);
  assert.match(await readFile(join(root, 'sbxd.log'), 'utf8'), /sbxd listening/);
});

t('sbx run -it --rm busybox sh opens a shell that answers and exits', privileged(async ({ root }) => {
  const env = { SBX_NO_AUTOSTART: '' };
  const imp = await sbx(root, ['import', '--busybox', 'busybox'], { env });
  assert.is(imp.code, 0, imp.stderr);
  const sh = sbxPty(root, ['run', '-it', '--rm', 'busybox', 'sh'], { cols: 100, rows: 30 }, env);
  await sh.expect(/\/ # /, 0, 20000);
  const mark = sh.output().length;
  sh.pty.write('echo answer-$((6*7)); stty size\r');
  await sh.expect(/answer-42[\s\S]*30 100/, mark);
  sh.pty.write('exit\r');
  assert.is(await sh.exit, 0);
  const ps = await sbx(root, ['ps', '-a', '-q'], { env });
  assert.is(ps.stdout, '', 'the --rm container is gone');
}));

t.run();
