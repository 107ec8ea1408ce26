/**
 * One session (sessions/session.ts: a container's main process or an exec) carried on one of
 * docker's byte streams: a hijacked connection (attach, exec start), a plain response body (a
 * client that did not ask to upgrade: output only) or a WebSocket (attach/ws). Output goes out
 * as docker frames it (8-byte multiplexed headers without a TTY, the bare bytes with one, or
 * one message per chunk), acknowledged as the transport takes it so the session's flow control
 * sees a viewer keeping up; stdin comes back, its end is stdin's EOF; the exit ends the stream.
 */
import { decodeData, type Offsets, type ServerControl } from '../../../protocol/index.js';
import type { Session, Sink } from '../../sessions/session.js';
import { detachScanner } from './detach.js';

const WINDOW = 1 << 20;

/** Where the output goes: write(bytes, cb) in order, end() after the exit, buffered() for back-pressure. */
export interface StreamOut {
  write(data: Buffer, cb: (err?: Error | null) => void): void;
  end(): void;
  buffered(): number;
}

export interface BridgeOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** The bare bytes (a TTY, or a WebSocket: one message per chunk); else docker's 8-byte frame headers. */
  raw: boolean;
  /** Offsets to send from; default 0 (all of an exec's output). */
  from?: Offsets;
  client: string;
  /** A TTY's detach sequence (detach.ts): stdin is scanned for it; when typed, the stream ends and stdin stays open. */
  detachKeys?: Buffer;
}

/** The input side: call with stdin bytes, at their end, and when the transport is gone. */
export interface BridgeInput { data(d: Buffer): void; eof(): void; gone(): void }

export function bridge(se: Session, out: StreamOut, o: BridgeOptions): BridgeInput {
  const sent = { ...(o.from ?? { stdout: 0, stderr: 0 }) };
  let id: string | undefined;
  let ended = false;
  const finish = (): void => { if (!ended) { ended = true; out.end(); } };
  const sink: Sink = {
    send(frame, cb) {
      if (typeof frame === 'string') {
        const msg = JSON.parse(frame) as ServerControl;
        // a command that never ran: its reason on stderr, as docker's "OCI runtime exec failed"
        if (msg.t === 'exit' && msg.error && o.stderr && !ended) out.write(o.raw ? Buffer.from(`${msg.error.message}\r\n`) : frame8(2, Buffer.from(`${msg.error.message}\n`)), () => undefined);
        if (msg.t === 'exit') finish();
        cb();
        return;
      }
      const { channel, data } = decodeData(frame);
      const stream = channel === 2 ? 'stderr' : 'stdout';
      sent[stream] += data.length;
      const mark = { ...sent };
      const ack = (err?: Error | null): void => { cb(err ?? undefined); if (!err && id) se.control(id, { t: 'ack', ...mark }, sink); };
      if (!o[stream] || data.length === 0 || ended) { ack(); return; }
      if (o.raw) { out.write(Buffer.from(data), ack); return; }
      out.write(frame8(channel, data), ack);
    },
    bufferedAmount: () => out.buffered(),
    close: finish,
  };
  id = se.hello({ t: 'hello', v: 1, client: o.client, from: { ...sent }, mode: o.stdin ? 'rw' : 'ro', window: WINDOW }, sink);
  const attachId = id;
  const scan = o.detachKeys?.length ? detachScanner(o.detachKeys) : undefined;
  return {
    data: (d) => {
      if (!o.stdin || ended) return;
      const { pass, detach } = scan ? scan(d) : { pass: d, detach: false };
      if (pass.length) se.input(attachId, pass, sink);
      if (detach) { finish(); se.disconnect(attachId, sink, true); }
    },
    // docker: the client's end of stdin closes a pipe's stdin (`docker run -i`, `exec -i`); a TTY's stays
    // open (the client detached, its keys handled on its side) and the attachment ends
    eof: () => {
      if (!o.stdin || ended) return;
      if (!se.tty) { se.control(attachId, { t: 'eof', stream: 'stdin' }, sink); return; }
      finish();
      se.disconnect(attachId, sink, true);
    },
    gone: () => se.disconnect(attachId, sink, true),
  };
}

/** docker's multiplexed frame: the stream byte, three zero bytes, the 4-byte big-endian length, the payload. */
export function frame8(channel: number, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head[0] = channel;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}
