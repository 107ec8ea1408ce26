/**
 * The client end of sbx.stream.v1 (stream.ts) as a state machine that any transport drives: the
 * CLI over `ws`, a web page over the browser's WebSocket, a test over a fake. It keeps what the
 * protocol asks a client to keep, and nothing about terminals:
 *
 * - output offsets: bytes received per stream (a frame counts once it arrived whole; a `gap`
 *   counts as received), so a resume asks for exactly the next byte;
 * - stdin not yet acknowledged (`stdinAck`), resent exactly once after a resume, then the stdin
 *   EOF again if one was asked for (an EOF sent on a connection that was cut may never have
 *   arrived; the server ignores a second one);
 * - acknowledgements of output the host has shown, in batches (a quarter window at once, or
 *   shortly after the output pauses), which are the server's credit;
 * - reconnecting with backoff after a cut, and the end: `exit` then close, a clean close
 *   (detached), a refusal (lost), or no working connection for too long (lost).
 *
 * Driving it:
 *
 *     const c = new StreamClient(host, { client: 'sbx-web', from });
 *     c.start();                              // → host.connect() returns a socket
 *     socket.onopen = () => c.opened(socket);
 *     socket.onmessage = (e) => c.message(socket, typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
 *     socket.onclose = (e) => c.closed(socket, e.code);
 *     keys → c.stdin(bytes); end of input → c.stdinEnd(); resize → c.resize(size)
 *     host.output(stream, data, upTo) shows data, then → c.written(stream, upTo)
 *     host.end(result) is called once, with the socket already closed
 *
 * Events of a socket that is no longer the current one are ignored, so a late close of an old
 * connection cannot disturb the new one. Pure: no Node modules; time comes from a StreamClock.
 */
import {
  CloseCode, MAX_FRAME_PAYLOAD, decodeData, encodeControl, encodeData, parseServerControl,
  type Attached, type ClientControl, type ExitInfo, type Hello, type Offsets, type OutputStream, type Size,
} from './stream.js';

/**
 * One connection, as the client uses it. A browser WebSocket and a `ws` WebSocket both fit.
 * The client sends only between `opened` and `closed` for this socket.
 */
export interface StreamSocket {
  /** One message: a string goes as a text frame (control), bytes as a binary frame (data). */
  send(data: string | Uint8Array): void;
  /** Close the connection (the client uses 1000 when it ends). Must not throw. */
  close(code?: number): void;
}

/** What the client asks of whoever runs it: connections, a screen, and the end. */
export interface StreamHost {
  /**
   * Open a new connection to the session's attach channel (subprotocol sbx.stream.v1) and
   * return it; report its events later (never from inside this call) with opened(), message()
   * and closed(). A connection that fails to open is reported as closed() with its code.
   */
  connect(): StreamSocket;
  /**
   * Show `data` of `stream`, in order. `data` is a view into the received frame (not a copy):
   * use it or copy it before returning. Once it is shown, call written(stream, upTo): that
   * acknowledges it to the server, whose window of unacknowledged output is bounded. Bytes
   * already in flight when the client ends on its own (detach, abort) still come here.
   */
  output(stream: OutputStream, data: Uint8Array, upTo: number): void;
  /** The size announced in each hello (a terminal's), if any. */
  size?(): Size | undefined;
  /**
   * The first attachment is established (called once): e.g. start the container now. `tied`:
   * the daemon took the client's terminal (options.terminal), so keys are not to be read here.
   */
  attached?(tied: boolean): void;
  /** The attachment is over (called once; the socket is closed and timers cleared). */
  end(result: StreamResult): void;
}

/**
 * How an attachment ended: the process exited, the user detached (`escaped`: by the detach keys
 * on a tied terminal), or the stream was lost.
 */
export interface StreamResult { exit?: ExitInfo; detached?: boolean; escaped?: boolean; lost?: string }

/** Time, as the client needs it: the real clock by default, a fake one in tests. */
export interface StreamClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface StreamClientOptions {
  /** The client's name in hello (the daemon logs it). */
  client: string;
  /** Output offsets to start from (default 0: all that is retained). */
  from?: Partial<Offsets>;
  /** Credit window in bytes (default 1 MiB). */
  window?: number;
  /** Give up after this long (ms) without a connection that made progress (default 60 s). */
  reconnectFor?: number;
  clock?: StreamClock;
  /** Jitter source for the reconnect backoff (default Math.random). */
  random?: () => number;
  /** Ask the daemon to tie the client's own terminal (hello.terminal; a local CLI on a TTY). */
  terminal?: { detachKeys: number[] };
}

