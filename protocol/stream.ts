/**
 * sbx.stream.v1 — one WebSocket per attachment to one session (a container's main process or
 * one exec). Binary frames carry bytes: byte 0 is the channel (0 stdin c→s, 1 stdout, 2 stderr
 * s→c), the rest is raw payload. Text frames carry one JSON control message with a `t` field.
 *
 * Order and loss (the contract both ends rely on):
 * - Output lives in a per-session ring per stream addressed by absolute byte offsets. Frames
 *   carry no offsets: the client adds payload lengths to the `replay.from` it was given.
 * - A client resumes with `hello{attach, resume, from, stdinSent}`; the server answers
 *   `attached{stdinAck}` and the client retransmits stdin[stdinAck, stdinSent) exactly once.
 * - `from` may be any byte offset, not only where a frame began: a resume from k sends the
 *   bytes from k on. A frame is counted only once it has arrived whole, so a server sends
 *   smaller frames (down to a few hundred bytes) to an attachment whose connections are cut
 *   before one gets through; every connection then moves the stream forward.
 * - A session outlives its clients: after the exit it stays while an attachment that has not
 *   had the exit may still resume (its grace period), so a reconnecting client finds it.
 * - `exit` is sent only after every output byte up to `final`; then the server closes with 1000.
 * - Unknown control types are ignored (forward compatibility); unknown binary channels are a
 *   protocol error (close 4400).
 * Pure: no Node modules, used by the daemon, the CLI and a browser.
 */
import { SbxError } from './errors.js';

export const STREAM_SUBPROTOCOL = 'sbx.stream.v1';

export const StreamChannel = { stdin: 0, stdout: 1, stderr: 2 } as const;
export type ChannelNumber = 0 | 1 | 2;
export type OutputStream = 'stdout' | 'stderr';

/** Close codes (besides 1000 after `exit`, 1001 daemon shutting down, 1011 internal). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  internal: 1011,
  badProtocol: 4400,
  forbidden: 4403,
  notFound: 4404,
  helloTimeout: 4408,
  takenOver: 4409,
  slowConsumer: 4429,
} as const;

/** Largest binary payload either side sends in one frame. */
export const MAX_FRAME_PAYLOAD = 64 * 1024;

export interface Size { cols: number; rows: number }
export type Offsets = Record<OutputStream, number>;

export interface ExitInfo {
  /** The process's exit code (0–255), or null when a signal ended it. */
  code: number | null;
  /** Signal name ("SIGKILL") when a signal ended it. */
  signal: string | null;
  /** Shell-style status: code, or 128 + signal number; 126/127 when the command could not run. */
  status: number;
  oomKilled: boolean;
  at: string;
  /** Why the command never ran (status 126/127/125), in docker's words. */
  error?: { code: 'cannot_execute' | 'command_not_found' | 'internal'; message: string };
}

// Client → server
export interface Hello {
  t: 'hello';
  v: 1;
  client?: string;
  /** Present only when resuming: the attachment id and its current resume token. */
  attach?: string;
  resume?: string;
  /** Offsets to replay from; omitted → everything retained. */
  from?: Partial<Offsets>;
  /** Bytes of stdin this attachment has sent so far (resume only). */
  stdinSent?: number;
  size?: Size;
  mode?: 'rw' | 'ro';
  /** Credit window in bytes: the server keeps at most this much unacknowledged output in flight. */
  window?: number;
  /**
   * A local client (unix socket) whose stdin and stdout are a terminal asks the daemon to tie that
   * terminal to this TTY session: the daemon then reads the keys and writes the output itself
   * (`attached.terminal`), no data frames flow either way, and the detach keys typed there end
   * the attachment with `escaped`. Refused quietly (frames as usual) when it cannot be done.
   */
  terminal?: { detachKeys: number[] };
}
export type ClientControl =
  | Hello
  | { t: 'resize'; cols: number; rows: number }
  | { t: 'signal'; name: string }
  | { t: 'eof'; stream: 'stdin' }
  | { t: 'ack'; stdout: number; stderr: number }
  | { t: 'detach' }
  | { t: 'ping'; id?: string | number };

// Server → client
export interface Attached {
  t: 'attached';
  session: string;
  attach: string;
  resume: string;
  tty: boolean;
  size?: Size;
  state: 'running' | 'exited' | 'created';
  stdinAck: number;
  replay: Record<OutputStream, { from: number; to: number }>;
  retained: Record<OutputStream, { start: number; end: number }>;
  heartbeat: number;
  /** The client's terminal is tied (hello.terminal): output goes there, not in frames. */
  terminal?: boolean;
}
export type ServerControl =
  | Attached
  | { t: 'replayed' }
  /** The detach keys were typed on the tied terminal; the server closes with 1000 next. */
  | { t: 'escaped' }
  | { t: 'gap'; stream: OutputStream; from: number; to: number }
  | { t: 'stdinAck'; n: number }
  | { t: 'size'; cols: number; rows: number }
  | { t: 'state'; state: string; reason?: string }
  | ({ t: 'exit'; final: Offsets } & ExitInfo)
  | { t: 'error'; code: string; message: string; fatal: boolean }
  | { t: 'pong'; id?: string | number };

export type Control = ClientControl | ServerControl;

