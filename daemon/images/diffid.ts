/**
 * The diffID of a gzip layer while it is being stored: a pass-through that also feeds the bytes
 * to gunzip and hashes what comes out, so digest and diffID are checked in one pass over the
 * data (no second read of the stored blob).
 *
 * Large layers are decompressed and hashed on a worker thread: the daemon's thread already
 * hashes the compressed bytes and drives the socket and the file writes, and a second sha256 of
 * 100 MB there costs ~80 ms that a pull on two cores can run alongside instead. The worker gets
 * a copy of each chunk (cheaper than the hash it saves) with at most `WINDOW` bytes in flight;
 * small layers stay on the daemon's thread (a worker costs ~30 ms to start).
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import type { Digest } from '../../protocol/index.js';

export interface DiffIdHasher {
  /** Put this in the stream being stored; it passes every chunk on unchanged. */
  through: Transform;
  /** The sha256 of the decompressed bytes, once `through` has ended. Rejects if not gzip. */
  result(): Promise<Digest>;
}

/** Layers at least this large are decompressed on a worker thread. */
export const WORKER_MIN = 8 * 1024 * 1024;
const WINDOW = 16 * 1024 * 1024;

export function diffIdHasher(size: number): DiffIdHasher {
  return size >= WORKER_MIN ? onWorker() : inline();
}

function inline(): DiffIdHasher {
  const hash = createHash('sha256');
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  let failed = false;
  let waiting: (() => void) | undefined;
  const release = (): void => { const w = waiting; waiting = undefined; w?.(); };
  gunzip.on('data', (c: Buffer) => hash.update(c));
  gunzip.on('drain', release);
  const done = new Promise<Digest>((resolve, reject) => {
    gunzip.once('end', () => resolve(`sha256:${hash.digest('hex')}`));
    gunzip.on('error', (e) => { failed = true; release(); reject(e); });
  });
  done.catch(() => {});
  // Not gzip after all: stop feeding it; the bytes still flow to the store, which checks the digest.
  const through = new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (failed || gunzip.write(chunk)) { cb(null, chunk); return; }
      waiting = () => cb(null, chunk);
    },
    flush(cb) { if (!failed) gunzip.end(); cb(); },
    destroy(err, cb) { if (err) gunzip.destroy(); cb(err); },
  });
  return { through, result: () => done };
}

// CommonJS, evaluated in the worker: gunzip what arrives, hash the output, ack each chunk once
// consumed (flow control), post the digest at the end or the first error.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createGunzip } = require('node:zlib');
const { createHash } = require('node:crypto');
const hash = createHash('sha256');
const gunzip = createGunzip({ chunkSize: 1 << 20 });
let failed = false;
gunzip.on('data', (c) => hash.update(c));
gunzip.on('end', () => parentPort.postMessage({ digest: 'sha256:' + hash.digest('hex') }));
gunzip.on('error', (e) => { failed = true; parentPort.postMessage({ error: e.message }); });
parentPort.on('message', (m) => {
  if (failed) return;
  if (m === null) { gunzip.end(); return; }
  const n = m.length;
  gunzip.write(m, () => parentPort.postMessage({ ack: n }));
});
`;

function onWorker(): DiffIdHasher {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  let settled = false;
  let ended = false;
  let inflight = 0;
  let failed = false;
  let waiting: (() => void) | undefined;
  const release = (): void => { const w = waiting; waiting = undefined; w?.(); };
  const done = new Promise<Digest>((resolve, reject) => {
    worker.on('message', (m: { ack?: number; digest?: Digest; error?: string }) => {
      if (m.ack !== undefined) { inflight -= m.ack; if (inflight < WINDOW) release(); return; }
      settled = true;
      if (m.digest) resolve(m.digest);
      else { failed = true; release(); reject(new Error(m.error)); }
      void worker.terminate();
    });
    worker.once('error', (e) => { failed = true; release(); reject(e); });
    worker.once('exit', (code) => { failed = true; release(); reject(new Error(`decompression worker exited (${code})`)); });
  });
  done.catch(() => {});
  const through = new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (failed) { cb(null, chunk); return; }
      worker.postMessage(chunk);
      inflight += chunk.length;
      if (inflight < WINDOW) cb(null, chunk);
      else waiting = () => cb(null, chunk);
    },
    flush(cb) { ended = true; if (!failed) worker.postMessage(null); cb(); },
    // Ended early (the store refused the bytes, the copy was cancelled): stop the worker.
    destroy(err, cb) { if (!settled && (err || !ended)) void worker.terminate(); cb(err); },
  });
  return { through, result: () => done };
}
