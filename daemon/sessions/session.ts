/**
 * A session: one process (a container's main process or one exec) with its output retained in
 * per-stream rings addressed by byte offsets, and any number of attachments (viewers), each a
 * cursor. The transport (a WebSocket) is behind `Sink`; this file holds the rules of
 * sbx.stream.v1 (protocol/stream.ts):
 * - Every attachment has its own send loop bounded by its credit window and its socket's
 *   buffer, so a slow viewer lags only itself. In a TTY session a viewer that falls out of the
 *   ring gets a `gap`, unless no connected viewer is faster: then the process waits for the
 *   fastest (flowCheck); a non-TTY session instead stops reading the process while an attachment
 *   (connected, or resumable within its grace period) still needs bytes the ring would drop:
 *   output of pipes is never lost.
 * - A dropped connection leaves the attachment resumable for GRACE_MS; resuming with its token
 *   replays from the client's offsets (any byte, not only a frame boundary; frames shrink on a
 *   link that cuts inside them, attachment.ts) and reports stdinAck = bytes of this
 *   attachment's stdin accepted so far, so the client resends exactly the rest.
 * - After the exit, drained() waits until every attachment has been sent the exit on a
 *   connection that then closed cleanly, or was dropped (detach, grace expired), at most
 *   DRAIN_LIMIT_MS: whoever removes the session waits for it, so a client that is still
 *   reconnecting finds its session.
 * - stdin from all attachments goes through one queue, in arrival order, each frame whole.
 * - `exit` goes to an attachment only after it has been sent every byte up to the final
 *   offsets; then the socket is closed with 1000.
 */
import {
  CloseCode, SbxError, normalizeSignal,
  type ClientControl, type ExitInfo, type Hello, type Offsets, type OutputStream, type SessionInfo, type Size,
} from '../../protocol/index.js';
import type { Process } from '../runtime/runtime.js';
import {
  CHUNK, STREAMS, attachedMessage, growFrames, newAttachment, sendControl, takeOver, sendFrames, shrinkFrames, type Attachment, type Sink,
} from './attachment.js';
import { ByteRing } from './ring.js';
import { StdinQueue } from './stdin.js';
import { mustHold } from './flow.js';
import { closeTerminal, type ClientTerminal } from './terminal.js';
import { Drain, type DrainState } from './drain.js';
import { Ties } from './tie.js';

export type { Sink } from './attachment.js';

export const GRACE_MS = 5 * 60 * 1000;
/** How long drained() waits at most, after the exit, for attachments that lag. */
export const DRAIN_LIMIT_MS = 30 * 60 * 1000;
const DEFAULT_WINDOW = 1 << 20;
/** A pty read this long filled the line discipline's buffer (N_TTY_BUF_SIZE - 1); pipes give 64 KiB. */
const FULL_READ = 4095;
const FULL_READ_WAIT_MS = 2;

export interface SessionOptions {
  id: string;
  containerId: string;
  tty: boolean;
  size?: Size;
  ringBytes?: number;
  /** Deliver a signal (by name) to the session's process. */
  kill: (signal: string) => void;
  /** Every output byte, in order (the container log); consecutive reads may come as one. */
  onOutput?: (stream: OutputStream, data: Buffer) => void;
  /** A new attachment (not a resumed one) was made: docker's attach event. */
  onAttach?: () => void;
}

export class Session {
  readonly id: string;
  readonly containerId: string;
  readonly tty: boolean;
  size?: Size;
  state: 'created' | 'running' | 'exited' = 'created';
  exit?: ExitInfo;
  private readonly rings: Record<OutputStream, ByteRing>;
  private readonly attachments = new Map<string, Attachment>();
  private process?: Process;
  private readonly stdin = new StdinQueue();
  private paused = false;
  private unflushed = 0;
  private unlogged: { stream: OutputStream; chunks: Buffer[] }[] = [];
  private flushTimer?: NodeJS.Timeout;
  private readonly flushAt: number;
  private waiters: ((e: ExitInfo) => void)[] = [];
  private readonly drain = new Drain(() => this.drainState(), DRAIN_LIMIT_MS);
  private readonly ties: Ties;

