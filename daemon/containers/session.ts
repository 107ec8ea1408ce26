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
 *   replays from the client's offsets and reports stdinAck = bytes of this attachment's stdin
 *   accepted so far, so the client resends exactly the rest.
 * - stdin from all attachments goes through one queue, in arrival order, each frame whole.
 * - `exit` goes to an attachment only after it has been sent every byte up to the final
 *   offsets; then the socket is closed with 1000.
 */
import { randomBytes } from 'node:crypto';
import {
  SbxError, encodeControl, normalizeSignal,
  type ClientControl, type ExitInfo, type Hello, type Offsets, type OutputStream, type ServerControl, type SessionInfo, type Size,
} from '../../protocol/index.js';
import type { Process } from '../runtime/runtime.js';
import { ByteRing } from './ring.js';

export const GRACE_MS = 5 * 60 * 1000;
const DEFAULT_WINDOW = 1 << 20;
const MAX_BUFFERED = 1 << 20;
const CHUNK = 64 * 1024;
/** A pty read this long filled the line discipline's buffer (N_TTY_BUF_SIZE - 1); pipes give 64 KiB. */
const FULL_READ = 4095;
const FULL_READ_WAIT_MS = 2;
const STREAMS: OutputStream[] = ['stdout', 'stderr'];

/** The transport of one attachment. */
export interface Sink {
  send(frame: Uint8Array | string, cb: (err?: Error) => void): void;
  bufferedAmount(): number;
  close(code: number, reason?: string): void;
}

