/**
 * docker's run -a/--attach (which streams the CLI shows or forwards) and --sig-proxy (SIGINT and
 * SIGTERM sent to a non-TTY CLI reach the container's process; with =false they end the CLI only).
 */
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { eventually } from './_helpers/wait.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon }
const run = suite<Ctx>('run -a, --sig-proxy', {} as Ctx);
run.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
run.after(async (ctx) => { await ctx.d?.close(); });

run('-a stdout shows stdout only, -a stderr stderr only, -a stdin -i forwards input; bad values exit 125', privileged<Ctx>(async ({ d }) => {
  const both = 'echo out; echo err >&2';
  const o = await sbx(d.root, ['run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', both]);
  assert.equal([o.code, o.stdout, o.stderr], [0, 'out\n', '']);
  const e = await sbx(d.root, ['run', '--rm', '-a', 'STDERR', 'busybox', 'sh', '-c', both]);
  assert.equal([e.code, e.stdout, e.stderr], [0, '', 'err\n']);
  const i = await sbx(d.root, ['run', '--rm', '-i', '-a', 'stdin', '-a', 'stdout', 'busybox', 'cat'], { input: 'typed\n' });
  assert.equal([i.code, i.stdout], [0, 'typed\n']);
  const before = (await sbx(d.root, ['ps', '-aq'])).stdout;
  const bad = await sbx(d.root, ['run', '--rm', '-a', 'stdnope', 'busybox', 'true']);
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /invalid argument "stdnope" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR/);
  const conflict = await sbx(d.root, ['run', '-d', '-a', 'stdout', 'busybox', 'true']);
  assert.is(conflict.code, 125);
  assert.match(conflict.stderr, /Conflicting options: -a and -d/);
  assert.is((await sbx(d.root, ['ps', '-aq'])).stdout, before, 'nothing created');
}));

/** Start `sbx run` (no terminal) and wait until the container printed "ready". */
async function started(d: TestDaemon, args: string[]): Promise<{ out: () => string; exit: Promise<[number | null, string | null]>; kill(s: NodeJS.Signals): void }> {
  const child = spawn(SBX_BIN, args, { env: { ...process.env, SBX_ROOT: d.root, SBX_NO_AUTOSTART: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => { out += b; });
  const exit = new Promise<[number | null, string | null]>((r) => child.on('close', (code, sig) => r([code, sig])));
  await eventually('the container is ready', () => out.includes('ready'), 20000);
  return { out: () => out, exit, kill: (s) => child.kill(s) };
}

const TRAP = 'trap "echo got-TERM; exit 7" TERM; trap "echo got-INT; exit 8" INT; echo ready; while :; do sleep 0.1; done';

run('--sig-proxy (default): SIGTERM and SIGINT to the CLI reach the process; =false leaves it running', privileged<Ctx>(async ({ d }) => {
  const t = await started(d, ['run', '--rm', 'busybox', 'sh', '-c', TRAP]);
  t.kill('SIGTERM');
  assert.equal(await t.exit, [7, null]);
  assert.match(t.out(), /got-TERM/);
  const i = await started(d, ['run', '--rm', 'busybox', 'sh', '-c', TRAP]);
  i.kill('SIGINT');
  assert.equal(await i.exit, [8, null]);

  const n = await started(d, ['run', '--name', 'sp1', '--sig-proxy=false', 'busybox', 'sh', '-c', TRAP]);
  n.kill('SIGTERM');
  const [, sig] = await n.exit;
  assert.is(sig, 'SIGTERM', 'the CLI itself ends');
  assert.not.match(n.out(), /got-TERM/);
  assert.match((await sbx(d.root, ['ps'])).stdout, /sp1/, 'the container was not signalled');
  assert.is((await sbx(d.root, ['rm', '-f', 'sp1'])).code, 0);
}));

run.run();
