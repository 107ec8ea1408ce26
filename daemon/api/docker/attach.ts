/**
 * docker's streams that take over the connection: `POST /containers/{id}/attach` and
 * `POST /exec/{id}/start` with `Upgrade: tcp` are answered `101 UPGRADED`, after which the
 * connection carries the session's output (8-byte multiplexed frames without a TTY, the bare
 * bytes with one) one way and stdin the other; the client's half-close is stdin's EOF.
 * `GET /containers/{id}/attach/ws` carries the same over a WebSocket (one message per chunk of
 * output, each message in is stdin). An attach is one more attachment of the container's main
 * session (sessions/session.ts) from its current end (docker's logs=0); an exec start runs the
 * exec (exec.ts) and carries its session from its first byte. Without an upgrade, attach
 * streams the output as the response body (dockerode's default).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { SbxError } from '../../../protocol/index.js';
import type { Session } from '../../sessions/session.js';
import type { Services } from '../../services.js';
import { bridge, type BridgeInput } from './bridge.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach.js';
import type { DockerExecs } from './exec.js';
import { qbool, sendRawError, type DockerRouter } from './http.js';
import { responseOut, socketOut, upgradeBody, wsOut } from './streams.js';

const PREFIX = '^(?:/v(\\d+\\.\\d+))?';
const ATTACH = new RegExp(`${PREFIX}/containers/([^/]+)/attach$`);
const ATTACH_WS = new RegExp(`${PREFIX}/containers/([^/]+)/attach/ws$`);
const EXEC_START = new RegExp(`${PREFIX}/exec/([^/]+)/start$`);

type OnError = (err: unknown, what: string) => SbxError;

/** Handles the upgrade when it is one of docker's; false when the path is not. */
export function dockerUpgrade(s: Services, execs: DockerExecs, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, onError: OnError): boolean {
  const url = new URL(req.url ?? '/', 'http://sbx');
  const kind = req.headers.upgrade?.toLowerCase();
  const fail = (e: unknown, what: string): void => sendRawError(socket, onError(e, what));
  let m: RegExpExecArray | null;
  if (kind === 'tcp' && req.method === 'POST' && (m = ATTACH.exec(url.pathname))) {
    try {
      const a = attachTo(s, decodeURIComponent(m[2]!), url.searchParams);
      hijack(socket, a.se.tty, (out) => bridge(a.se, out, { ...a.want, raw: a.se.tty, from: a.se.offsets(), client: 'docker-attach', ...keysOf(a) }));
    } catch (e) { fail(e, 'attach'); }
    return true;
  }
  if (kind === 'tcp' && req.method === 'POST' && (m = EXEC_START.exec(url.pathname))) {
    const id = decodeURIComponent(m[2]!);
    void (async () => {
      const body = await upgradeBody(req, socket, head);
      const e = await execs.start(id);
      if (body.Detach === true) { socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'); return; }
      const tty = !!e.req.tty;
      hijack(socket, tty, (out) => bridge(e.session, out, { ...e.attach, raw: tty, client: 'docker-exec', ...(tty ? { detachKeys: e.detachKeys } : {}) }));
    })().catch((e: unknown) => fail(e, 'exec start'));
    return true;
  }
  if (kind === 'websocket' && req.method === 'GET' && (m = ATTACH_WS.exec(url.pathname))) {
    let a: AttachTarget;
    try { a = attachTo(s, decodeURIComponent(m[2]!), url.searchParams); } catch (e) { fail(e, 'attach'); return true; }
    // docker sends text messages before API 1.42 and binary ones from it on
    const binary = !m[1] || Number(m[1].split('.')[1]) >= 42;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const input = bridge(a.se, wsOut(ws, binary), { ...a.want, raw: true, from: a.se.offsets(), client: 'docker-attach-ws', ...keysOf(a) });
      ws.on('message', (d: Buffer) => input.data(Buffer.from(d)));
      ws.on('close', () => input.gone());
      ws.on('error', () => undefined);
    });
    return true;
  }
  return false;
}

/** Attach without an upgrade: the output as the response body until the exit (stdin cannot come this way). */
export function registerDockerAttach(r: DockerRouter, s: Services): void {
  r.on('POST', '/containers/:id/attach', async ({ params, query, res }) => {
    const a = attachTo(s, params.id!, query);
    res.writeHead(200, { 'content-type': a.se.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    res.flushHeaders();
    const input = bridge(a.se, responseOut(res), { ...a.want, stdin: false, raw: a.se.tty, from: a.se.offsets(), client: 'docker-attach' });
    res.on('close', () => input.gone());
    return 'handled';
  });
}

interface AttachTarget { se: Session; want: { stdin: boolean; stdout: boolean; stderr: boolean }; detachKeys?: Buffer }

function attachTo(s: Services, ref: string, q: URLSearchParams): AttachTarget {
  const c = s.containers.get(ref);
  if (qbool(q, 'logs')) throw new SbxError('invalid_argument', 'attach: logs=1 is not supported by sbx (use GET /containers/{id}/logs)');
  const want = { stdin: qbool(q, 'stdin'), stdout: qbool(q, 'stdout'), stderr: qbool(q, 'stderr') };
  const keys = parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS);
  return { se: s.containers.session(c.config.id), want, ...(c.config.tty && want.stdin ? { detachKeys: keys } : {}) };
}

function keysOf(a: AttachTarget): { detachKeys?: Buffer } { return a.detachKeys ? { detachKeys: a.detachKeys } : {}; }

/** 101 UPGRADED, then the bridge on the socket: its bytes are stdin, its half-close stdin's end. */
function hijack(socket: Duplex, tty: boolean, start: (out: ReturnType<typeof socketOut>) => BridgeInput): void {
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.${tty ? 'raw' : 'multiplexed'}-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  const input = start(socketOut(socket));
  socket.on('data', (d: Buffer) => input.data(d));
  socket.on('end', () => input.eof());
  socket.on('close', () => input.gone());
  socket.on('error', () => undefined);
  socket.resume();
}
