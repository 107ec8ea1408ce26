/**
 * A local CLI's own terminal tied to its TTY session (sessions/terminal.ts, runtime/relay.ts): the
 * daemon reads the keys and writes the output itself while the CLI is attached, lets the terminal
 * go on every way the attachment ends, and never opens what is not the client's own terminal.
 * Through the real CLI on real pseudo-terminals; the daemon runs in this process, so its fds are
 * /proc/self/fd.
 */
import pty from '@lydell/node-pty';
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openClientTerminal } from '../daemon/sessions/terminal.js';
import { sbx } from './_helpers/cli.js';
import { sbxPty, startBusyboxDaemon, type PtyCli } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon }
const t = suite<Ctx>('terminal tie', {} as Ctx);
t.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
t.after(async (ctx) => { await ctx.d?.close(); });

/** How many of the daemon's fds are open on `path`. */
function held(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) { try { if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++; } catch { /* closed meanwhile */ } }
  return n;
}
const ptsOf = (c: PtyCli): string => (c.pty as unknown as { _pty: string })._pty;

async function typeUntil(c: PtyCli, line: string, re: RegExp): Promise<void> {
  // keys typed before the shell set its line up may be dropped: type until it answers
  await eventually(`${re} on the terminal`, async () => {
    const mark = c.output().length;
    c.pty.write(`${line}\r`);
    try { await c.expect(re, mark, 1000); return true; } catch { return false; }
  });
}

t('run -it: sbxd holds the CLI\'s terminal while attached, echo and exit status as before, and lets it go at the exit', privileged<Ctx>(async ({ d }) => {
  const c = sbxPty(d.root, ['run', '-it', '--rm', 'busybox', 'sh']);
  const pts = ptsOf(c);
  await typeUntil(c, 'echo tie-$((2+3))', /tie-5/);
  assert.ok(held(pts) >= 1, `the daemon reads and writes ${pts} itself`);
  c.pty.write('exit 3\r');
  assert.is(await c.exit, 3);
  await eventually(`the daemon let ${pts} go`, () => held(pts) === 0);
}));

t('detach keys on a tied terminal: "read escape sequence", exit 0, the container runs on, the terminal is let go', privileged<Ctx>(async ({ d }) => {
  const c = sbxPty(d.root, ['run', '-it', '--name', 'tie1', 'busybox', 'sh']);
  const pts = ptsOf(c);
  await typeUntil(c, 'echo one-$((1+1))', /one-2/);
  c.pty.write('\x10\x11');
  assert.is(await c.exit, 0);
  assert.match(c.output(), /read escape sequence/);
  await eventually(`the daemon let ${pts} go`, () => held(pts) === 0);
  assert.match((await sbx(d.root, ['ps'])).stdout, /tie1/, 'the container keeps running');
  // attach again: the screen it gets back (the replay) and new keys both work
  const a = sbxPty(d.root, ['attach', 'tie1']);
  await typeUntil(a, 'echo two-$((2+2))', /two-4/);
  assert.ok(held(ptsOf(a)) >= 1);
  a.pty.write('exit\r');
  assert.is(await a.exit, 0);
  assert.is((await sbx(d.root, ['rm', '-f', 'tie1'])).code, 0);
}));

t('the CLI killed (SIGKILL) while attached: the daemon lets its terminal go', privileged<Ctx>(async ({ d }) => {
  const c = sbxPty(d.root, ['run', '-it', '--name', 'tie2', 'busybox', 'sh']);
  const pts = ptsOf(c);
  await typeUntil(c, 'echo three-$((1+2))', /three-3/);
  assert.ok(held(pts) >= 1);
  process.kill(c.pty.pid, 'SIGKILL');
  await c.exit;
  await eventually(`the daemon let ${pts} go`, () => held(pts) === 0);
  assert.is((await sbx(d.root, ['rm', '-f', 'tie2'])).code, 0);
}));

t('the CLI stopped (SIGSTOP) while attached: keys typed meanwhile stay in the terminal for its next reader, and reach the container again after SIGCONT', privileged<Ctx>(async ({ d }) => {
  const c = sbxPty(d.root, ['run', '-it', '--name', 'tie3', 'busybox', 'sh']);
  const pts = ptsOf(c);
  await typeUntil(c, 'echo five-$((2+3))', /five-5/);
  process.kill(c.pty.pid, 'SIGSTOP');
  // what the user's shell would read once it has the terminal back: here, this process
  const shell = openSync(pts, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    await eventually('the CLI is stopped', () => /^\d+ \(.*\) T /.test(readFileSync(`/proc/${c.pty.pid}/stat`, 'utf8')));
    const typed = 'echo stopped-$((6*7))\r';
    c.pty.write(typed);
    let got = '';
    await eventually('the keys typed while the CLI is stopped are left to the terminal\'s other reader', () => {
      const b = Buffer.alloc(256);
      try { got += b.subarray(0, readSync(shell, b)).toString(); } catch { /* EAGAIN */ }
      return got === typed;
    });
    assert.not.match(c.output(), /stopped-42/, 'the container never got them');
  } finally {
    closeSync(shell);
    process.kill(c.pty.pid, 'SIGCONT');
  }
  await typeUntil(c, 'echo six-$((3+3))', /six-6/);
  c.pty.write('exit\r');
  assert.is(await c.exit, 0);
  await eventually(`the daemon let ${pts} go`, () => held(pts) === 0);
  assert.is((await sbx(d.root, ['rm', '-f', 'tie3'])).code, 0);
}));

