/**
 * protocol/stream-client.ts against a session's server side, as far as a client can tell: output
 * kept from offset 0, stdin accepted in order, and a link that breaks at random points, dropping
 * whatever frame was on it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeData, type Offsets } from '../protocol/index.js';
import { type FakeSocket, attached, ctl, dec, enc, out, rig } from './_helpers/stream-client.js';

const cuts = suite('stream client: many random cuts');

cuts('output and stdin arrive exactly once across 200 random cuts', () => {
  let seed = 42;
  const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  const output = Array.from({ length: 3000 }, (_, i) => `line ${i}\n`).join('');
  const typed: string[] = [];
  let accepted = '';
  let resume = 0;
  const r = rig({ window: 4096, reconnectFor: 1e12 });
  r.c.start();
  let cutsDone = 0;
  let offsets: Offsets = { stdout: 0, stderr: 0 };
  const cut = (s: FakeSocket): void => {
    cutsDone++;
    r.c.closed(s, 1006);
    const t = `gap${typed.length};`; // typed while the link is down
    typed.push(t);
    r.c.stdin(enc(t));
    r.clock.advance(10_000);
  };
  while (r.results.length === 0) {
    const s = r.last();
    r.c.opened(s);
    const h = s.hello();
    offsets = { stdout: h.from?.stdout ?? 0, stderr: 0 };
    r.c.message(s, attached({ resume: `r${++resume}`, stdinAck: accepted.length }));
    let consumed = 0; // client messages the server has read
    const readStdin = (): void => {
      for (; consumed < s.sent.length; consumed++) {
        const m = s.sent[consumed]!;
        if (typeof m !== 'string') accepted += dec(decodeData(m).data);
      }
    };
    for (;;) {
      readStdin();
      if (cutsDone < 200 && rand() < 0.2) { cut(s); break; }
      if (rand() < 0.3) { const t = `in${typed.length};`; typed.push(t); r.c.stdin(enc(t)); }
      if (rand() < 0.2) { readStdin(); r.c.message(s, ctl({ t: 'stdinAck', n: accepted.length })); }
      if (offsets.stdout < output.length) {
        // a frame of 1..600 bytes, from any byte offset
        const n = 1 + Math.floor(rand() * 600);
        const part = output.slice(offsets.stdout, offsets.stdout + n);
        if (rand() < 0.1 && cutsDone < 200) { cut(s); break; } // cut inside this frame: it never arrives
        r.c.message(s, out(part));
        offsets.stdout += part.length;
        continue;
      }
      readStdin();
      if (accepted.length < typed.join('').length || cutsDone < 200) continue;
      r.c.message(s, ctl({ t: 'exit', final: { ...offsets }, code: 0, signal: null, status: 0, oomKilled: false, at: 'now' }));
      r.c.closed(s, 1000);
      break;
    }
  }
  assert.is(cutsDone, 200);
  assert.ok(r.out.stdout === output, 'output identical');
  assert.ok(accepted === typed.join(''), 'stdin identical');
  assert.is(r.results[0]?.exit?.status, 0);
});

cuts.run();
