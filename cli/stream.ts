/**
 * The CLI end of sbx.stream.v1: attach to a session, copy stdin/stdout/stderr, follow the
 * terminal, and survive a dropped connection. Output offsets are counted per stream, so a
 * reconnect resumes exactly where the last byte arrived; stdin bytes are kept until the server
 * acknowledges them (stdinAck) and the rest is resent once on resume. The local terminal is in
 * raw mode only with a TTY session on a TTY, and is always restored.
 */
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type WebSocketType from 'ws';
import {
  STREAM_SUBPROTOCOL, decodeData, encodeControl, encodeData, parseServerControl,
  type ClientControl, type ExitInfo, type Size,
} from '../protocol/index.js';
import type { Client } from './client.js';
import { Sessions } from '../protocol/index.js';

// ws through require: an ESM `import 'ws'` costs ~50 ms more CPU on every `sbx run/exec/attach`
// (Node scans each of ws's CommonJS files for named exports).
type WebSocket = WebSocketType;
const WebSocket = createRequire(import.meta.url)('ws') as typeof WebSocketType;

export interface AttachOptions {
  client: Client;
  session: string;
  tty: boolean;
  /** Forward local stdin (docker -i / attach). */
  stdin: boolean;
  in: NodeJS.ReadStream;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  /** Output offsets to start from (default 0: everything, as run/exec want; attach passes the current end). */
  from?: { stdout: number; stderr: number };
  /** Called once, when the first attachment is established (run: start the container now). */
  onAttached?: () => Promise<void>;
  /** Give up reconnecting after this long (ms). */
  reconnectFor?: number;
}

export interface AttachResult { exit?: ExitInfo; detached?: boolean; lost?: string }

const WINDOW = 1 << 20;
const ACK_EVERY = WINDOW >> 2;
const ACK_DELAY_MS = 20;
const MAX_FRAME = 64 * 1024;
/** A connection attached this long was a working one, even with nothing to carry. */
const HEALTHY_MS = 10_000;

