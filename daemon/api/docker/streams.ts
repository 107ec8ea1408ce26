/**
 * The transports docker's streams ride on, as bridge.ts's StreamOut, and the small readers the
 * stream routes share: a hijacked connection's JSON body, a resize query, a download body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { WebSocket } from 'ws';
import { SbxError, type Size } from '../../../protocol/index.js';
import type { StreamOut } from './bridge.js';

const MAX_UPGRADE_BODY = 64 * 1024;

export function socketOut(socket: Duplex): StreamOut {
  return { write: (d, cb) => socket.write(d, cb), end: () => socket.end(), buffered: () => socket.writableLength };
}

export function responseOut(res: ServerResponse): StreamOut {
  return { write: (d, cb) => res.write(d, cb), end: () => res.end(), buffered: () => res.writableLength };
}

/** `binary`: binary messages (API 1.42+), else text ones as docker's older attach/ws sends. */
export function wsOut(ws: WebSocket, binary: boolean): StreamOut {
  return {
    write: (d, cb) => { if (ws.readyState === ws.OPEN) ws.send(d, { binary }, (err) => cb(err)); else cb(new Error('closed')); },
    end: () => ws.close(1000),
    buffered: () => ws.bufferedAmount,
  };
}

/** docker's `?h=ROWS&w=COLS`. */
export function resizeQuery(q: URLSearchParams): Size {
  const rows = Number(q.get('h'));
  const cols = Number(q.get('w'));
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows > 1000 || cols > 1000) {
    throw new SbxError('invalid_argument', `resize: h and w must be integers from 1 to 1000 (got h=${q.get('h')}, w=${q.get('w')})`);
  }
  return { rows, cols };
}

/**
 * The JSON body of an upgrade request (exec start's {Detach, Tty}): Content-Length bytes from
 * `head` and then the socket; bytes after it are the stream's and go back to the socket.
 */
export async function upgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Record<string, unknown>> {
  const len = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(len) || len < 0 || len > MAX_UPGRADE_BODY) throw new SbxError('invalid_argument', `request body: Content-Length ${req.headers['content-length']} is not accepted`);
  let buf = head;
  while (buf.length < len) {
    const more = await new Promise<Buffer | null>((resolve) => {
      const onData = (d: Buffer): void => { done(); resolve(d); };
      const onEnd = (): void => { done(); resolve(null); };
      const done = (): void => { socket.off('data', onData); socket.off('end', onEnd); socket.off('close', onEnd); socket.pause(); };
      socket.on('data', onData).on('end', onEnd).on('close', onEnd);
      socket.resume();
    });
    if (!more) throw new SbxError('invalid_argument', 'request body: the connection ended inside it');
    buf = Buffer.concat([buf, more]);
  }
  if (buf.length > len) socket.unshift(buf.subarray(len));
  const text = buf.subarray(0, len).toString('utf8').trim();
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch { /* below */ }
  throw new SbxError('invalid_argument', 'request body: expected a JSON object');
}

/** A download: the stream as the body once it has begun without error, then to its end; an error cuts the connection. */
export function sendStream(res: ServerResponse, stream: Readable, headers: Record<string, string>): 'handled' {
  res.writeHead(200, headers);
  pipeline(stream, res, () => undefined);
  return 'handled';
}
