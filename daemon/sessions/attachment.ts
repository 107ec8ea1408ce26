/**
 * One attachment (viewer) of a session: a cursor per output stream over the session's rings, a
 * credit window, a resume token, and the frame size its link can carry. session.ts decides
 * when to send; this file holds how an attachment's output leaves:
 * - sendFrames() sends from the cursors while the credit window and the socket's buffer allow;
 *   a cursor that fell behind its ring first gets a `gap` (never a silent skip).
 * - A client counts only whole frames (a WebSocket message arrives whole or not at all). A
 *   resume whose offsets show that the last connection was sent more than it delivered, and
 *   not even one frame of it, means the link cuts inside frames: shrinkFrames() quarters the
 *   frame size (down to MIN_FRAME), so each connection moves the stream forward, however soon
 *   it is cut. growFrames() doubles it again (up to CHUNK) each time four frames of the
 *   current size have been acknowledged.
 */
import { randomBytes } from 'node:crypto';
import {
  CloseCode, SbxError, encodeControl, type Attached, type Hello, type Offsets, type OutputStream, type ServerControl, type Size,
} from '../../protocol/index.js';
import type { ByteRing } from './ring.js';
import type { ClientTerminal } from './terminal.js';

/** Largest payload per frame on a link that carries them (the protocol's MAX_FRAME_PAYLOAD). */
export const CHUNK = 64 * 1024;
/** Smallest payload per frame, however often a link is cut. */
export const MIN_FRAME = 256;
const MAX_BUFFERED = 1 << 20;
export const STREAMS: OutputStream[] = ['stdout', 'stderr'];

/** The transport of one attachment. */
export interface Sink {
  /** Queue one frame; `cb` runs once it was written out (or with an error when it never will be). */
  send(frame: Uint8Array | string, cb: (err?: Error) => void): void;
  bufferedAmount(): number;
  close(code: number, reason?: string): void;
}

export interface Attachment {
  id: string;
  resume: string;
  mode: 'rw' | 'ro';
  window: number;
  /** Next byte to send, per stream. */
  cursor: Offsets;
  /** What the client has acknowledged, per stream. */
  acked: Offsets;
  stdinAccepted: number;
  sink?: Sink;
  grace?: NodeJS.Timeout;
  replayTo?: Offsets;
  /** The exit was sent on the current connection (reset when it is lost uncleanly). */
  exitSent: boolean;
  ackTimer?: NodeJS.Timeout;
  /** Largest payload per frame: CHUNK, less on a link that cuts connections mid-frame. */
  frame: number;
  /** Offsets the current connection started from. */
  base: Offsets;
  /** Total offset (stdout + stderr) at which `frame` was last changed. */
  sizedAt: number;
  /**
   * The client's own terminal is tied to the process (terminal.ts): no frames go either way.
   * `pending` until the process has it (a session not started yet); `live` once its replay was
   * handed over: from then on every output byte is on that terminal before the session sees it.
   */
  tie?: { pending?: ClientTerminal & { keys: Uint8Array }; live: boolean };
}

export function newAttachment(mode: 'rw' | 'ro', window: number): Attachment {
  return {
    id: `a_${randomBytes(8).toString('hex')}`, resume: resumeToken(), mode, window,
    cursor: { stdout: 0, stderr: 0 }, acked: { stdout: 0, stderr: 0 }, stdinAccepted: 0, exitSent: false,
    frame: CHUNK, base: { stdout: 0, stderr: 0 }, sizedAt: 0,
    // every field from the start, never deleted: the object keeps one fast shape
    sink: undefined, grace: undefined, replayTo: undefined, ackTimer: undefined, tie: undefined,
  };
}

export function resumeToken(): string { return `r_${randomBytes(16).toString('hex')}`; }

/**
 * A resume: the attachment named in the hello, its old connection closed, a new resume token.
 * @throws SbxError not_found (unknown or expired), unauthorized (wrong token)
 */
export function takeOver(attachments: Map<string, Attachment>, h: Hello): Attachment {
  const old = attachments.get(h.attach!);
  if (!old) throw new SbxError('not_found', `resume attachment ${h.attach}: not found (expired?)`);
  if (old.resume !== h.resume) throw new SbxError('unauthorized', `resume attachment ${h.attach}: wrong resume token`);
  if (old.sink) old.sink.close(CloseCode.takenOver, 'taken over by a resumed connection');
  if (old.grace) clearTimeout(old.grace);
  old.grace = undefined;
  old.resume = resumeToken();
  return old;
}

/** The `attached` answer to a hello, once the attachment's cursors and replayTo are set. */
export function attachedMessage(session: string, tty: boolean, state: Attached['state'], a: Attachment,
  rings: Record<OutputStream, ByteRing>, size?: Size): Attached {
  const to = a.replayTo ?? { stdout: rings.stdout.end, stderr: rings.stderr.end };
  const msg: Attached = {
    t: 'attached', session, attach: a.id, resume: a.resume, tty, state, stdinAck: a.stdinAccepted,
    replay: { stdout: { from: a.cursor.stdout, to: to.stdout }, stderr: { from: a.cursor.stderr, to: to.stderr } },
    retained: { stdout: { start: rings.stdout.start, end: rings.stdout.end }, stderr: { start: rings.stderr.start, end: rings.stderr.end } },
    heartbeat: 20,
  };
  if (size) msg.size = size;
  return msg;
}

export function sendControl(a: Attachment, m: ServerControl): void {
  a.sink?.send(encodeControl(m), () => undefined);
}

/** A resume from `from`: smaller frames when the last connection got none of its first one through. */
export function shrinkFrames(a: Attachment, from: Offsets): void {
  const delivered = from.stdout - a.base.stdout + from.stderr - a.base.stderr;
  const sent = a.cursor.stdout - a.base.stdout + a.cursor.stderr - a.base.stderr;
  if (sent > delivered && delivered < a.frame && a.frame > MIN_FRAME) {
    a.frame = Math.max(MIN_FRAME, a.frame >> 2);
    a.sizedAt = from.stdout + from.stderr;
  }
}

/** After an ack: four frames acknowledged since the size last changed, the link holds: double it. */
export function growFrames(a: Attachment): void {
  if (a.frame >= CHUNK) return;
  const acked = a.acked.stdout + a.acked.stderr;
  if (acked - a.sizedAt >= 4 * a.frame) { a.frame = Math.min(CHUNK, a.frame * 2); a.sizedAt = acked; }
}

/**
 * Send output from the cursors while the window and the socket's buffer allow; `again` runs when
 * a frame was written out (the buffer drained: send more).
 */
export function sendFrames(a: Attachment, rings: Record<OutputStream, ByteRing>, again: () => void): void {
  const sink = a.sink;
  if (!sink) return;
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const s of STREAMS) {
      const ring = rings[s];
      if (a.cursor[s] < ring.start) {
        sendControl(a, { t: 'gap', stream: s, from: a.cursor[s], to: ring.start });
        a.cursor[s] = ring.start;
        a.acked[s] = Math.max(a.acked[s], ring.start);
      }
      const avail = ring.end - a.cursor[s];
      if (avail <= 0) continue;
      const inflight = a.cursor.stdout - a.acked.stdout + a.cursor.stderr - a.acked.stderr;
      if (inflight >= a.window || sink.bufferedAmount() > MAX_BUFFERED) return;
      const frame = ring.readFrame(s === 'stdout' ? 1 : 2, a.cursor[s], Math.min(avail, a.frame, a.window - inflight));
      a.cursor[s] += frame.length - 1;
      sink.send(frame, (err) => { if (!err && a.sink === sink) again(); });
      progressed = true;
    }
  }
}
