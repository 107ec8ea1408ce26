/** Session rules without a kernel: fan-out to several viewers, slow viewers, exit ordering, resume. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Session } from '../daemon/sessions/session.js';
import { ByteRing } from '../daemon/sessions/ring.js';
import { fakeProcess, fakeSink, tick } from './_helpers/session.js';
import { eventually } from './_helpers/wait.js';


test('several viewers each get every byte; a slow one lags only itself (gap in a TTY); exit after all output', async () => {
  const f = fakeProcess();
  const se = new Session({ id: 's', containerId: 'c', tty: true, kill: () => {}, ringBytes: 1024 });
  se.bind(f.p);
  const fast = fakeSink();
  const slow = fakeSink();
  se.hello({ t: 'hello', v: 1, window: 1 << 20 }, fast.sink);
  const slowId = se.hello({ t: 'hello', v: 1, window: 10 }, slow.sink);
  const total = 100 * 48;
  for (let i = 0; i < 100; i++) f.out(`line ${String(i).padStart(2, '0')} ${'x'.repeat(39)}\n`);
  await tick();
  assert.is(fast.bytes[1]!.length, total, 'the fast viewer has everything');
  assert.ok(slow.bytes[1]!.length < total, 'the slow viewer is behind');
  assert.ok(slow.controls.some((c) => c.t === 'gap'), 'and was told what it missed');
  f.exit(0);
  await tick();
  assert.is(fast.controls[fast.controls.length - 1]!.t, 'exit');
  assert.is(fast.closed(), 1000);
  assert.not.ok(slow.controls.some((c) => c.t === 'exit'), 'no exit before the viewer has all output');
  for (let i = 0; i < 1000 && !slow.closed(); i++) { se.control(slowId, { t: 'ack', stdout: 1e9, stderr: 0 }); await tick(); }
  assert.is(slow.controls[slow.controls.length - 1]!.t, 'exit');
  assert.is(slow.closed(), 1000);
  assert.ok(slow.bytes[1]!.endsWith('line 99 ' + 'x'.repeat(39) + '\n'), 'the last byte came before exit');
});

test('non-TTY: the process is held while an attachment lags by a ring, so nothing is lost', async () => {
  const f = fakeProcess();
  const se = new Session({ id: 's', containerId: 'c', tty: false, kill: () => {}, ringBytes: 100 });
  se.bind(f.p);
  const v = fakeSink();
  const id = se.hello({ t: 'hello', v: 1, window: 1 << 20 }, v.sink);
  for (let i = 0; i < 20; i++) f.out('0123456789');
  assert.ok(f.paused(), 'reading stopped');
  se.control(id, { t: 'ack', stdout: 200, stderr: 0 });
  assert.not.ok(f.paused(), 'reading resumed after the ack');
  assert.is(v.bytes[1]!.length, 200);
});

test('resume: stdinAck counts accepted bytes; offsets replay exactly; a wrong token is refused', async () => {
  const f = fakeProcess();
  const se = new Session({ id: 's', containerId: 'c', tty: false, kill: () => {} });
  se.bind(f.p);
  const s1 = fakeSink();
  const id = se.hello({ t: 'hello', v: 1 }, s1.sink);
  const resumeTok = (s1.controls[0] as { resume: string }).resume;
  se.input(id, Buffer.from('abc'));
  f.out('hello world');
  se.disconnect(id, s1.sink, false);
  se.input(id, Buffer.from('zzz')); // typed during the blip, accepted before the resume
  const bad = fakeSink();
  assert.throws(() => se.hello({ t: 'hello', v: 1, attach: id, resume: 'r_wrong' }, bad.sink));
  const s2 = fakeSink();
  se.hello({ t: 'hello', v: 1, attach: id, resume: resumeTok, from: { stdout: 6, stderr: 0 }, stdinSent: 6 }, s2.sink);
  const att = s2.controls[0] as { t: string; stdinAck: number };
  assert.is(att.t, 'attached');
  assert.is(att.stdinAck, 6);
  assert.is(s2.bytes[1], 'world');
  await tick();
  assert.is(Buffer.concat(f.stdin).toString(), 'abczzz');
});

test('resume: stdin and controls still arriving on the connection it took over are dropped, not doubled', async () => {
  const f = fakeProcess();
  const se = new Session({ id: 's', containerId: 'c', tty: false, kill: () => {} });
  se.bind(f.p);
  const s1 = fakeSink();
  const id = se.hello({ t: 'hello', v: 1 }, s1.sink);
  const resumeTok = (s1.controls[0] as { resume: string }).resume;
  se.input(id, Buffer.from('abc'), s1.sink);
  // the client resumes before the daemon has seen the end of its old connection
  const s2 = fakeSink();
  se.hello({ t: 'hello', v: 1, attach: id, resume: resumeTok, from: { stdout: 0, stderr: 0 }, stdinSent: 6 }, s2.sink);
  assert.is((s2.controls[0] as { stdinAck: number }).stdinAck, 3);
  assert.is(s1.closed(), 4409, 'the old connection is closed as taken over');
  // what the old connection still delivers: the rest of the stdin, its EOF, a detach
  se.input(id, Buffer.from('def'), s1.sink);
  se.control(id, { t: 'eof', stream: 'stdin' }, s1.sink);
  se.control(id, { t: 'detach' }, s1.sink);
  assert.is(s2.closed(), undefined, 'the new connection is not detached by the old one');
  // the client resends exactly what the resume did not acknowledge
  se.input(id, Buffer.from('def'), s2.sink);
  await tick();
  assert.is(Buffer.concat(f.stdin).toString(), 'abcdef', 'every stdin byte once, none cut off by the old EOF');
  await eventually('stdinAck 6', () => s2.controls.some((c) => c.t === 'stdinAck' && c.n === 6));
});

test('ring: reads and frames at any offset match the bytes appended, across dropped chunks', () => {
  const ring = new ByteRing(1000);
  let all = Buffer.alloc(0);
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 300; i++) {
    const chunk = Buffer.alloc(1 + rnd(200), i & 0xff);
    ring.append(chunk);
    all = Buffer.concat([all, chunk]);
    assert.is(ring.end, all.length);
    assert.ok(ring.end - ring.start >= Math.min(ring.end, 1000), 'at least capacity retained');
    const from = ring.start + rnd(ring.end - ring.start + 1);
    const max = rnd(700);
    const want = all.subarray(from, Math.min(all.length, from + max));
    assert.equal(ring.read(from, max), want);
    const frame = ring.readFrame(2, from, max);
    assert.is(frame[0], 2);
    assert.equal(frame.subarray(1), want);
  }
  assert.throws(() => ring.read(ring.start - 1, 10));
});

test('full pty reads leave in fewer frames and log writes; every byte once, in order, exit after all', async () => {
  const f = fakeProcess();
  const logged: Buffer[] = [];
  const se = new Session({ id: 's', containerId: 'c', tty: true, kill: () => {}, onOutput: (_s, d) => logged.push(Buffer.from(d)) });
  se.bind(f.p);
  const v = fakeSink();
  const frames: number[] = [];
  const send = v.sink.send;
  v.sink.send = (frame, cb) => { if (typeof frame !== 'string') frames.push(frame.length); send(frame, cb); };
  se.hello({ t: 'hello', v: 1 }, v.sink);
  let want = '';
  for (let i = 0; i < 40; i++) { const s = String.fromCharCode(97 + (i % 26)).repeat(4095); want += s; f.out(s); }
  f.out('$ ');
  want += '$ ';
  assert.is(v.bytes[1], want, 'all bytes, in order, once the short read came');
  assert.ok(frames.length < 10, `gathered into few frames (${frames.length})`);
  assert.is(Buffer.concat(logged).toString(), want, 'the log has every byte');
  assert.ok(logged.length < 10, 'in few writes');
  f.out('x'.repeat(4095)); // a full read with nothing after it still leaves soon
  await eventually('the full read sent on its own', () => v.bytes[1]!.endsWith('$ ' + 'x'.repeat(4095)), 2000, 5);
  f.out('y'.repeat(4095));
  f.exit(0);
  await tick();
  assert.ok(v.bytes[1]!.endsWith('y'.repeat(4095)), 'the exit flushed what was gathered');
  assert.is(v.controls[v.controls.length - 1]!.t, 'exit');
  assert.ok(Buffer.concat(logged).toString().endsWith('y'.repeat(4095)), 'and logged it before the exit was known');
});

test('TTY: a lone slow viewer holds the process instead of losing output; a faster one sets the pace; leaving releases it', async () => {
  const f = fakeProcess();
  const se = new Session({ id: 's', containerId: 'c', tty: true, kill: () => {}, ringBytes: 1000 });
  se.bind(f.p);
  const slow = fakeSink();
  const slowId = se.hello({ t: 'hello', v: 1, window: 1 << 20 }, slow.sink);
  for (let i = 0; i < 80; i++) if (!f.paused()) f.out('0123456789');
  assert.ok(f.paused(), 'reading stopped while the only viewer has not acknowledged most of a ring');
  assert.not.ok(slow.controls.some((c) => c.t === 'gap'), 'nothing was dropped');
  se.control(slowId, { t: 'ack', stdout: se.offsets().stdout, stderr: 0 });
  assert.not.ok(f.paused(), 'reading resumed after the ack');
  // a faster viewer: the slow ones (one never acknowledging, one with a tiny window) no longer hold the process
  const fast = fakeSink();
  const fastId = se.hello({ t: 'hello', v: 1, from: { stdout: se.offsets().stdout }, window: 1 << 20 }, fast.sink);
  const tiny = fakeSink();
  const tinyId = se.hello({ t: 'hello', v: 1, from: { stdout: se.offsets().stdout }, window: 10 }, tiny.sink);
  for (let i = 0; i < 300; i++) {
    f.out('0123456789');
    se.control(fastId, { t: 'ack', stdout: se.offsets().stdout, stderr: 0 });
    assert.not.ok(f.paused(), 'the faster viewer sets the pace');
  }
  assert.ok(tiny.controls.some((c) => c.t === 'gap'), 'a slow viewer beside it is told what it missed');
  assert.is(fast.bytes[1]!.length, 3000, 'the fast one has everything since it came');
  // the fast viewer leaves (connection lost): the slow ones alone hold the process again, and
  // when it is gone too, a shell nobody watches never blocks
  se.disconnect(fastId, fast.sink, false);
  for (let i = 0; i < 100 && !f.paused(); i++) f.out('0123456789');
  assert.ok(f.paused());
  se.disconnect(slowId, slow.sink, false);
  se.disconnect(tinyId, tiny.sink, false);
  assert.not.ok(f.paused(), 'no viewer connected: reading resumed');
});

test.run();