export function attachSession(o: AttachOptions): Promise<AttachResult> {
  return new Promise((resolve) => {
    const received = { stdout: o.from?.stdout ?? 0, stderr: o.from?.stderr ?? 0 };
    let stdinSent = 0;
    let stdinAcked = 0;
    let unacked: Buffer[] = []; // stdin bytes [stdinAcked, stdinSent)
    let attach: string | undefined;
    let resume: string | undefined;
    let ws: WebSocket | undefined;
    let ready = false;
    let exit: ExitInfo | undefined;
    let finished = false;
    let firstAttach = true;
    let eofWanted = false;
    let eofSent = false;
    let attempt = 0;
    let lostSince = 0;
    // a connection that moved output or stdin forward (or lasted) restarts the backoff and the
    // give-up clock; one that attaches and is cut before any progress does not
    let progressed = false;
    let attachedAt = 0;
    let fatal: string | undefined;
    const raw = o.tty && o.stdin && o.in.isTTY === true;
    const cleanups: (() => void)[] = [];

    const finish = (r: AttachResult): void => {
      if (finished) return;
      finished = true;
      for (const c of cleanups.splice(0)) { try { c(); } catch { /* best effort */ } }
      try { ws?.close(1000); } catch { /* closed */ }
      resolve(r);
    };

    const sendCtl = (m: ClientControl): void => { if (ws && ready && ws.readyState === WebSocket.OPEN) ws.send(encodeControl(m)); };
    const size = (): Size | undefined => (o.out.isTTY && o.out.columns ? { cols: o.out.columns, rows: o.out.rows } : undefined);

    const sendStdin = (b: Buffer): void => {
      for (let i = 0; i < b.length; i += MAX_FRAME) {
        const part = b.subarray(i, i + MAX_FRAME);
        unacked.push(part);
        stdinSent += part.length;
        if (ws && ready && ws.readyState === WebSocket.OPEN) ws.send(encodeData(0, part));
      }
    };

    const dropAcked = (n: number): void => {
      let drop = n - stdinAcked;
      stdinAcked = Math.max(stdinAcked, n);
      while (drop > 0 && unacked.length) {
        const h = unacked[0]!;
        if (h.length <= drop) { drop -= h.length; unacked.shift(); } else { unacked[0] = h.subarray(drop); drop = 0; }
      }
    };

    // Output is acknowledged once written (credit for the server's window), in batches: a
    // quarter window at a time, or shortly after the output pauses.
    const shown = { stdout: 0, stderr: 0 };
    const ackedUpTo = { stdout: 0, stderr: 0 };
    let ackTimer: NodeJS.Timeout | undefined;
    const sendAck = (sock: WebSocket): void => {
      clearTimeout(ackTimer);
      ackTimer = undefined;
      if (ws !== sock || !ready || sock.readyState !== WebSocket.OPEN) return;
      ackedUpTo.stdout = shown.stdout;
      ackedUpTo.stderr = shown.stderr;
      sock.send(encodeControl({ t: 'ack', ...shown }));
    };
    const written = (sock: WebSocket, stream: 'stdout' | 'stderr', upTo: number): void => {
      if (ws !== sock) return;
      shown[stream] = Math.max(shown[stream], upTo);
      if (shown.stdout - ackedUpTo.stdout + shown.stderr - ackedUpTo.stderr >= ACK_EVERY) sendAck(sock);
      else ackTimer ??= setTimeout(() => sendAck(sock), ACK_DELAY_MS);
    };
    cleanups.push(() => clearTimeout(ackTimer));

    const connect = (): void => {
      const { url, options } = o.client.channelTarget(Sessions.attach, { session: o.session });
      const sock = new WebSocket(url, [STREAM_SUBPROTOCOL], { ...options, perMessageDeflate: false });
      ws = sock;
      ready = false;
      sock.on('open', () => {
        const hello: ClientControl = {
          t: 'hello', v: 1, client: 'sbx-cli', mode: 'rw', window: WINDOW,
          from: { ...received },
          ...(size() ? { size: size() } : {}),
          ...(attach ? { attach, resume, stdinSent } : {}),
        } as ClientControl;
        sock.send(encodeControl(hello));
      });
      sock.on('message', (data, isBinary) => {
        const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        if (isBinary) {
          let f;
          try { f = decodeData(buf); } catch { return; }
          const stream = f.channel === 2 ? 'stderr' : 'stdout';
          received[stream] += f.data.length;
          progressed = true;
          const target = f.channel === 2 ? o.err : o.out;
          const mark = received[stream];
          const rest = writeDirect(target, f.data);
          if (rest.length === 0) written(sock, stream, mark);
          else target.write(rest, () => written(sock, stream, mark));
          return;
        }
        const m = parseServerControl(buf.toString('utf8'));
        if (!m) return;
        switch (m.t) {
          case 'attached': {
            clearTimeout(ackTimer);
            ackTimer = undefined;
            shown.stdout = ackedUpTo.stdout = received.stdout;
            shown.stderr = ackedUpTo.stderr = received.stderr;
            attach = m.attach;
            resume = m.resume;
            ready = true;
            attachedAt = Date.now();
            if (m.stdinAck > stdinAcked) progressed = true;
            // resend exactly what the server has not accepted
            dropAcked(m.stdinAck);
            for (const b of unacked) sock.send(encodeData(0, b));
            // an eof sent on a connection that was then cut may never have arrived: send it again
            // (after the resent stdin, as it was); the server ignores a second one
            if (eofWanted) { eofSent = true; sendCtl({ t: 'eof', stream: 'stdin' }); }
            if (firstAttach) {
              firstAttach = false;
              if (o.onAttached) o.onAttached().catch((e: Error) => { fatal = e.message; finish({ lost: e.message }); });
            }
            break;
          }
          case 'stdinAck': if (m.n > stdinAcked) progressed = true; dropAcked(m.n); break;
          // bytes the ring dropped before they reached us: count them as received, or our acks
          // (and a resume's offsets) would lag the server's cursor forever
          case 'gap': received[m.stream] = Math.max(received[m.stream], m.to); break;
          case 'exit': { const { t: _t, final: _f, ...e } = m; exit = e; break; }
          case 'error': if (m.fatal) fatal = m.message; break;
          default:
        }
      });
      sock.on('close', (code) => {
        if (ws !== sock || finished) return;
        ready = false;
        if (exit) { finish({ exit }); return; }
        if (code === 1000) { finish({ detached: true }); return; }
        if (code === 4404 || code === 4403 || code === 4400 || code === 4409) { finish({ lost: fatal ?? `attach closed (${code})` }); return; }
        if (progressed || (attachedAt && Date.now() - attachedAt >= HEALTHY_MS)) { attempt = 0; lostSince = 0; }
        progressed = false;
        attachedAt = 0;
        if (!lostSince) lostSince = Date.now();
        if (Date.now() - lostSince > (o.reconnectFor ?? 60_000)) { finish({ lost: 'connection to sbxd lost' }); return; }
        const delay = Math.min(8000, 250 * 2 ** attempt++) * (0.8 + Math.random() * 0.4);
        setTimeout(connect, delay);
      });
      sock.on('error', () => undefined);
    };

    // stdin
    if (o.stdin) {
      if (raw) {
        o.in.setRawMode(true);
        // libuv's raw mode keeps output post-processing (\n → \r\n), which would double the
        // container terminal's own \r; docker's raw mode turns it off too
        const opost = (on: boolean): void => { spawnSync('stty', [on ? 'opost' : '-opost'], { stdio: [o.in, 'ignore', 'ignore'] }); };
        opost(false);
        cleanups.push(() => { o.in.setRawMode(false); opost(true); });
      }
      let lineStart = true;
      let tilde = false;
      const onData = (chunk: Buffer): void => {
        if (!raw) { sendStdin(chunk); return; }
        if (!tilde && !chunk.includes(0x7e)) { // no escape possible: pass the chunk on as it is
          const last = chunk[chunk.length - 1];
          if (last !== undefined) lineStart = last === 0x0d || last === 0x0a;
          sendStdin(chunk);
          return;
        }
        // ssh-style escape, only at the start of a line: Enter ~ . detaches, ~~ sends one ~
        const out: number[] = [];
        for (const byte of chunk) {
          if (tilde) {
            tilde = false;
            if (byte === 0x2e) { if (out.length) sendStdin(Buffer.from(out)); sendCtl({ t: 'detach' }); finish({ detached: true }); return; }
            if (byte !== 0x7e) out.push(0x7e);
            out.push(byte);
            lineStart = byte === 0x0d || byte === 0x0a;
            continue;
          }
          if (lineStart && byte === 0x7e) { tilde = true; continue; }
          out.push(byte);
          lineStart = byte === 0x0d || byte === 0x0a;
        }
        if (out.length) sendStdin(Buffer.from(out));
      };
      const onEnd = (): void => { eofWanted = true; if (ready && !eofSent) { eofSent = true; sendCtl({ t: 'eof', stream: 'stdin' }); } };
      o.in.on('data', onData);
      o.in.on('end', onEnd);
      o.in.resume();
      cleanups.push(() => { o.in.off('data', onData); o.in.off('end', onEnd); o.in.pause(); });
    }
    if (o.tty && o.out.isTTY) {
      let timer: NodeJS.Timeout | undefined;
      const onResize = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => { const s = size(); if (s) sendCtl({ t: 'resize', ...s }); }, 30);
      };
      o.out.on('resize', onResize);
      cleanups.push(() => { o.out.off('resize', onResize); clearTimeout(timer); });
    }
    if (!o.tty) {
      const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
      const handlers = sigs.map((s) => { const h = (): void => sendCtl({ t: 'signal', name: s }); process.on(s, h); return [s, h] as const; });
      cleanups.push(() => { for (const [s, h] of handlers) process.off(s, h); });
    } else if (raw) {
      const restore = (): void => { try { o.in.setRawMode(false); } catch { /* gone */ } };
      process.on('exit', restore);
      cleanups.push(() => process.off('exit', restore));
    }
    connect();
  });
}

/**
 * A terminal is written to with one blocking write(2), as Node itself does for a TTY, minus the
 * stream machinery (a keystroke's echo pays for every step). Returns what is left for the
 * stream: everything when it is not a terminal or has output queued, the rest after EAGAIN.
 */
function writeDirect(target: NodeJS.WriteStream, data: Uint8Array): Uint8Array {
  const fd = (target as { fd?: unknown }).fd;
  if (!target.isTTY || typeof fd !== 'number' || target.writableLength > 0) return data;
  let done = 0;
  try {
    while (done < data.length) done += writeSync(fd, data, done);
  } catch { /* EAGAIN and errors: the stream takes the rest (and reports errors as it does) */ }
  return data.subarray(done);
}

/** The status a CLI exits with for an attach result (docker's rules; 255 when the end is unknown). */
export function exitStatus(r: AttachResult, err: NodeJS.WriteStream): number {
  if (r.exit) {
    if (r.exit.error) err.write(`Error: ${r.exit.error.message}\n`);
    return r.exit.status;
  }
  if (r.detached) return 0;
  err.write(`Error: ${r.lost ?? 'connection to sbxd lost'}\n`);
  return 255;
}