t('SBX_TERMINAL=frames: the CLI carries the bytes itself, as over TCP', privileged<Ctx>(async ({ d }) => {
  const c = sbxPty(d.root, ['run', '-it', '--rm', 'busybox', 'sh'], undefined, { SBX_TERMINAL: 'frames' });
  const pts = ptsOf(c);
  await typeUntil(c, 'echo four-$((2*2))', /four-4/);
  assert.is(held(pts), 0);
  c.pty.write('exit 4\r');
  assert.is(await c.exit, 4);
}));

/** A client connected to a unix socket of ours with the given stdio (and uid): what the daemon would open for it. */
async function tieFor(dir: string, stdio: number, uid?: number): Promise<ReturnType<typeof openClientTerminal>> {
  const path = join(dir, 'tie.sock');
  const server = createServer();
  const conn = new Promise<Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(path, r));
  chmodSync(path, 0o777);
  const child = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(path)}); setInterval(() => {}, 1000)`],
    { stdio: [stdio, stdio, 'ignore'], ...(uid !== undefined ? { uid, gid: uid } : {}) });
  try {
    const s = await conn;
    return openClientTerminal((s as unknown as { _handle: { fd: number } })._handle.fd);
  } finally {
    child.kill('SIGKILL');
    server.close();
  }
}

t('attack: a client whose stdin/stdout is a file, or another user\'s terminal, gets no tie and nothing is written there', privileged<Ctx>(async () => {
  const dir = await tmpdir('sbx-tie-');
  chmodSync(dir, 0o755);
  const file = join(dir, 'secret');
  writeFileSync(file, 'root only\n', { mode: 0o600 });
  const fd = openSync(file, 'r+');
  try {
    const r = await tieFor(dir, fd);
    assert.type(r, 'string');
    assert.match(r as string, /not a terminal/);
  } finally { closeSync(fd); }
  assert.is(held(file), 0);
  assert.is(readFileSync(file, 'utf8'), 'root only\n');

  // a terminal root owns, inherited by a client running as nobody: refused, though it is a terminal
  const term = pty.spawn('/bin/sleep', ['30'], { cols: 80, rows: 24 });
  const pts = (term as unknown as { _pty: string })._pty;
  const slave = openSync(pts, 'r+');
  try {
    const r = await tieFor(dir, slave, 65534);
    assert.type(r, 'string');
    assert.match(r as string, /another user/);
    // the same terminal for a root client is its own: tied
    const mine = await tieFor(dir, slave);
    assert.type(mine, 'object');
    for (const f of new Set(Object.values(mine as object) as number[])) closeSync(f);
  } finally { closeSync(slave); term.kill('SIGKILL'); await rmrf(dir); }
}));

t('attack: a client that swaps its fds 0 and 1 between its terminal and /dev/ptmx never gets ptmx opened and tied', privileged<Ctx>(async () => {
  // the check and the open must see the same file: stat-then-open by path opened ptmx ~1 in 3,000 here
  const dir = await tmpdir('sbx-tie-');
  const path = join(dir, 'tie.sock');
  const server = createServer();
  const conn = new Promise<Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(path, r));
  const term = pty.spawn('/bin/sleep', ['60'], { cols: 80, rows: 24 });
  const slave = openSync((term as unknown as { _pty: string })._pty, 'r+');
  const probe = join(dirname(fileURLToPath(import.meta.url)), 'probe', 'probe');
  const child = spawn(probe, ['flip', path, '/dev/ptmx'], { stdio: ['ignore', 'ignore', 'inherit', slave] });
  try {
    const fd = ((await conn) as unknown as { _handle: { fd: number } })._handle.fd;
    const kinds = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const r = openClientTerminal(fd);
      if (typeof r === 'string') continue;
      for (const f of new Set([r.input, r.output])) {
        const major = String(Math.floor(fstatSync(f).rdev / 256));
        kinds.set(major, (kinds.get(major) ?? 0) + 1);
        closeSync(f);
      }
      closeSync(r.client);
    }
    assert.ok(kinds.get('136'), `its own terminal is still tied when the check and the open see it: ${JSON.stringify([...kinds])}`);
    assert.equal([...kinds.keys()], ['136'], `only pseudo-terminal slaves (major 136) were handed out: ${JSON.stringify([...kinds])}`);
  } finally {
    child.kill('SIGKILL');
    server.close();
    closeSync(slave);
    term.kill('SIGKILL');
    await rmrf(dir);
  }
}));

t.run();
