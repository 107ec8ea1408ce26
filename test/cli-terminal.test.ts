/**
 * The user's terminal gets its modes back on every way the CLI leaves a `run -it` session:
 * here SIGTERM and SIGHUP sent to the CLI itself (the shell that started it then prints stty -a).
 */
import pty from '@lydell/node-pty';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon }
const t = suite<Ctx>('cli: terminal restore', {} as Ctx);
t.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
t.after(async (ctx) => { await ctx.d?.close(); });

function children(pid: number): number[] {
  try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
}

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  t(`${signal} to sbx run -it: the terminal is back in cooked mode with output processing`, privileged<Ctx>(async ({ d }) => {
    const term = pty.spawn('/bin/sh', ['-c', '"$0" run -it --rm busybox sh; echo "STATUS=$?"; stty -a; echo STTY-DONE', SBX_BIN], {
      name: 'xterm', cols: 80, rows: 24, env: { ...process.env, SBX_ROOT: d.root, SBX_NO_AUTOSTART: '1' } as Record<string, string>,
    });
    let out = '';
    term.onData((s) => { out += s; });
    try {
      await eventually('the container shell prompt', () => /# /.test(out), 60_000);
      const cli = children(term.pid)[0];
      assert.ok(cli, 'sbx runs under the shell');
      process.kill(cli!, signal);
      await eventually('stty -a after sbx left', () => out.includes('STTY-DONE'), 30_000);
      const after = out.slice(out.lastIndexOf('STATUS='));
      assert.match(after, signal === 'SIGTERM' ? /^STATUS=143/ : /^STATUS=129/);
      assert.not.match(after, /-icanon|-echo\b|-opost|-isig/, `the terminal was left raw:\n${after}`);
    } finally {
      term.kill('SIGKILL');
      for (const id of (await sbx(d.root, ['ps', '-aq'])).stdout.split('\n').filter(Boolean)) await sbx(d.root, ['rm', '-f', id]);
    }
  }));
}

t.run();