  constructor(private readonly opts: SessionOptions) {
    this.id = opts.id;
    this.containerId = opts.containerId;
    this.tty = opts.tty;
    if (opts.size) this.size = opts.size;
    const cap = opts.ringBytes ?? 4 * 1024 * 1024;
    this.rings = { stdout: new ByteRing(cap), stderr: new ByteRing(cap) };
    this.flushAt = Math.min(CHUNK, cap >> 2);
    this.ties = new Ties({
      process: () => this.process,
      ring: this.rings.stdout,
      escaped: (a) => {
        const sink = a.sink;
        if (!sink) return;
        sendControl(a, { t: 'escaped' });
        sink.close(CloseCode.normal, 'detached');
        this.disconnect(a.id, sink, true, true);
      },
      pump: (a) => this.pump(a),
    });
  }

  /** Connect the process (once). Output and exit flow from here on. */
  bind(p: Process): void {
    this.process = p;
    this.state = 'running';
    p.onData((stream, data) => this.output(stream, data));
    p.onExit((e) => this.ended(e));
    this.stdin.bind(p);
    this.ties.bound();
  }

  /** The process could not be started: end the session with this exit. */
  fail(e: ExitInfo): void { this.ended(e); }

  offsets(): Offsets { return { stdout: this.rings.stdout.end, stderr: this.rings.stderr.end }; }

  info(): SessionInfo {
    const i: SessionInfo = { session: this.id, container: this.containerId, tty: this.tty, state: this.state, offsets: this.offsets() };
    if (this.size) i.size = this.size;
    if (this.exit) i.exit = this.exit;
    return i;
  }

  waitExit(): Promise<ExitInfo> {
    if (this.exit) return Promise.resolve(this.exit);
    return new Promise((r) => this.waiters.push(r));
  }

  attachmentCount(): number { return [...this.attachments.values()].filter((a) => a.sink).length; }

  /**
   * Resolves once the process has exited and no attachment still waits for its output: each
   * got the exit (sent, then a clean close), detached, or stayed away past its grace period. At
   * the latest DRAIN_LIMIT_MS after the exit (or at closeAll); at once for a session that was
   * never started (a container removed before its start).
   */
  drained(): Promise<void> {
    return this.drain.wait();
  }

  /** Where the drain stands: nothing to wait for, an exit to wait for, or attachments that still lag it. */
  private drainState(): DrainState {
    if (!this.exit) return this.process ? 'running' : 'done'; // never started: nothing will come
    for (const a of this.attachments.values()) if (!(a.exitSent && !a.sink)) return 'lagging';
    return 'done';
  }

  /**
   * A hello on a new connection: a new attachment, or the resume of an old one. `terminal`: the
   * client's own terminal when it asked for a tie and could have one (terminal.ts); taken when
   * this is a TTY session and no other attachment has one, else closed (frames, as usual).
   * @throws SbxError not_found (unknown attachment), unauthorized (bad resume token), invalid_argument
   */
  hello(h: Hello, sink: Sink, terminal?: ClientTerminal): string {
    const a = h.attach ? takeOver(this.attachments, h) : newAttachment(h.mode ?? 'rw', h.window ?? DEFAULT_WINDOW);
    if (h.window) a.window = h.window;
    const tie = terminal && h.terminal && this.tty && !this.exit && a.mode === 'rw' && this.ties.free();
    // a tied client counts no output: the server's cursor says what its terminal was given
    if (tie && h.attach) h = { ...h, from: { ...a.cursor } };
    const from = {} as Offsets;
    for (const s of STREAMS) {
      const ring = this.rings[s];
      from[s] = h.from?.[s] ?? ring.start;
      if (from[s] > ring.end) throw new SbxError('invalid_argument', `attach: ${s} offset ${from[s]} is beyond the end (${ring.end})`);
    }
    // nothing throws from here on (the caller closes the terminal of a hello that threw)
    if (terminal && !tie) closeTerminal(terminal);
    if (!h.attach) this.attachments.set(a.id, a);
    if (h.attach) shrinkFrames(a, from);
    for (const s of STREAMS) {
      a.cursor[s] = from[s];
      a.acked[s] = from[s];
      a.base[s] = from[s];
    }
    a.sink = sink;
    if (!h.attach) this.opts.onAttach?.();
    a.exitSent = false;
    a.replayTo = this.offsets();
    const msg = attachedMessage(this.id, this.tty, this.state, a, this.rings, this.size);
    if (tie) {
      msg.terminal = true;
      this.ties.take(a, terminal, Uint8Array.from(h.terminal!.detachKeys));
    }
    sendControl(a, msg);
    if (h.size && a.mode === 'rw' && this.tty) this.resize(h.size, a);
    this.pump(a);
    this.flowCheck();
    return a.id;
  }

