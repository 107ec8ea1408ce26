/**
 * Nothing is lost: the real CLI through a proxy that cuts its WebSocket in the middle of a large
 * output (and of a large input), and a daemon that is SIGKILLed under a running container.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough, Writable } from 'node:stream';
import { Client } from '../cli/client.js';
import { attachSession } from '../cli/stream.js';
import { Containers } from '../protocol/index.js';
import { SBX_BIN, sbx } from './_helpers/cli.js';
import { cuttingProxy, stallingProxy } from './_helpers/proxy.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

interface Ctx { d: TestDaemon }
const resume = suite<Ctx>('containers: lossless resume', {} as Ctx);
resume.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
resume.after(async (ctx) => { await ctx.d?.close(); });

resume('a WebSocket cut three times in a large output: every byte arrives exactly once', privileged<Ctx>(async ({ d }) => {
  const proxy = await cuttingProxy({ target: join(d.root, 'sbx.sock'), path: join(d.root, 'flaky.sock'), after: 256 * 1024, cuts: 3 });
  try {
    const r = await sbx(d.root, ['run', '--rm', 'busybox', 'seq', '1', '300000'], { env: { SBX_SOCKET: join(d.root, 'flaky.sock') }, timeoutMs: 120000 });
    assert.is(r.code, 0, r.stderr);
    assert.is(proxy.cut(), 3, 'the proxy cut the stream three times');
    const want = Array.from({ length: 300000 }, (_, i) => String(i + 1)).join('\n') + '\n';
    assert.is(r.stdout.length, want.length);
    assert.ok(r.stdout === want, 'output identical: no byte lost or repeated');
  } finally {
    await proxy.close();
  }
}));

resume('stdin sent across cuts is delivered exactly once', privileged<Ctx>(async ({ d }) => {
  const proxy = await cuttingProxy({ target: join(d.root, 'sbx.sock'), path: join(d.root, 'flaky2.sock'), after: 128 * 1024, cuts: 3 });
  try {
    const input = Array.from({ length: 120000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const r = await sbx(d.root, ['run', '-i', '--rm', 'busybox', 'cat'], { input, env: { SBX_SOCKET: join(d.root, 'flaky2.sock') }, timeoutMs: 120000 });
    assert.is(r.code, 0, r.stderr);
    assert.ok(proxy.cut() >= 1, 'the proxy cut the stream');
    assert.is(r.stdout.length, input.length);
    assert.ok(r.stdout === input, 'echoed input identical');
  } finally {
    await proxy.close();
  }
}));

/**
 * A proxy that drops the client's first `eof` control frame and cuts the connection there, as a
 * network failure right after the client sent it would. Client frames are masked, so it parses them.
 */
async function eofDroppingProxy(target: string, path: string): Promise<{ close: () => Promise<void>; dropped: () => boolean }> {
  let dropped = false;
  const open = new Set<Socket>();
  const server = createServer((client: Socket) => {
    const up = connect(target);
    open.add(client).add(up);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    client.on('data', (d: Buffer) => {
      if (dropped || !upgraded) {
        if (!upgraded && /upgrade: websocket/i.test(d.toString('latin1'))) upgraded = true;
        up.write(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + 4 + len) return;
        const mask = buf.subarray(off, off + 4);
        const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len)).map((b, i) => b ^ mask[i % 4]!);
        const frame = buf.subarray(0, off + 4 + len);
        buf = buf.subarray(off + 4 + len);
        if ((frame[0]! & 0x0f) === 1 && /"t":"eof"/.test(Buffer.from(payload).toString())) {
          dropped = true;
          client.destroy(); up.destroy();
          return;
        }
        up.write(frame);
      }
    });
    up.on('data', (d: Buffer) => client.write(d));
    for (const s of [client, up]) { s.on('error', () => { client.destroy(); up.destroy(); }); s.on('close', () => { client.destroy(); up.destroy(); }); }
  });
  await new Promise<void>((r) => server.listen(path, r));
  // a failed test must not wait for a hung attachment's connection to end
  const close = (): Promise<void> => { for (const s of open) s.destroy(); return new Promise((r) => server.close(() => r())); };
  return { close, dropped: () => dropped };
}

resume('stdin EOF lost with its connection is sent again on resume (a platform that starts, then attaches)', privileged<Ctx>(async ({ d }) => {
  const proxy = await eofDroppingProxy(join(d.root, 'sbx.sock'), join(d.root, 'eof.sock'));
  const client = new Client({ socket: join(d.root, 'eof.sock') });
  try {
    const { id } = await client.call(Containers.create, { image: 'busybox', cmd: ['cat'], openStdin: true, autoRemove: true });
    await client.call(Containers.start, { id });
    let out = '';
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { out += chunk.toString(); cb(); } });
    const src = new PassThrough();
    src.end('hello\n');
    const timer = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20000).unref());
    const r = await Promise.race([attachSession({
      client, session: id, tty: false, stdin: true, in: src as unknown as NodeJS.ReadStream,
      out: sink as unknown as NodeJS.WriteStream, err: sink as unknown as NodeJS.WriteStream,
    }), timer]);
    assert.ok(proxy.dropped(), 'the proxy dropped the eof with its connection');
    assert.ok(r !== 'hung', `cat never saw the end of its input (echoed ${JSON.stringify(out)})`);
    assert.is(r.exit?.status, 0);
    assert.is(out, 'hello\n');
  } finally {
    await proxy.close();
  }
}));

