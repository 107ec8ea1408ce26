/**
 * lendingGet (daemon/remotes/lending-get.ts): a blob's body read into recycled slabs. Checked
 * against real node:http/https servers: bytes and order, memory reused rather than allocated per
 * chunk, the answers it leaves to node:http (chunked), a connection that drops, an abort, TLS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { lendingGet } from '../daemon/remotes/lending-get.js';
import { Transport } from '../daemon/remotes/transport.js';
import { Authenticator } from '../daemon/remotes/auth.js';
import { must } from './_helpers/peers.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const BLOB = randomBytes(5 * 1024 * 1024 + 123);

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Sends `body` in pieces of 100 KiB, each after the previous was taken (many small socket reads). */
function sendInPieces(res: http.ServerResponse, body: Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { 'content-length': body.length, ...headers });
  let at = 0;
  const next = (): void => {
    if (at >= body.length) { res.end(); return; }
    const piece = body.subarray(at, at + 100 * 1024);
    at += piece.length;
    res.write(piece, next);
  };
  next();
}

async function serve(handler: Handler, tls?: { cert: Buffer; key: Buffer }): Promise<{ url: string; close(): Promise<void> }> {
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address() as { port: number };
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${a.port}`,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

const s = suite('lendingGet');

s('a body of Content-Length bytes arrives whole and in order, through a few reused buffers', async () => {
  const srv = await serve((req, res) => {
    assert.is(req.headers.authorization, 'Bearer t');
    sendInPieces(res, BLOB, { 'docker-content-digest': 'sha256:x' });
  });
  try {
    const r = await lendingGet(new URL(`${srv.url}/v2/a/blobs/x?y=1`), { authorization: 'Bearer t' });
    assert.ok(r, 'framed by Content-Length');
    assert.is(r.status, 200);
    assert.is(r.headers.get('Docker-Content-Digest'), 'sha256:x');
    const hash = createHash('sha256');
    const memory = new Set<ArrayBufferLike>();
    let chunks = 0;
    for await (const c of r.body) {
      hash.update(c);
      memory.add(c.buffer);
      chunks++;
      // A slow consumer: the socket fills the other slabs meanwhile, then waits.
      if (chunks % 2 === 0) await new Promise((res) => setTimeout(res, 5));
    }
    assert.is(hash.digest('hex'), sha(BLOB));
    assert.ok(memory.size <= 4, `chunks lived in ${memory.size} buffers, not one per chunk`);
    assert.ok(chunks >= 5, 'several chunks');
  } finally {
    await srv.close();
  }
});

s('a chunked answer is left to node:http; Transport.download still gives the bytes', async () => {
  const srv = await serve((_req, res) => { res.writeHead(200, { 'transfer-encoding': 'chunked' }); res.end(BLOB); });
  try {
    assert.is(await lendingGet(new URL(`${srv.url}/b`), {}), undefined);
    const t = new Transport(srv.url.replace('http://', ''), { auth: new Authenticator(async () => undefined) });
    const r = await t.download({ path: '/b', scope: '' });
    const hash = createHash('sha256');
    for await (const c of r.body) hash.update(c);
    assert.is(hash.digest('hex'), sha(BLOB));
  } finally {
    await srv.close();
  }
});

s('an error answer: status, headers and its small body', async () => {
  const srv = await serve((_req, res) => { res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}'); });
  try {
    const t = new Transport(srv.url.replace('http://', ''), { auth: new Authenticator(async () => undefined) });
    const r = await t.download({ path: '/c', scope: '' });
    assert.is(r.status, 404);
    assert.is(await Transport.explain(r), 'BLOB_UNKNOWN: blob unknown');
  } finally {
    await srv.close();
  }
});

s('a connection dropped mid-body fails the read with ECONNRESET (a transfer is then retried)', async () => {
  const srv = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': BLOB.length });
    res.write(BLOB.subarray(0, 1 << 20), () => res.socket?.destroy());
  });
  try {
    const r = await lendingGet(new URL(`${srv.url}/d`), {});
    let n = 0;
    const err = await (async () => { for await (const c of r!.body) n += c.length; })().then(() => undefined, (e: NodeJS.ErrnoException) => e);
    assert.is(err?.code, 'ECONNRESET');
    assert.match(err!.message, `of ${BLOB.length} bytes`);
    assert.ok(n <= 1 << 20);
  } finally {
    await srv.close();
  }
});

s('an abort stops a body that stalls', async () => {
  const srv = await serve((_req, res) => { res.writeHead(200, { 'content-length': BLOB.length }); res.write(BLOB.subarray(0, 1000)); });
  try {
    const ctl = new AbortController();
    const r = await lendingGet(new URL(`${srv.url}/e`), {}, { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('stop now')), 50);
    const err = await (async () => { for await (const _ of r!.body) { /* drain */ } })().then(() => undefined, (e: Error) => e);
    assert.is(err?.message, 'stop now');
  } finally {
    await srv.close();
  }
});

s('over TLS, with the certificate checked', async () => {
  const dir = await tmpdir('sbx-lending-tls-');
  try {
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]);
    const pem = { cert: await readFile(cert), key: await readFile(key) };
    const srv = await serve((_req, res) => sendInPieces(res, BLOB), pem);
    try {
      const untrusted = await lendingGet(new URL(`${srv.url}/f`), {}).then(() => undefined, (e: NodeJS.ErrnoException) => e);
      assert.ok(untrusted, 'a certificate nobody vouches for is refused');
      const r = await lendingGet(new URL(`${srv.url}/f`), {}, { ca: pem.cert });
      const hash = createHash('sha256');
      for await (const c of r!.body) hash.update(c);
      assert.is(hash.digest('hex'), sha(BLOB));
    } finally {
      await srv.close();
    }
  } finally {
    await rmrf(dir);
  }
});

s.run();
