/**
 * The diffID of a gzip layer while it is being stored: the stored chunks are also fed to gunzip
 * and what comes out is hashed, so digest and diffID are checked in one pass over the data (no
 * second read of the stored blob).
 *
 * Large layers are decompressed and hashed on a worker thread: the daemon's thread already
 * hashes the compressed bytes and drives the socket and the file writes, and a second sha256 of
 * 100 MB there costs ~80 ms that a pull on two cores can run alongside instead. A chunk is fed
 * once the store has hashed and written it, so it is moved to the worker rather than copied
 * when it owns its memory; at most `WINDOW` bytes are in flight. Small layers stay on the
 * daemon's thread (a worker costs ~30 ms to start).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import type { Digest } from '../../protocol/index.js';

export interface DiffIdHasher {
  /** The next chunk of the compressed layer (the caller no longer uses it). Await before the next. */
  feed(chunk: Buffer): Promise<void> | void;
  /** No more chunks. */
  end(): void;
  /** Give up (the copy failed or was cancelled); result() then rejects. */
  abort(): void;
  /** The sha256 of the decompressed bytes, once end() was called. Rejects if not gzip. */
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
  gunzip.on('data', (c: Buffer) => hash.update(c));
  const done = new Promise<Digest>((resolve, reject) => {
    gunzip.once('end', () => resolve(`sha256:${hash.digest('hex')}`));
    gunzip.on('error', (e) => { failed = true; reject(e); });
  });
  done.catch(() => {});
  return {
    // Not gzip after all: stop feeding it; the store still checks the digest.
    async feed(chunk) {
      if (failed || gunzip.write(chunk)) return;
      await Promise.race([once(gunzip, 'drain'), done.catch(() => {})]);
    },
    end() { if (!failed) gunzip.end(); },
    abort() { gunzip.destroy(new Error('stopped')); },
    result: () => done,
  };
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
  let failed = false;
  let inflight = 0;
  let waiting: (() => void) | undefined;
  const release = (): void => { const w = waiting; waiting = undefined; w?.(); };
  const stop = (): void => { failed = true; release(); if (!settled) void worker.terminate(); };
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
  return {
    async feed(chunk) {
      if (failed) return;
      const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
      inflight += chunk.length;
      worker.postMessage(chunk, own ? [chunk.buffer as ArrayBuffer] : []);
      if (inflight >= WINDOW) await new Promise<void>((r) => { waiting = r; });
    },
    end() { if (!failed) worker.postMessage(null); },
    abort: stop,
    result: () => done,
  };
}