  /**
   * The connection of an attachment is gone; `voluntary` (detach) drops it at once. `clean`:
   * the peer closed it properly, so what was sent on it arrived (else an exit sent on it may be
   * lost and the client will resume for it).
   */
  disconnect(attachId: string, sink: Sink, voluntary: boolean, clean = false): void {
    const a = this.attachments.get(attachId);
    if (!a || a.sink !== sink) return;
    a.sink = undefined;
    this.ties.untie(a); // the terminal belongs to the connection
    if (!clean) a.exitSent = false;
    if (a.ackTimer) clearTimeout(a.ackTimer);
    a.ackTimer = undefined;
    if (voluntary) { this.attachments.delete(a.id); this.flowCheck(); this.drain.settle(); return; }
    if (this.tty) this.flowCheck(); // a TTY is never held for a viewer that is gone
    a.grace = setTimeout(() => { this.attachments.delete(a.id); this.flowCheck(); this.drain.settle(); }, GRACE_MS);
    a.grace.unref();
    this.drain.settle();
  }

  /** Drop every attachment (daemon shutdown, container removal). */
  closeAll(code: number, reason: string): void {
    this.flush();
    this.ties.untieAll();
    for (const a of this.attachments.values()) {
      if (a.grace) clearTimeout(a.grace);
      a.sink?.close(code, reason);
    }
    this.attachments.clear();
    this.drain.release();
  }

