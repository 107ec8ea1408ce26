/**
 * docker's attach over a hijacked connection: `POST /containers/{id}/attach` with `Upgrade: tcp`
 * is answered `101 UPGRADED`, after which the connection carries the container's output
 * (8-byte multiplexed frames without a TTY, the bare bytes with one) one way and stdin the
 * other; the client's half-close is stdin's EOF. It is one more attachment of the container's
 * main session (sessions/session.ts), from its current end (docker's logs=0), acknowledging
 * what the socket took so the session's flow control sees a viewer keeping up.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { decodeData, SbxError, type ServerControl } from '../../../protocol/index.js';
import type { Sink } from '../../sessions/session.js';
import type { Services } from '../../services.js';
import { qbool, sendRawError } from './http.js';

const ATTACH = /^(?:\/v1\.\d+)?\/containers\/([^/]+)\/attach$/;
const WINDOW = 1 << 20;

/** Handles the upgrade when it is docker's attach; false when the path is not one. */
export function dockerUpgrade(s: Services, req: IncomingMessage, socket: Duplex, onError: (err: unknown, what: string) => SbxError): boolean {
  if (req.headers.upgrade?.toLowerCase() !== 'tcp') return false;
  const url = new URL(req.url ?? '/', 'http://sbx');
  const m = ATTACH.exec(url.pathname);
  if (!m || req.method !== 'POST') return false;
  try {
    attach(s, decodeURIComponent(m[1]!), url.searchParams, socket);
  } catch (e) {
    sendRawError(socket, onError(e, 'attach'));
  }
  return true;
}

function attach(s: Services, ref: string, q: URLSearchParams, socket: Duplex): void {
  const c = s.containers.get(ref);
  if (qbool(q, 'logs')) throw new SbxError('invalid_argument', 'attach: logs=1 is not supported by sbx (use GET /containers/{id}/logs)');
  const se = s.containers.session(c.config.id);
  const tty = c.config.tty;
  const want = { stdin: qbool(q, 'stdin'), stdout: qbool(q, 'stdout'), stderr: qbool(q, 'stderr') };
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.${tty ? 'raw' : 'multiplexed'}-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  const sent = se.offsets();
  let id: string | undefined;
  const sink: Sink = {
    send(frame, cb) {
      if (typeof frame === 'string') {
        const msg = JSON.parse(frame) as ServerControl;
        if (msg.t === 'exit') socket.end();
        cb();
        return;
      }
      const { channel, data } = decodeData(frame);
      const stream = channel === 2 ? 'stderr' : 'stdout';
      sent[stream] += data.length;
      const mark = { ...sent };
      const ack = (err?: Error | null): void => { cb(err ?? undefined); if (!err && id) se.control(id, { t: 'ack', ...mark }, sink); };
      if (!want[stream] || data.length === 0) { ack(); return; }
      if (tty) { socket.write(data, ack); return; }
      const head = Buffer.alloc(8);
      head[0] = channel;
      head.writeUInt32BE(data.length, 4);
      socket.write(Buffer.concat([head, data]), ack);
    },
    bufferedAmount: () => socket.writableLength,
    close: () => { socket.end(); },
  };
  id = se.hello({ t: 'hello', v: 1, client: 'docker-attach', from: { ...sent }, mode: want.stdin ? 'rw' : 'ro', window: WINDOW }, sink);
  const attachId = id;
  if (want.stdin) {
    socket.on('data', (d: Buffer) => se.input(attachId, d, sink));
    socket.on('end', () => se.control(attachId, { t: 'eof', stream: 'stdin' }, sink));
  } else {
    socket.resume();
  }
  socket.on('close', () => se.disconnect(attachId, sink, true));
  socket.on('error', () => undefined);
}
