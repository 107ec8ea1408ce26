/**
 * A fake transport and a fake clock for protocol/stream-client.ts: the state machine is pure, so
 * a test drives it by hand (what a server would send, when a link breaks, how time passes).
 */
import * as assert from 'uvu/assert';
import {
  StreamClient, decodeData, encodeControl, encodeData,
  type Attached, type ClientControl, type OutputStream, type ServerControl, type StreamClientOptions,
  type StreamClock, type StreamResult, type StreamSocket,
} from '../../protocol/index.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export class FakeSocket implements StreamSocket {
  sent: (string | Uint8Array)[] = [];
  closedWith?: number;
  send(data: string | Uint8Array): void { this.sent.push(typeof data === 'string' ? data : data.slice()); }
  close(code?: number): void { this.closedWith = code; }
  controls(): ClientControl[] { return this.sent.filter((m): m is string => typeof m === 'string').map((m) => JSON.parse(m) as ClientControl); }
  /** What went out, in order: stdin as text, controls by type. */
  log(): string[] { return this.sent.map((m) => (typeof m === 'string' ? `<${(JSON.parse(m) as ClientControl).t}>` : dec(decodeData(m).data))); }
  stdin(): string { return this.sent.filter((m): m is Uint8Array => typeof m !== 'string').map((m) => dec(decodeData(m).data)).join(''); }
  hello(): Extract<ClientControl, { t: 'hello' }> { return this.controls()[0] as Extract<ClientControl, { t: 'hello' }>; }
}

export class FakeClock implements StreamClock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown { const id = this.next++; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown): void { this.timers = this.timers.filter((x) => x.id !== h); }
  pending(): number { return this.timers.length; }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

export interface Rig {
  c: StreamClient;
  clock: FakeClock;
  sockets: FakeSocket[];
  out: Record<OutputStream, string>;
  results: StreamResult[];
  attachedCalls: number;
  /** Output handed over but not yet shown (when the host is slow). */
  unshown: [OutputStream, number][];
  last(): FakeSocket;
}

export function rig(opts: Partial<StreamClientOptions> = {}, slowHost = false): Rig {
  const r: Rig = {
    c: undefined as unknown as StreamClient, clock: new FakeClock(), sockets: [], out: { stdout: '', stderr: '' },
    results: [], attachedCalls: 0, unshown: [], last: () => r.sockets[r.sockets.length - 1]!,
  };
  r.c = new StreamClient({
    connect: () => { const s = new FakeSocket(); r.sockets.push(s); return s; },
    output: (stream, data, upTo) => {
      r.out[stream] += dec(data);
      if (slowHost) r.unshown.push([stream, upTo]); else r.c.written(stream, upTo);
    },
    size: () => ({ cols: 80, rows: 24 }),
    attached: () => { r.attachedCalls++; },
    end: (res) => { r.results.push(res); },
  }, { client: 'test', clock: r.clock, random: () => 0.5, ...opts });
  return r;
}

export function attached(over: Partial<Attached> = {}): string {
  return encodeControl({
    t: 'attached', session: 's1', attach: 'a1', resume: 'r1', tty: false, state: 'running', stdinAck: 0,
    replay: { stdout: { from: 0, to: 0 }, stderr: { from: 0, to: 0 } }, retained: { stdout: { start: 0, end: 0 }, stderr: { start: 0, end: 0 } },
    heartbeat: 15000, ...over,
  });
}
export const ctl = (m: ServerControl): string => encodeControl(m);
export const out = (text: string, ch: 1 | 2 = 1): Uint8Array => encodeData(ch, enc(text));

/** Start and attach on a first socket. */
export function attachedRig(opts: Partial<StreamClientOptions> = {}, slowHost = false): Rig {
  const r = rig(opts, slowHost);
  r.c.start();
  r.c.opened(r.last());
  r.c.message(r.last(), attached());
  return r;
}

/** Cut the current connection (no close frame), wait out the backoff, open and say hello. */
export function cutAndReconnect(r: Rig): FakeSocket {
  const old = r.last();
  r.c.closed(old, 1006);
  r.clock.advance(10_000);
  assert.ok(r.last() !== old, 'a new connection was opened');
  r.c.opened(r.last());
  return r.last();
}