/** One binary frame: the channel byte then the payload. */
export function encodeData(channel: ChannelNumber, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** Split a binary frame; throws on an empty frame or an unknown channel. */
export function decodeData(frame: Uint8Array): { channel: ChannelNumber; data: Uint8Array } {
  if (frame.length === 0) throw new SbxError('invalid_argument', 'empty binary frame');
  const channel = frame[0]!;
  if (channel > 2) throw new SbxError('invalid_argument', `unknown channel ${channel}`);
  return { channel: channel as ChannelNumber, data: frame.subarray(1) };
}

export function encodeControl(msg: Control): string {
  return JSON.stringify(msg);
}

const isInt = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * Parse and validate a client control message. Returns undefined for an unknown `t` (to be
 * ignored); throws Error with a reason for malformed input (the server closes 4400).
 */
export function parseClientControl(text: string): ClientControl | undefined {
  let m: Record<string, unknown>;
  try { m = JSON.parse(text) as Record<string, unknown>; } catch { throw new SbxError('invalid_argument', 'control message is not JSON'); }
  if (m === null || typeof m !== 'object' || typeof m.t !== 'string') throw new SbxError('invalid_argument', 'control message has no type');
  switch (m.t) {
    case 'hello': {
      if (m.v !== 1) throw new SbxError('invalid_argument', `hello: unsupported version ${String(m.v)}`);
      if (m.attach !== undefined && typeof m.attach !== 'string') throw new SbxError('invalid_argument', 'hello: bad attach');
      if (m.resume !== undefined && typeof m.resume !== 'string') throw new SbxError('invalid_argument', 'hello: bad resume');
      if (m.stdinSent !== undefined && !isInt(m.stdinSent)) throw new SbxError('invalid_argument', 'hello: bad stdinSent');
      if (m.window !== undefined && !isInt(m.window, 1)) throw new SbxError('invalid_argument', 'hello: bad window');
      if (m.mode !== undefined && m.mode !== 'rw' && m.mode !== 'ro') throw new SbxError('invalid_argument', 'hello: bad mode');
      if (m.from !== undefined) {
        const f = m.from as Record<string, unknown>;
        if (f === null || typeof f !== 'object') throw new SbxError('invalid_argument', 'hello: bad from');
        for (const k of ['stdout', 'stderr']) if (f[k] !== undefined && !isInt(f[k])) throw new SbxError('invalid_argument', `hello: bad from.${k}`);
      }
      if (m.size !== undefined) checkSize(m.size as Record<string, unknown>, 'hello');
      if (m.terminal !== undefined) {
        const keys = (m.terminal as { detachKeys?: unknown } | null)?.detachKeys;
        if (!Array.isArray(keys) || keys.length > 16 || !keys.every((k) => isInt(k, 0, 255))) {
          throw new SbxError('invalid_argument', 'hello: terminal.detachKeys must be up to 16 bytes');
        }
      }
      return m as unknown as Hello;
    }
    case 'resize':
      checkSize(m, 'resize');
      return { t: 'resize', cols: m.cols as number, rows: m.rows as number };
    case 'signal':
      if (typeof m.name !== 'string' || !/^(SIG)?[A-Z0-9+-]{1,12}$/.test(m.name)) throw new SbxError('invalid_argument', 'signal: bad name');
      return { t: 'signal', name: m.name };
    case 'eof':
      return { t: 'eof', stream: 'stdin' };
    case 'ack':
      if (!isInt(m.stdout) || !isInt(m.stderr)) throw new SbxError('invalid_argument', 'ack: bad offsets');
      return { t: 'ack', stdout: m.stdout, stderr: m.stderr };
    case 'detach':
      return { t: 'detach' };
    case 'ping':
      return { t: 'ping', ...(m.id !== undefined ? { id: m.id as string | number } : {}) };
    default:
      return undefined;
  }
}

function checkSize(m: Record<string, unknown>, what: string): void {
  if (!isInt(m.cols, 1, 1000) || !isInt(m.rows, 1, 1000)) throw new SbxError('invalid_argument', `${what}: cols and rows must be 1..1000`);
}

/** Parse a server control message (client side); undefined for unknown types. */
export function parseServerControl(text: string): ServerControl | undefined {
  const m = JSON.parse(text) as ServerControl;
  const known = ['attached', 'replayed', 'escaped', 'gap', 'stdinAck', 'size', 'state', 'exit', 'error', 'pong'];
  return m && typeof m === 'object' && known.includes((m as { t: string }).t) ? m : undefined;
}

/** Signal names sbx accepts (docker's set on Linux), with numbers. */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17,
  SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

/** "KILL", "SIGKILL", "9" → "SIGKILL"; undefined when unknown. */
export function normalizeSignal(name: string): string | undefined {
  const s = name.trim().toUpperCase();
  if (/^\d+$/.test(s)) return Object.keys(SIGNALS).find((k) => SIGNALS[k] === Number(s));
  const full = s.startsWith('SIG') ? s : `SIG${s}`;
  return SIGNALS[full] !== undefined ? full : undefined;
}

/** 1 + 4-byte big-endian length + payload: how `logs` streams records of both outputs. */
export function encodeLogRecord(channel: 1 | 2, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 5);
  out[0] = channel;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}