interface Attachment {
  id: string;
  resume: string;
  mode: 'rw' | 'ro';
  window: number;
  cursor: Offsets;
  acked: Offsets;
  stdinAccepted: number;
  sink?: Sink;
  grace?: NodeJS.Timeout;
  replayTo?: Offsets;
  exitSent: boolean;
  ackTimer?: NodeJS.Timeout;
}

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
  private stdin: Promise<void> = Promise.resolve();
  private stdinQueued = 0;
  private early: Buffer[] = [];
  private eof = false;
  private paused = false;
  private unflushed = 0;
  private unlogged: { stream: OutputStream; chunks: Buffer[] }[] = [];
  private flushTimer?: NodeJS.Timeout;
  private readonly flushAt: number;
  private waiters: ((e: ExitInfo) => void)[] = [];

  constructor(private readonly opts: SessionOptions) {
    this.id = opts.id;
    this.containerId = opts.containerId;
    this.tty = opts.tty;
    if (opts.size) this.size = opts.size;
    const cap = opts.ringBytes ?? 4 * 1024 * 1024;
    this.rings = { stdout: new ByteRing(cap), stderr: new ByteRing(cap) };
    this.flushAt = Math.min(CHUNK, cap >> 2);
  }

  /** Connect the process (once). Output and exit flow from here on. */
  bind(p: Process): void {
    this.process = p;
    this.state = 'running';
    p.onData((stream, data) => this.output(stream, data));
    p.onExit((e) => this.ended(e));
    for (const b of this.early.splice(0)) this.writeStdin(b);
    if (this.eof) this.enqueue(() => p.closeStdin());
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
   * A hello on a new connection: a new attachment, or the resume of an old one.
   * @throws SbxError not_found (unknown attachment), unauthorized (bad resume token), invalid_argument
   */
  hello(h: Hello, sink: Sink): string {
    let a: Attachment;
    if (h.attach) {
      const old = this.attachments.get(h.attach);
      if (!old) throw new SbxError('not_found', `resume attachment ${h.attach}: not found (expired?)`);
      if (old.resume !== h.resume) throw new SbxError('unauthorized', `resume attachment ${h.attach}: wrong resume token`);
      if (old.sink) old.sink.close(4409, 'taken over by a resumed connection');
      if (old.grace) clearTimeout(old.grace);
      old.grace = undefined;
      a = old;
      a.resume = token();
    } else {
      a = {
        id: `a_${randomBytes(8).toString('hex')}`, resume: token(), mode: h.mode ?? 'rw', window: h.window ?? DEFAULT_WINDOW,
        cursor: { stdout: 0, stderr: 0 }, acked: { stdout: 0, stderr: 0 }, stdinAccepted: 0, exitSent: false,
        // every field from the start, never deleted: the object keeps one fast shape
        sink: undefined, grace: undefined, replayTo: undefined, ackTimer: undefined,
      };
      this.attachments.set(a.id, a);
    }
    if (h.window) a.window = h.window;
    for (const s of STREAMS) {
      const ring = this.rings[s];
      const from = h.from?.[s] ?? ring.start;
      if (from > ring.end) throw new SbxError('invalid_argument', `attach: ${s} offset ${from} is beyond the end (${ring.end})`);
      a.cursor[s] = from;
      a.acked[s] = from;
    }
    a.sink = sink;
    a.exitSent = false;
    a.replayTo = this.offsets();
    const msg: ServerControl = {
      t: 'attached', session: this.id, attach: a.id, resume: a.resume, tty: this.tty, state: this.state,
      stdinAck: a.stdinAccepted,
      replay: { stdout: { from: a.cursor.stdout, to: a.replayTo.stdout }, stderr: { from: a.cursor.stderr, to: a.replayTo.stderr } },
      retained: { stdout: { start: this.rings.stdout.start, end: this.rings.stdout.end }, stderr: { start: this.rings.stderr.start, end: this.rings.stderr.end } },
      heartbeat: 20,
    };
    if (this.size) msg.size = this.size;
    this.sendControl(a, msg);
    if (h.size && a.mode === 'rw' && this.tty) this.resize(h.size, a);
    this.pump(a);
    this.flowCheck();
    return a.id;
  }

  /** The connection of an attachment is gone; `voluntary` (detach) drops it at once. */
  disconnect(attachId: string, sink: Sink, voluntary: boolean): void {
    const a = this.attachments.get(attachId);
    if (!a || a.sink !== sink) return;
    a.sink = undefined;
    if (a.ackTimer) clearTimeout(a.ackTimer);
    a.ackTimer = undefined;
    if (voluntary) { this.attachments.delete(a.id); this.flowCheck(); return; }
    if (this.tty) this.flowCheck(); // a TTY is never held for a viewer that is gone
    a.grace = setTimeout(() => { this.attachments.delete(a.id); this.flowCheck(); }, GRACE_MS);
    a.grace.unref();
  }

  /** Drop every attachment (daemon shutdown, container removal). */
  closeAll(code: number, reason: string): void {
    this.flush();
    for (const a of this.attachments.values()) {
      if (a.grace) clearTimeout(a.grace);
      a.sink?.close(code, reason);
    }
    this.attachments.clear();
  }

  /** stdin bytes from an attachment. */
  input(attachId: string, data: Uint8Array): void {
    const a = this.attachments.get(attachId);
    if (!a) return;
    if (a.mode !== 'rw') { this.sendControl(a, { t: 'error', code: 'ro_attachment', message: 'read-only attachment: stdin ignored', fatal: false }); return; }
    a.stdinAccepted += data.length;
    if (!a.ackTimer && a.sink) {
      a.ackTimer = setTimeout(() => { a.ackTimer = undefined; this.sendControl(a, { t: 'stdinAck', n: a.stdinAccepted }); }, 20);
    }
    if (this.eof || this.exit) return;
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength); // the frame's own bytes: no copy
    if (!this.process) { this.early.push(b); return; }
    this.writeStdin(b);
  }

  control(attachId: string, m: ClientControl): void {
    const a = this.attachments.get(attachId);
    if (!a) return;
    switch (m.t) {
      case 'ack':
        a.acked.stdout = Math.max(a.acked.stdout, Math.min(m.stdout, a.cursor.stdout));
        a.acked.stderr = Math.max(a.acked.stderr, Math.min(m.stderr, a.cursor.stderr));
        this.pump(a);
        this.flowCheck();
        return;
      case 'ping':
        this.sendControl(a, { t: 'pong', ...(m.id !== undefined ? { id: m.id } : {}) });
        return;
      case 'detach':
        a.sink?.close(1000, 'detached');
        if (a.sink) this.disconnect(a.id, a.sink, true);
        return;
      default:
    }
    if (a.mode !== 'rw') { this.sendControl(a, { t: 'error', code: 'ro_attachment', message: `read-only attachment: ${m.t} ignored`, fatal: false }); return; }
    if (m.t === 'resize') this.resize({ cols: m.cols, rows: m.rows }, a);
    else if (m.t === 'signal') {
      const sig = normalizeSignal(m.name);
      if (!sig) { this.sendControl(a, { t: 'error', code: 'bad_signal', message: `signal ${m.name}: unknown`, fatal: false }); return; }
      if (this.process && !this.exit) this.opts.kill(sig);
    } else if (m.t === 'eof') this.closeStdin();
  }

  resize(size: Size, from?: Attachment): void {
    this.size = size;
    if (this.process && !this.exit) this.process.resize(size);
    for (const a of this.attachments.values()) if (a !== from && a.sink) this.sendControl(a, { t: 'size', ...size });
  }

  closeStdin(): void {
    if (this.eof) return;
    this.eof = true;
    const p = this.process;
    if (p) this.enqueue(() => p.closeStdin());
  }

  private writeStdin(b: Buffer): void {
    const p = this.process!;
    this.enqueue(() => p.write(b));
  }

  /** Runs stdin operations one after another; with none in progress, at once (a keystroke waits for no turn of the loop). */
  private enqueue(op: () => Promise<void> | void): void {
    const run = async (): Promise<void> => { try { await op(); } catch { /* the process is gone */ } finally { this.stdinQueued--; } };
    this.stdin = this.stdinQueued++ === 0 ? run() : this.stdin.then(run);
  }

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
  }

  /**
   * Hold the process (stop reading its output) rather than drop bytes a viewer still needs.
   * Non-TTY: while any rw attachment, connected or resumable, lags by a ring (pipes lose
   * nothing). TTY: only while every connected rw attachment lags by most of a ring, so the
   * fastest viewer sets the pace, as a terminal does for the program writing to it: a lone
   * slow terminal gets every byte, a slow viewer beside a faster one gets a gap instead of
   * stalling it, and a shell nobody is attached to never blocks.
   */
  private flowCheck(): void {
    if (!this.process || this.exit) return;
    const cap = this.rings.stdout.capacity;
    let hold: boolean;
    if (this.tty) {
      let least = Infinity;
      for (const a of this.attachments.values()) {
        if (a.mode !== 'rw' || !a.sink) continue;
        least = Math.min(least, this.rings.stdout.end - a.acked.stdout);
      }
      hold = least !== Infinity && (this.paused ? least >= cap >> 1 : least >= (cap >> 2) * 3);
    } else {
      let need = 0;
      for (const a of this.attachments.values()) {
        if (a.mode !== 'rw') continue;
        for (const s of STREAMS) need = Math.max(need, this.rings[s].end - a.acked[s]);
      }
      hold = this.paused ? need >= cap / 2 : need >= cap;
    }
    if (hold !== this.paused) {
      this.paused = hold;
      if (hold) this.process.pause(); else this.process.resume();
    }
  }

  private sendControl(a: Attachment, m: ServerControl): void {
    a.sink?.send(encodeControl(m), () => undefined);
  }

  private pump(a: Attachment): void {
    const sink = a.sink;
    if (!sink || a.exitSent) return;
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const s of STREAMS) {
        const ring = this.rings[s];
        if (a.cursor[s] < ring.start) {
          this.sendControl(a, { t: 'gap', stream: s, from: a.cursor[s], to: ring.start });
          a.cursor[s] = ring.start;
          a.acked[s] = Math.max(a.acked[s], ring.start);
        }
        const avail = ring.end - a.cursor[s];
        if (avail <= 0) continue;
        const inflight = a.cursor.stdout - a.acked.stdout + a.cursor.stderr - a.acked.stderr;
        if (inflight >= a.window || sink.bufferedAmount() > MAX_BUFFERED) return;
        const frame = ring.readFrame(s === 'stdout' ? 1 : 2, a.cursor[s], Math.min(avail, CHUNK, a.window - inflight));
        a.cursor[s] += frame.length - 1;
        sink.send(frame, (err) => { if (!err && a.sink === sink) this.pump(a); });
        progressed = true;
      }
    }
    const end = this.offsets();
    if (a.replayTo && a.cursor.stdout >= a.replayTo.stdout && a.cursor.stderr >= a.replayTo.stderr) {
      a.replayTo = undefined;
      this.sendControl(a, { t: 'replayed' });
    }
    if (this.exit && a.cursor.stdout >= end.stdout && a.cursor.stderr >= end.stderr) {
      a.exitSent = true;
      if (a.ackTimer) { clearTimeout(a.ackTimer); a.ackTimer = undefined; }
      this.sendControl(a, { t: 'stdinAck', n: a.stdinAccepted });
      this.sendControl(a, { t: 'exit', ...this.exit, final: end });
      sink.close(1000, 'exited');
    }
  }
}

function token(): string { return `r_${randomBytes(16).toString('hex')}`; }
