/**
 * WebSocket attachments to sessions (sbx.stream.v1): the wire side of daemon/sessions/session.ts.
 * The first message must be a `hello` within 10 s; binary frames on channel 0 are stdin; control
 * messages are validated (protocol error → close 4400); a ping every 20 s, two missed pongs
 * terminate the socket (the attachment stays resumable).
 */
import type { WebSocket } from 'ws';
import {
  CloseCode, SbxError, Sessions, decodeData, encodeControl, parseClientControl, type ClientControl,
} from '../../protocol/index.js';
import type { Sink } from '../sessions/session.js';
import { closeTerminal, openClientTerminal } from '../sessions/terminal.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

const HELLO_TIMEOUT_MS = 10_000;
const PING_MS = 20_000;
const CLOSE_FOR: Partial<Record<SbxError['code'], number>> = { not_found: CloseCode.notFound, unauthorized: CloseCode.forbidden };

export function registerStreams(api: ApiServer, s: Services): void {
  api.channel(Sessions.attach, (ws: WebSocket, params) => {
    let session;
    try {
      session = s.containers.session(params.session!);
    } catch (e) {
      ws.send(encodeControl({ t: 'error', code: 'not_found', message: (e as Error).message, fatal: true }));
      ws.close(CloseCode.notFound, 'session not found');
      return;
    }
    const se = session;
    let attach: string | undefined;
    const sink: Sink = {
      send: (frame, cb) => { if (ws.readyState === ws.OPEN) ws.send(frame, cb); else cb(new Error('closed')); },
      bufferedAmount: () => ws.bufferedAmount,
      close: (code, reason) => { if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason); },
    };
    const fail = (code: number, message: string): void => {
      if (ws.readyState === ws.OPEN) ws.send(encodeControl({ t: 'error', code: 'protocol', message, fatal: true }));
      ws.close(code, message.slice(0, 120));
    };
    const helloTimer = setTimeout(() => fail(CloseCode.helloTimeout, 'no hello within 10s'), HELLO_TIMEOUT_MS);
    let missed = 0;
    const ping = setInterval(() => {
      if (missed >= 2) { ws.terminate(); return; }
      missed++;
      ws.ping();
    }, PING_MS);
    ws.on('pong', () => { missed = 0; });
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) {
        if (!attach) { fail(CloseCode.badProtocol, 'data before hello'); return; }
        let frame;
        try { frame = decodeData(buf); } catch (e) { fail(CloseCode.badProtocol, (e as Error).message); return; }
        if (frame.channel !== 0) { fail(CloseCode.badProtocol, `clients send only stdin (channel 0), got ${frame.channel}`); return; }
        se.input(attach, frame.data, sink);
        return;
      }
      let msg: ClientControl | undefined;
      try { msg = parseClientControl(buf.toString('utf8')); } catch (e) { fail(CloseCode.badProtocol, (e as Error).message); return; }
      if (!msg) return;
      if (msg.t === 'hello') {
        if (attach) { fail(CloseCode.badProtocol, 'second hello'); return; }
        clearTimeout(helloTimer);
        // a local CLI on a terminal asks the daemon to tie it: opened here, where the socket is
        const term = msg.terminal ? openClientTerminal(socketFd(ws)) : undefined;
        try {
          attach = se.hello(msg, sink, typeof term === 'object' ? term : undefined);
        } catch (e) {
          if (typeof term === 'object') closeTerminal(term);
          const err = api.router.clientError(e, 'attach');
          if (ws.readyState === ws.OPEN) ws.send(encodeControl({ t: 'error', code: err.code, message: err.message, fatal: true }));
          ws.close(CLOSE_FOR[err.code] ?? CloseCode.badProtocol, err.message.slice(0, 120));
        }
        return;
      }
      if (!attach) { fail(CloseCode.badProtocol, `${msg.t} before hello`); return; }
      se.control(attach, msg, sink);
    });
    ws.on('close', (code) => {
      clearTimeout(helloTimer);
      clearInterval(ping);
      if (attach) se.disconnect(attach, sink, false, code === CloseCode.normal);
    });
    ws.on('error', () => undefined);
  });
}

/** The fd under a WebSocket's connection (a unix socket's: SO_PEERCRED names the client). */
function socketFd(ws: WebSocket): number | undefined {
  const fd = (ws as unknown as { _socket?: { _handle?: { fd?: unknown } } })._socket?._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
