/**
 * Streams on a link that never carries a whole 64 KiB frame: frames shrink until a connection
 * moves the stream forward, and the real CLI through a loopback TCP proxy that cuts every
 * WebSocket connection after 10 KiB still gets every byte, once, in order, and the exit code.
 * An exited session stays while a client that has not read it all may still resume.
 */
import { join } from 'node:path';
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { Session, type Sink } from '../daemon/sessions/session.js';
import { decodeData, parseServerControl } from '../protocol/index.js';
import { sbx } from './_helpers/cli.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { cuttingProxy } from './_helpers/proxy.js';
import { privileged } from './_helpers/root.js';
import { fakeProcess, fakeSink, tick } from './_helpers/session.js';

/**
 * A client over a link that carries `k` bytes per connection, then cuts it: a frame that does
 * not fit is lost (a WebSocket message arrives whole or not at all). Reconnects from what it got.
 */
function cuttingLink(se: Session, k: number) {
  let got = '';
  let attach: string | undefined;
  let resume: string | undefined;
  let exited = false;
  let connections = 0;
  const connect = (): void => {
    connections++;
    let carried = 0;
    let cut = false;
    const sink: Sink = {
      send(frame, cb) {
        if (cut) { cb(new Error('closed')); return; }
        carried += frame.length + 4; // + the WebSocket header
        if (carried > k) { cut = true; setImmediate(() => se.disconnect(attach!, sink, false)); cb(new Error('cut')); return; }
        if (typeof frame === 'string') {
          const c = parseServerControl(frame)!;
          if (c.t === 'attached') { attach = c.attach; resume = c.resume; }
          if (c.t === 'exit') exited = true;
        } else got += Buffer.from(decodeData(frame).data).toString();
        cb();
      },
      bufferedAmount: () => 0,
      close() { cut = true; },
    };
    se.hello({ t: 'hello', v: 1, from: { stdout: got.length, stderr: 0 }, ...(attach ? { attach, resume } : {}) }, sink);
  };
  return {
    async run(maxConnections: number): Promise<void> {
      while (!exited && connections < maxConnections) { connect(); await tick(); await tick(); }
    },
    got: () => got, exited: () => exited, connections: () => connections, attach: () => attach!, resume: () => resume!,
  };
}

test('a link cut inside every 64 KiB frame still moves forward: frames shrink, every byte arrives once, in order', async () => {
  const f = fakeProcess();
  const se = new Session({ id: 's', containerId: 'c', tty: false, kill: () => {} });
  se.bind(f.p);
  let want = '';
  for (let i = 0; i < 30000; i++) want += `${i}\n`;
  f.out(want);
  f.exit(0);
  const link = cuttingLink(se, 10 * 1024);
  await link.run(200);
  assert.ok(link.exited(), `the exit arrived (${link.got().length} of ${want.length} bytes after ${link.connections()} connections)`);
  assert.ok(link.got() === want, 'every byte once, in order');
  assert.ok(link.connections() < 60, `${link.connections()} connections for ${want.length} bytes`);
});

test('frames grow back to 64 KiB once the link holds', async () => {
  const f = fakeProcess();
  const se = new Session({ id: 's', containerId: 'c', tty: false, kill: () => {} });
  se.bind(f.p);
  f.out('x'.repeat(2 << 20));
  const link = cuttingLink(se, 10 * 1024);
  await link.run(3); // cut twice: 64 KiB → 16 KiB → 4 KiB frames
  const v = fakeSink();
  const frames: number[] = [];
  const send = v.sink.send;
  v.sink.send = (frame, cb) => { if (typeof frame !== 'string') frames.push(frame.length - 1); send(frame, cb); };
  const id = se.hello({ t: 'hello', v: 1, attach: link.attach(), resume: link.resume(), from: { stdout: link.got().length, stderr: 0 }, window: 256 * 1024 }, v.sink);
  assert.ok(frames[0]! <= 4096, `small frames after the cuts (${frames[0]})`);
  for (let i = 0; i < 10; i++) se.control(id, { t: 'ack', stdout: link.got().length + v.bytes[1]!.length, stderr: 0 });
  assert.ok(frames.includes(64 * 1024), `back to full frames (${frames.slice(-3).join(', ')})`);
});