const REAL_CLOCK: StreamClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Output is acknowledged at least this soon after it was shown. */
export const ACK_DELAY_MS = 20;
/** A connection attached this long was a working one, even with nothing to carry. */
export const HEALTHY_MS = 10_000;
/** Close codes after which reconnecting cannot help. */
const REFUSED: readonly number[] = [CloseCode.notFound, CloseCode.forbidden, CloseCode.badProtocol, CloseCode.takenOver];

export class StreamClient {
  private readonly clock: StreamClock;
  private readonly random: () => number;
  private readonly window: number;
  private readonly reconnectFor: number;
  private readonly received: Offsets;
  /** Shown by the host, and how much of that was acknowledged. */
  private readonly shown: Offsets = { stdout: 0, stderr: 0 };
  private readonly acked: Offsets = { stdout: 0, stderr: 0 };
  private stdinSent = 0;
  private stdinAcked = 0;
  /** stdin bytes [stdinAcked, stdinSent), in the frames they were sent in. */
  private unacked: Uint8Array[] = [];
  private eofWanted = false;
  private attach?: string;
  private resume?: string;
  private socket?: StreamSocket;
  /** Attached on the current socket: sends go out. */
  private ready = false;
  private firstAttach = true;
  private exit?: ExitInfo;
  private escaped = false;
  private fatal?: string;
  private finished = false;
  private ackTimer: unknown;
  private retryTimer: unknown;
  // a connection that moved output or stdin forward (or lasted) restarts the backoff and the
  // give-up clock; one that attaches and is cut before any progress does not
  private attempt = 0;
  private lostSince = 0;
  private progressed = false;
  private attachedAt = 0;

  constructor(private readonly host: StreamHost, private readonly opts: StreamClientOptions) {
    this.clock = opts.clock ?? REAL_CLOCK;
    this.random = opts.random ?? Math.random;
    this.window = opts.window ?? 1 << 20;
    this.reconnectFor = opts.reconnectFor ?? 60_000;
    this.received = { stdout: opts.from?.stdout ?? 0, stderr: opts.from?.stderr ?? 0 };
  }

  /** Open the first connection. */
  start(): void { this.connect(); }

  /** Output offsets received so far (where a resume starts). */
  get offsets(): Offsets { return { ...this.received }; }

  /** stdin bytes sent but not yet acknowledged by the server. */
  get stdinPending(): number { return this.stdinSent - this.stdinAcked; }

  get ended(): boolean { return this.finished; }

  // --- transport events
  opened(socket: StreamSocket): void {
    if (socket !== this.socket || this.finished) return;
    const size = this.host.size?.();
    const hello: Hello = {
      t: 'hello', v: 1, client: this.opts.client, mode: 'rw', window: this.window,
      from: { ...this.received },
      ...(size ? { size } : {}),
      ...(this.opts.terminal ? { terminal: this.opts.terminal } : {}),
      ...(this.attach ? { attach: this.attach, resume: this.resume, stdinSent: this.stdinSent } : {}),
    } as Hello;
    socket.send(encodeControl(hello));
  }

  /** A message: bytes for a binary frame, a string for a text frame. */
  message(socket: StreamSocket, data: string | Uint8Array): void {
    if (socket !== this.socket) return;
    if (typeof data !== 'string') {
      let f;
      try { f = decodeData(data); } catch { return; }
      const stream: OutputStream = f.channel === 2 ? 'stderr' : 'stdout';
      this.received[stream] += f.data.length;
      this.progressed = true;
      this.host.output(stream, f.data, this.received[stream]);
      return;
    }
    if (this.finished) return;
    const m = parseServerControl(data);
    if (!m) return;
    switch (m.t) {
      case 'attached': this.onAttached(socket, m); break;
      case 'stdinAck': this.dropAcked(m.n); break;
      // bytes the ring dropped before they reached us: count them as received, or our acks
      // (and a resume's offsets) would lag the server's cursor forever
      case 'gap': this.received[m.stream] = Math.max(this.received[m.stream], m.to); break;
      case 'escaped': this.escaped = true; break;
      case 'exit': { const { t: _t, final: _f, ...e } = m; this.exit = e; break; }
      case 'error': if (m.fatal) this.fatal = m.message; break;
      default:
    }
  }

