/**
 * protocol/stream-client.ts alone: the state machine driven by a fake transport and a fake clock
 * (it is pure, so nothing real is left out; the CLI's use of it over a real daemon is covered by
 * containers, containers-resume and cli).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { attached, attachedRig, ctl, cutAndReconnect, enc, out, rig } from './_helpers/stream-client.js';

const hello = suite('stream client: hello and output');

hello('the first hello asks for everything from the given offsets, with size and window; no resume fields', () => {
  const r = rig({ from: { stdout: 7 } });
  r.c.start();
  assert.is(r.sockets.length, 1);
  r.c.opened(r.last());
  assert.equal(r.last().hello(), { t: 'hello', v: 1, client: 'test', mode: 'rw', window: 1 << 20, from: { stdout: 7, stderr: 0 }, size: { cols: 80, rows: 24 } });
});

hello('output reaches the host per stream, with the offset it ends at', () => {
  const r = attachedRig();
  r.c.message(r.last(), out('hello '));
  r.c.message(r.last(), out('oops', 2));
  r.c.message(r.last(), out('world'));
  assert.equal(r.out, { stdout: 'hello world', stderr: 'oops' });
  assert.equal(r.c.offsets, { stdout: 11, stderr: 4 });
});

hello('a cut in the middle of a frame: only whole frames count, and the resume asks for the next byte', () => {
  const r = attachedRig();
  r.c.message(r.last(), out('0123456789'));
  // the next frame ("abcdefghij") was half-way through the link when it broke: never delivered
  const s2 = cutAndReconnect(r);
  const h = s2.hello();
  assert.equal(h.from, { stdout: 10, stderr: 0 });
  assert.is(h.attach, 'a1');
  assert.is(h.resume, 'r1');
  assert.is(h.stdinSent, 0);
  r.c.message(s2, attached({ resume: 'r2', replay: { stdout: { from: 10, to: 20 }, stderr: { from: 0, to: 0 } } }));
  r.c.message(s2, out('abcdefghij'));
  assert.is(r.out.stdout, '0123456789abcdefghij', 'no byte lost or repeated');
  const s3 = cutAndReconnect(r);
  assert.is(s3.hello().resume, 'r2', 'the newest resume token is used');
  assert.equal(s3.hello().from, { stdout: 20, stderr: 0 });
});

hello('a gap counts as received: acks and the resume move past it', () => {
  const r = attachedRig();
  r.c.message(r.last(), out('abc'));
  r.c.message(r.last(), ctl({ t: 'gap', stream: 'stdout', from: 3, to: 100 }));
  r.c.message(r.last(), out('xyz'));
  assert.is(r.out.stdout, 'abcxyz');
  r.clock.advance(20);
  assert.equal(r.last().controls().filter((m) => m.t === 'ack'), [{ t: 'ack', stdout: 103, stderr: 0 }]);
  const s2 = cutAndReconnect(r);
  assert.equal(s2.hello().from, { stdout: 103, stderr: 0 });
});

hello('unknown server controls and channels are ignored', () => {
  const r = attachedRig();
  r.c.message(r.last(), '{"t":"later","x":1}');
  r.c.message(r.last(), new Uint8Array([7, 1, 2]));
  assert.equal(r.c.offsets, { stdout: 0, stderr: 0 });
  assert.equal(r.results, []);
});

hello.run();

// ---

const acks = suite('stream client: acknowledgements');

acks('output is acknowledged once shown: a quarter window at once, less after a short pause', () => {
  const r = attachedRig({ window: 1024 });
  const s = r.last();
  r.c.message(s, out('x'.repeat(100)));
  r.clock.advance(19);
  assert.equal(s.controls().filter((m) => m.t === 'ack'), [], 'not yet');
  r.clock.advance(1);
  assert.equal(s.controls().filter((m) => m.t === 'ack'), [{ t: 'ack', stdout: 100, stderr: 0 }]);
  for (let i = 0; i < 3; i++) r.c.message(s, out('y'.repeat(100), 2));
  assert.equal(s.controls().filter((m) => m.t === 'ack').pop(), { t: 'ack', stdout: 100, stderr: 300 }, '300 ≥ 256: at once');
  assert.is(r.clock.pending(), 0, 'no timer left behind');
});

acks('output not yet shown is not acknowledged', () => {
  const r = attachedRig({ window: 1024 }, true);
  const s = r.last();
  for (let i = 0; i < 5; i++) r.c.message(s, out('z'.repeat(100)));
  r.clock.advance(1000);
  assert.equal(s.controls().filter((m) => m.t === 'ack'), []);
  const [stream, upTo] = r.unshown[1]!;
  r.c.written(stream, upTo);
  r.clock.advance(20);
  assert.equal(s.controls().filter((m) => m.t === 'ack'), [{ t: 'ack', stdout: 200, stderr: 0 }]);
});

acks.run();

// ---

const stdin = suite('stream client: stdin');

stdin('stdin typed before the attachment waits for it, and large input goes in frames of at most 64 KiB', () => {
  const r = rig();
  r.c.start();
  r.c.stdin(enc('early '));
  r.c.opened(r.last());
  assert.equal(r.last().log(), ['<hello>'], 'nothing but hello before attached');
  r.c.message(r.last(), attached());
  r.c.stdin(new Uint8Array(150 * 1024).fill(0x61));
  const sizes = r.last().sent.slice(1).map((m) => (m as Uint8Array).length - 1);
  assert.equal(sizes, [6, 65536, 65536, 22528]);
});

stdin('a resume resends exactly the stdin the server had not acknowledged, once', () => {
  const r = attachedRig();
  const s1 = r.last();
  r.c.stdin(enc('abcdef'));
  r.c.message(s1, ctl({ t: 'stdinAck', n: 2 }));
  r.c.stdin(enc('gh'));
  assert.is(r.c.stdinPending, 6);
  r.c.closed(s1, 1006);
  r.c.stdin(enc('ij')); // typed while the link is down: kept, not sent before attached
  r.clock.advance(10_000);
  const s2 = r.last();
  r.c.opened(s2);
  assert.is(s2.hello().stdinSent, 10);
  assert.equal(s2.log(), ['<hello>']);
  // the server had received up to 4 ("abcd") before the cut
  r.c.message(s2, attached({ stdinAck: 4 }));
  assert.is(s2.stdin(), 'efghij');
  assert.is(r.c.stdinPending, 6);
  r.c.message(s2, ctl({ t: 'stdinAck', n: 10 }));
  assert.is(r.c.stdinPending, 0);
  const s3 = cutAndReconnect(r);
  r.c.message(s3, attached({ stdinAck: 10 }));
  assert.is(s3.stdin(), '', 'nothing acknowledged is sent again');
});

stdin('an eof sent before a cut is sent again after the resent stdin', () => {
  const r = attachedRig();
  const s1 = r.last();
  r.c.stdin(enc('hi'));
  r.c.stdinEnd();
  r.c.stdinEnd();
  assert.equal(s1.log(), ['<hello>', 'hi', '<eof>'], 'one eof, after the stdin');
  const s2 = cutAndReconnect(r);
  r.c.message(s2, attached({ stdinAck: 1 }));
  assert.equal(s2.log(), ['<hello>', 'i', '<eof>']);
  const s3 = cutAndReconnect(r);
  r.c.message(s3, attached({ stdinAck: 2 }));
  assert.equal(s3.log(), ['<hello>', '<eof>']);
});

stdin('resize and signals go out only while attached', () => {
  const r = rig();
  r.c.start();
  r.c.opened(r.last());
  r.c.resize({ cols: 100, rows: 40 });
  r.c.message(r.last(), attached());
  r.c.resize({ cols: 120, rows: 50 });
  r.c.signal('SIGINT');
  assert.equal(r.last().controls().slice(1), [{ t: 'resize', cols: 120, rows: 50 }, { t: 'signal', name: 'SIGINT' }]);
});

stdin.run();

// ---

const end = suite('stream client: the end');

end('exit, then the clean close: the result carries the exit, once', () => {
  const r = attachedRig();
  const s = r.last();
  r.c.message(s, out('bye\n'));
  r.c.message(s, ctl({ t: 'exit', final: { stdout: 4, stderr: 0 }, code: 3, signal: null, status: 3, oomKilled: false, at: 'now' }));
  r.c.closed(s, 1000);
  r.c.closed(s, 1000);
  assert.equal(r.results, [{ exit: { code: 3, signal: null, status: 3, oomKilled: false, at: 'now' } }]);
  assert.is(s.closedWith, 1000);
  assert.ok(r.c.ended);
});

end('an exit whose close was cut still ends with the exit', () => {
  const r = attachedRig();
  r.c.message(r.last(), ctl({ t: 'exit', final: { stdout: 0, stderr: 0 }, code: 0, signal: null, status: 0, oomKilled: false, at: 'now' }));
  r.c.closed(r.last(), 1006);
  assert.is(r.results[0]?.exit?.status, 0);
  assert.is(r.sockets.length, 1, 'no reconnect');
});

end('a clean close without exit is a detach; a refusal ends with its reason', () => {
  const a = attachedRig();
  a.c.closed(a.last(), 1000);
  assert.equal(a.results, [{ detached: true }]);
  const b = attachedRig();
  b.c.message(b.last(), ctl({ t: 'error', code: 'not_found', message: 'no such session', fatal: true }));
  b.c.closed(b.last(), 4404);
  assert.equal(b.results, [{ lost: 'no such session' }]);
  const c = rig();
  c.c.start();
  c.c.closed(c.last(), 4403);
  assert.equal(c.results, [{ lost: 'attach closed (4403)' }]);
});

end('detach tells the server, ends, and cancels a pending reconnect', () => {
  const a = attachedRig();
  a.c.detach();
  assert.equal(a.last().controls().pop(), { t: 'detach' });
  assert.equal(a.results, [{ detached: true }]);
  const b = attachedRig();
  b.c.closed(b.last(), 1006);
  b.c.detach();
  b.clock.advance(60_000);
  assert.is(b.sockets.length, 1, 'no connection opened after the end');
  assert.equal(b.results, [{ detached: true }]);
});

end('the first attachment is announced once; abort ends with the reason', () => {
  const r = attachedRig();
  const s2 = cutAndReconnect(r);
  r.c.message(s2, attached());
  assert.is(r.attachedCalls, 1);
  r.c.abort('start failed');
  assert.equal(r.results, [{ lost: 'start failed' }]);
  assert.is(s2.closedWith, 1000);
});

end('events of an old connection are ignored', () => {
  const r = attachedRig();
  const s1 = r.last();
  const s2 = cutAndReconnect(r);
  r.c.message(s1, out('stale'));
  r.c.closed(s1, 1000);
  assert.equal(r.results, []);
  assert.is(r.out.stdout, '');
  assert.ok(s2 === r.last());
});

end('reconnects back off while no connection makes progress, and give up after reconnectFor', () => {
  const r = attachedRig({ reconnectFor: 5000 });
  const opens: number[] = [];
  for (let i = 0; i < 10 && r.results.length === 0; i++) {
    const before = r.sockets.length;
    const t0 = r.clock.now();
    r.c.closed(r.last(), 1006);
    r.clock.advance(20_000);
    if (r.sockets.length > before) opens.push(r.clock.now() - t0);
  }
  // the fake clock jumps 20 s per round, so only the first retry is inside reconnectFor
  assert.equal(r.results, [{ lost: 'connection to sbxd lost' }]);
  assert.is(opens.length, 1);
  const p = attachedRig({ reconnectFor: 60_000 });
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    const n = p.sockets.length;
    p.c.closed(p.last(), 1006);
    let waited = 0;
    while (p.sockets.length === n) { p.clock.advance(10); waited += 10; }
    delays.push(waited);
  }
  assert.equal(delays, [250, 500, 1000, 2000], 'doubling backoff (jitter fixed at 1.0)');
  p.c.opened(p.last());
  p.c.message(p.last(), attached());
  p.c.message(p.last(), out('progress'));
  const n = p.sockets.length;
  p.c.closed(p.last(), 1006);
  p.clock.advance(250);
  assert.is(p.sockets.length, n + 1, 'progress restarts the backoff');
});

end.run();