test('an exited session stays until a reconnecting client has read it all (drained), or it detaches', async () => {
  const f = fakeProcess();
  const se = new Session({ id: 's', containerId: 'c', tty: false, kill: () => {} });
  se.bind(f.p);
  let drained = false;
  void se.drained().then(() => { drained = true; });
  const s1 = fakeSink();
  let cut = false;
  const send = s1.sink.send;
  s1.sink.send = (frame, cb) => { if (cut) { cb(new Error('cut')); return; } send(frame, cb); };
  const id = se.hello({ t: 'hello', v: 1 }, s1.sink);
  const tok = (s1.controls[0] as { resume: string }).resume;
  f.out('first ');
  cut = true; // the connection breaks: the rest is sent into the void
  f.out('second');
  f.exit(0);
  se.disconnect(id, s1.sink, false);
  await tick();
  assert.not.ok(drained, 'kept: a client has not read the end and may resume');
  const s2 = fakeSink();
  se.hello({ t: 'hello', v: 1, attach: id, resume: tok, from: { stdout: s1.bytes[1]!.length, stderr: 0 } }, s2.sink);
  await tick();
  assert.is(s1.bytes[1]! + s2.bytes[1]!, 'first second');
  assert.is(s2.controls[s2.controls.length - 1]!.t, 'exit');
  assert.not.ok(drained, 'kept until that connection closes: the exit may yet be lost');
  se.disconnect(id, s2.sink, false, true);
  await tick();
  assert.ok(drained, 'drained once the exit was sent and the connection closed cleanly');
  // a client that leaves on purpose does not hold the session either
  const g = fakeProcess();
  const se2 = new Session({ id: 's2', containerId: 'c', tty: false, kill: () => {} });
  se2.bind(g.p);
  const v = fakeSink();
  const vid = se2.hello({ t: 'hello', v: 1, window: 1 }, v.sink);
  g.out('more than one byte');
  g.exit(0);
  let drained2 = false;
  void se2.drained().then(() => { drained2 = true; });
  await tick();
  assert.not.ok(drained2);
  se2.control(vid, { t: 'detach' });
  await tick();
  assert.ok(drained2, 'drained after the detach');
  // a container removed before it started: nothing will ever come, nothing to wait for
  const never = new Session({ id: 's3', containerId: 'c', tty: false, kill: () => {} });
  never.hello({ t: 'hello', v: 1 }, fakeSink().sink);
  let drained3 = false;
  void never.drained().then(() => { drained3 = true; });
  await tick();
  assert.ok(drained3, 'a session never started is drained at once');
});

test.run();

// ---

interface Ctx { d: TestDaemon }
const cuts = suite<Ctx>('stream: every connection cut before one frame', {} as Ctx);
cuts.before(async (ctx) => { if (process.getuid?.() === 0) ctx.d = await startBusyboxDaemon(); });
cuts.after(async (ctx) => { await ctx.d?.close(); });

const lines = (n: number): string => Array.from({ length: n }, (_, i) => String(i + 1)).join('\n') + '\n';

cuts('sbx run through a proxy cutting every connection at 10 KiB: all output once, in order, exit code kept', privileged<Ctx>(async ({ d }) => {
  const K = 10 * 1024;
  const proxy = await cuttingProxy({ target: join(d.root, 'sbx.sock'), after: K });
  try {
    // ~210 KiB on stdout and ~9 KiB on stderr, then a non-zero exit
    const r = await sbx(d.root, ['run', '--rm', 'busybox', 'sh', '-c', 'seq 1 36000; seq 1 2000 >&2; exit 3'], {
      env: { SBX_HOST: proxy.url }, timeoutMs: 120000,
    });
    const out = lines(36000);
    assert.ok(out.length > 200 * 1024);
    assert.ok(r.stdout === out, `stdout: ${r.stdout.length} of ${out.length} bytes, exit ${r.code}: ${r.stderr.slice(-300)}`);
    assert.is(r.stderr, lines(2000), 'stderr complete, nothing else on it');
    assert.is(r.code, 3, 'the exit code passed');
    assert.ok(proxy.cut() >= 20, `every connection was cut (${proxy.cut()} cuts)`);
  } finally {
    await proxy.close();
  }
}));

cuts.run();