  closed(socket: StreamSocket, code: number): void {
    if (socket !== this.socket || this.finished) return;
    this.ready = false;
    if (this.exit) { this.finish({ exit: this.exit }); return; }
    if (code === CloseCode.normal) { this.finish(this.escaped ? { detached: true, escaped: true } : { detached: true }); return; }
    if (REFUSED.includes(code)) { this.finish({ lost: this.fatal ?? `attach closed (${code})` }); return; }
    const now = this.clock.now();
    if (this.progressed || (this.attachedAt && now - this.attachedAt >= HEALTHY_MS)) { this.attempt = 0; this.lostSince = 0; }
    this.progressed = false;
    this.attachedAt = 0;
    if (!this.lostSince) this.lostSince = now;
    if (now - this.lostSince > this.reconnectFor) { this.finish({ lost: 'connection to sbxd lost' }); return; }
    const delay = Math.min(8000, 250 * 2 ** this.attempt++) * (0.8 + this.random() * 0.4);
    this.retryTimer = this.clock.setTimeout(() => { this.retryTimer = undefined; this.connect(); }, delay);
  }

  // --- the user's side
  /** Bytes typed or piped in: sent now when attached, kept until acknowledged, resent after a cut. */
  stdin(bytes: Uint8Array): void {
    if (this.finished) return;
    for (let i = 0; i < bytes.length; i += MAX_FRAME_PAYLOAD) {
      const part = bytes.subarray(i, i + MAX_FRAME_PAYLOAD);
      this.unacked.push(part);
      this.stdinSent += part.length;
      if (this.ready) this.socket!.send(encodeData(0, part));
    }
  }

  /** The end of stdin: sent after every stdin byte, now or after the next resume. */
  stdinEnd(): void {
    if (this.eofWanted) return;
    this.eofWanted = true;
    this.control({ t: 'eof', stream: 'stdin' });
  }

  /** Sent only while attached (a resume's hello carries the size again); so are signals. */
  resize(size: Size): void { this.control({ t: 'resize', ...size }); }
  signal(name: string): void { this.control({ t: 'signal', name }); }

  /** Leave the session running: tell the server, then end with `detached`. */
  detach(): void {
    this.control({ t: 'detach' });
    this.finish({ detached: true });
  }

  /** End now with `lost: reason` (e.g. the host could not start what it attached to). */
  abort(reason: string): void { this.finish({ lost: reason }); }

  /** The host showed `stream` up to offset `upTo`: acknowledge it, batched. */
  written(stream: OutputStream, upTo: number): void {
    if (upTo <= this.shown[stream]) return;
    this.shown[stream] = upTo;
    const pending = this.shown.stdout - this.acked.stdout + this.shown.stderr - this.acked.stderr;
    if (pending >= this.window >> 2) this.sendAck();
    else this.ackTimer ??= this.clock.setTimeout(() => this.sendAck(), ACK_DELAY_MS);
  }

  // --- inside
  private connect(): void { this.ready = false; this.socket = this.host.connect(); }

  private onAttached(socket: StreamSocket, m: Attached): void {
    this.cancelAck();
    this.shown.stdout = this.acked.stdout = this.received.stdout;
    this.shown.stderr = this.acked.stderr = this.received.stderr;
    this.attach = m.attach;
    this.resume = m.resume;
    this.ready = true;
    this.attachedAt = this.clock.now();
    // resend exactly what the server has not accepted, then the eof (as it was sent)
    this.dropAcked(m.stdinAck);
    for (const b of this.unacked) socket.send(encodeData(0, b));
    if (this.eofWanted) this.control({ t: 'eof', stream: 'stdin' });
    if (this.firstAttach) {
      this.firstAttach = false;
      this.host.attached?.(m.terminal === true);
    }
  }

  private dropAcked(n: number): void {
    if (n > this.stdinAcked) this.progressed = true;
    let drop = n - this.stdinAcked;
    this.stdinAcked = Math.max(this.stdinAcked, n);
    while (drop > 0 && this.unacked.length) {
      const h = this.unacked[0]!;
      if (h.length <= drop) { drop -= h.length; this.unacked.shift(); } else { this.unacked[0] = h.subarray(drop); drop = 0; }
    }
  }

  private control(m: ClientControl): void {
    if (this.ready && !this.finished) this.socket!.send(encodeControl(m));
  }

  private sendAck(): void {
    this.cancelAck();
    if (!this.ready || this.finished) return;
    this.acked.stdout = this.shown.stdout;
    this.acked.stderr = this.shown.stderr;
    this.socket!.send(encodeControl({ t: 'ack', stdout: this.shown.stdout, stderr: this.shown.stderr }));
  }

  private cancelAck(): void {
    if (this.ackTimer !== undefined) this.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  private finish(r: StreamResult): void {
    if (this.finished) return;
    this.finished = true;
    this.ready = false;
    this.cancelAck();
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.socket?.close(CloseCode.normal);
    this.host.end(r);
  }
}