resume('stdin still queued when the daemon\'s side ends is resent once (a peer that stops reading)', privileged<Ctx>(async ({ d }) => {
  const proxy = await stallingProxy(join(d.root, 'sbx.sock'), join(d.root, 'stall.sock'));
  const client = new Client({ socket: join(d.root, 'stall.sock') });
  try {
    const { id } = await client.call(Containers.create, { image: 'busybox', cmd: ['cat'], openStdin: true, autoRemove: true });
    await client.call(Containers.start, { id });
    let out = '';
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { out += chunk.toString(); cb(); } });
    const src = new PassThrough();
    const attached = attachSession({
      client, session: id, tty: false, stdin: true, in: src as unknown as NodeJS.ReadStream,
      out: sink as unknown as NodeJS.WriteStream, err: sink as unknown as NodeJS.WriteStream,
    });
    const lines = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');
    const head = lines(0, 10000);
    src.write(head);
    await eventually('the first stdin echoed', () => out.length >= head.length, 20000);
    // the link stops carrying stdin: megabytes more than the kernel buffers queue up in the
    // client, the EOF behind them; then the daemon's side ends
    proxy.stall();
    const tail = lines(10000, 300000);
    const consumed = new Promise((r) => src.once('end', r));
    src.end(tail);
    await consumed;
    proxy.cut();
    const timer = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30000).unref());
    const r = await Promise.race([attached, timer]);
    assert.ok(r !== 'hung', `the attachment never resumed (echoed ${out.length} of ${head.length + tail.length} bytes)`);
    assert.ok(proxy.upgrades() >= 2, 'it resumed on a new connection');
    assert.is(r.exit?.status, 0);
    assert.is(out.length, head.length + tail.length);
    assert.ok(out === head + tail, 'echoed input identical: every stdin byte exactly once');
  } finally {
    await proxy.close();
  }
}));

resume.run();

// ---

const restart = suite<{ root: string; child?: ChildProcess }>('containers: daemon restart', { root: '' });
restart.before.each(async (ctx) => {
  ctx.root = await tmpdir('sbx-restart-');
  if (process.getuid?.() === 0) await (await startBusyboxDaemon(ctx.root)).daemon.close();
});
restart.after.each(async (ctx) => { ctx.child?.kill('SIGKILL'); await rmrf(ctx.root); });

/** True while pid exists and is not a zombie; the process may vanish between any two reads. */
function running(pid: number): boolean {
  try { return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

async function spawnDaemon(root: string): Promise<ChildProcess> {
  const main = join(SBX_BIN, '..', '..', 'daemon', 'main.js');
  const child = spawn(process.execPath, [main], { env: { ...process.env, SBX_ROOT: root, SBX_LOG_LEVEL: 'error' }, stdio: 'ignore' });
  // generous: under a loaded machine sbxd's start (recovery, probes) has taken over 10 s
  await eventually('sbxd answering', async () => child.exitCode === null && (await sbx(root, ['ps'])).code === 0, 60_000)
    .catch((e: unknown) => { child.kill('SIGKILL'); throw e; });
  return child;
}

restart('sbxd killed under a running container: it shows exited with its code, no stale mount, rm cleans up', privileged(async (ctx) => {
  ctx.child = await spawnDaemon(ctx.root);
  const r = await sbx(ctx.root, ['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'echo before > /root/f; sleep 300']);
  assert.is(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  // Its command has run (the file is there) before the daemon is killed.
  await eventually('/root/f written in the container', async () => (await sbx(ctx.root, ['exec', 'survivor', 'cat', '/root/f'])).stdout === 'before\n');
  const pid = JSON.parse(readFileSync(join(ctx.root, 'containers', id, 'state.json'), 'utf8')).pid as number;
  assert.ok(pid > 0);
  ctx.child.kill('SIGKILL');
  await eventually('the container gone with its daemon', () => !running(pid), 5000).catch(() => undefined);
  assert.not.ok(running(pid), 'the container died with its daemon');
  ctx.child = await spawnDaemon(ctx.root);
  const ps = await sbx(ctx.root, ['ps', '-a']);
  assert.match(ps.stdout, /Exited \(137\) .*survivor/);
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), ctx.root, 'nothing of the root stays mounted');
  const snapsBefore = readdirSync(join(ctx.root, 'snapshots')).length;
  const rm = await sbx(ctx.root, ['rm', 'survivor']);
  assert.is(rm.code, 0, rm.stderr);
  assert.not.ok(existsSync(join(ctx.root, 'containers', id)), 'records removed');
  assert.ok(readdirSync(join(ctx.root, 'snapshots')).length < snapsBefore, 'its writable layer removed');
  assert.is((await sbx(ctx.root, ['ps', '-aq'])).stdout, '');
}));

restart.run();