  /** stdin bytes on connection `via`; late ones on a connection a resume took over are dropped (the client resends them). */
  input(attachId: string, data: Uint8Array, via?: Sink): void {
    const a = this.attachments.get(attachId);
    if (!a || (via && a.sink !== via)) return;
    if (a.mode !== 'rw') { sendControl(a, { t: 'error', code: 'ro_attachment', message: 'read-only attachment: stdin ignored', fatal: false }); return; }
    a.stdinAccepted += data.length;
    if (!a.ackTimer && a.sink) {
      a.ackTimer = setTimeout(() => { a.ackTimer = undefined; sendControl(a, { t: 'stdinAck', n: a.stdinAccepted }); }, 20);
    }
    if (this.exit) return;
    this.stdin.write(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)); // the frame's own bytes: no copy
  }

  /** A control message from an attachment, on connection `via` (ignored once taken over, as input). */
  control(attachId: string, m: ClientControl, via?: Sink): void {
    const a = this.attachments.get(attachId);
    if (!a || (via && a.sink !== via)) return;
    switch (m.t) {
      case 'ack':
        a.acked.stdout = Math.max(a.acked.stdout, Math.min(m.stdout, a.cursor.stdout));
        a.acked.stderr = Math.max(a.acked.stderr, Math.min(m.stderr, a.cursor.stderr));
        growFrames(a);
        this.pump(a);
        this.flowCheck();
        return;
      case 'ping':
        sendControl(a, { t: 'pong', ...(m.id !== undefined ? { id: m.id } : {}) });
        return;
      case 'detach':
        a.sink?.close(1000, 'detached');
        if (a.sink) this.disconnect(a.id, a.sink, true);
        return;
      default:
    }
    if (a.mode !== 'rw') { sendControl(a, { t: 'error', code: 'ro_attachment', message: `read-only attachment: ${m.t} ignored`, fatal: false }); return; }
    if (m.t === 'resize') this.resize({ cols: m.cols, rows: m.rows }, a);
    else if (m.t === 'signal') {
      const sig = normalizeSignal(m.name);
      if (!sig) { sendControl(a, { t: 'error', code: 'bad_signal', message: `signal ${m.name}: unknown`, fatal: false }); return; }
      if (this.process && !this.exit) this.opts.kill(sig);
    } else if (m.t === 'eof') this.closeStdin();
  }

  resize(size: Size, from?: Attachment): void {
    this.size = size;
    if (this.process && !this.exit) this.process.resize(size);
    for (const a of this.attachments.values()) if (a !== from && a.sink) sendControl(a, { t: 'size', ...size });
  }

  closeStdin(): void { this.stdin.close(); }

  private output(stream: OutputStream, data: Buffer): void {
    this.rings[stream].append(data);
    const last = this.unlogged[this.unlogged.length - 1];
    if (last?.stream === stream) last.chunks.push(data); else this.unlogged.push({ stream, chunks: [data] });
    this.unflushed += data.length;
    // A short read drained the process's output: send now (an echo is never delayed). A full
    // read means more is queued behind it: gather it into fewer, larger frames and log writes,
    // up to flushAt bytes or FULL_READ_WAIT_MS.
    if (data.length < FULL_READ || this.unflushed >= this.flushAt) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FULL_READ_WAIT_MS);
    this.flowCheck();
  }

  private flush(): void {
    if (this.flushTimer) { clearTimeout(this.flushTimer); this.flushTimer = undefined; }
    this.unflushed = 0;
    for (const a of this.attachments.values()) this.pump(a);
    for (const { stream, chunks } of this.unlogged.splice(0)) { // after the viewers: not on an echo's path
      this.opts.onOutput?.(stream, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    }
  }

  private ended(e: ExitInfo): void {
    if (this.exit) return;
    this.flush(); // the log and the rings are complete before anyone hears of the exit
    this.exit = e;
    this.state = 'exited';
    for (const w of this.waiters.splice(0)) w(e);
    if (this.paused) { this.paused = false; this.process?.resume(); }
    for (const a of this.attachments.values()) this.pump(a);
    this.drain.settle();
  }

  /** Hold the process (stop reading its output) rather than drop bytes a viewer still needs (flow.ts). */
  private flowCheck(): void {
    if (!this.process || this.exit) return;
    const hold = mustHold(this.tty, this.paused, this.attachments.values(), this.rings);
    if (hold !== this.paused) {
      this.paused = hold;
      if (hold) this.process.pause(); else this.process.resume();
    }
  }

  private pump(a: Attachment): void {
    const sink = a.sink;
    if (!sink || a.exitSent) return;
    if (!a.tie) sendFrames(a, this.rings, () => this.pump(a));
    else if (a.tie.live) a.cursor.stdout = a.acked.stdout = this.rings.stdout.end;
    const end = this.offsets();
    if (a.replayTo && a.cursor.stdout >= a.replayTo.stdout && a.cursor.stderr >= a.replayTo.stderr) {
      a.replayTo = undefined;
      sendControl(a, { t: 'replayed' });
    }
    if (this.exit && a.cursor.stdout >= end.stdout && a.cursor.stderr >= end.stderr) {
      a.exitSent = true;
      if (a.ackTimer) { clearTimeout(a.ackTimer); a.ackTimer = undefined; }
      sendControl(a, { t: 'stdinAck', n: a.stdinAccepted });
      sendControl(a, { t: 'exit', ...this.exit, final: end });
      sink.close(1000, 'exited');
    }
  }
}

