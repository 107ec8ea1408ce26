/**
 * lendingGet: one HTTP/1.1 GET on its own connection whose body is read by the socket straight
 * into a few recycled 1 MiB slabs (net.Socket's `onread`) and lent to the consumer (see
 * util/lent.ts). node:http's parser copies every body chunk into a fresh Buffer: for a 100 MB
 * layer that was ~1,600 new 64 KiB buffers, their page faults and the major GCs they caused,
 * most of sbxd's CPU during a pull. Here a read fills up to a slab's free space (~100 reads per
 * 100 MB on loopback), and nothing is allocated per chunk.
 *
 * It reads only the answers it can frame with certainty: a status line, headers, and a body of
 * exactly Content-Length bytes (what registries and blob storage send for blobs). Anything else
 * (chunked, no length, 1xx) resolves to undefined and the caller asks again through node:http.
 * `Connection: close`: the socket ends with the answer.
 */
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { SlabPool, type LentChunks } from '../util/lent.js';

export interface LentReply {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  /** The body, once; each chunk valid until the next is asked for. */
  readonly body: LentChunks;
  /** Close the connection without reading the rest. */
  discard(): Promise<void>;
}

export interface LendingGetOptions {
  signal?: AbortSignal;
  /** Slab size (default 1 MiB) and count (default 4: one lent, the others filling). */
  slab?: number;
  slabs?: number;
  /** Certificates to trust besides the system's (tests; NODE_EXTRA_CA_CERTS does the same for the process). */
  ca?: string | Buffer;
}

const MAX_HEAD = 64 * 1024;
/** A slab with less room than this is handed over rather than read into again. */
const MIN_READ = 64 * 1024;

function netError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

interface Head { status: number; headers: Map<string, string>; length: number }

/** The head of an answer this reader can frame, null for one it cannot, undefined if incomplete. */
function parseHead(buf: Buffer, end: number): { head: Head | null; bodyAt: number } | undefined {
  const at = buf.subarray(0, end).indexOf('\r\n\r\n');
  if (at < 0) return undefined;
  const lines = buf.subarray(0, at).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!m) throw netError(`malformed HTTP status line "${(lines[0] ?? '').slice(0, 80)}"`, 'EPROTO');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw netError('malformed HTTP header line', 'EPROTO');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  }
  const status = Number(m[1]);
  const len = headers.get('content-length');
  const framed = status >= 200 && !headers.has('transfer-encoding') && (len === undefined ? status === 204 || status === 304 : /^\d{1,15}$/.test(len));
  return { head: framed ? { status, headers, length: len === undefined ? 0 : Number(len) } : null, bodyAt: at + 4 };
}

/** GET `url`; undefined when the answer is not one this reader frames (ask through node:http). */
export function lendingGet(url: URL, headers: Record<string, string>, opts: LendingGetOptions = {}): Promise<LentReply | undefined> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const size = opts.slab ?? 1 << 20;
  const pool = new SlabPool(size, opts.slabs ?? 4);
  let cur = pool.take()!;
  let off = 0;
  let head: Head | undefined;
  let left = 0;
  let finished = false;
  let paused = false;
  let failure: Error | undefined;
  const ready: { slab: Buffer; n: number }[] = [];
  let wake: (() => void) | undefined;
  const poke = (): void => { const w = wake; wake = undefined; w?.(); };

  return new Promise<LentReply | undefined>((resolve, reject) => {
    let settled = false;
    const fail = (e: Error): void => {
      if (finished || failure) return;
      failure = e;
      socket.destroy();
      if (!settled) { settled = true; reject(e); }
      poke();
    };
    const hand = (): void => {
      if (off > 0) ready.push({ slab: cur, n: off });
      poke();
    };
    const onread = {
      buffer: () => cur.subarray(off, head ? off + Math.min(left, size - off) : size),
      callback: (nread: number): boolean => {
        off += nread;
        if (!head) {
          let parsed;
          try { parsed = parseHead(cur, off); } catch (e) { fail(e as Error); return false; }
          if (!parsed) {
            if (off >= MAX_HEAD) fail(netError(`HTTP answer head larger than ${MAX_HEAD} bytes`, 'EPROTO'));
            return !failure;
          }
          settled = true;
          if (!parsed.head) { finished = true; socket.destroy(); resolve(undefined); return false; }
          head = parsed.head;
          cur.copyWithin(0, parsed.bodyAt, off);
          off -= parsed.bodyAt;
          // Bytes past the body (there should be none: Connection: close) are not the blob's.
          if (off > head.length) off = head.length;
          left = head.length - off;
          resolve(reply(head));
        } else {
          left -= nread;
        }
        if (left === 0) {
          finished = true;
          hand();
          socket.destroy();
          return false;
        }
        if (size - off < MIN_READ) {
          hand();
          cur = pool.take()!;
          off = 0;
          // The slab just taken is where the socket reads next; with none left in reserve, wait
          // until the consumer gives one back.
          if (pool.available === 0) { paused = true; return false; }
        }
        return true;
      },
    };
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket: net.Socket = url.protocol === 'https:'
      // tls.connect passes `onread` to its socket as net.connect does (Node's types omit it).
      ? process.getBuiltinModule('node:tls').connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'], onread, ...(opts.ca ? { ca: opts.ca } : {}) } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    socket.setNoDelay(true);
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
    for (const [k, v] of Object.entries(headers)) {
      if (/[\r\n]/.test(k + v)) { fail(netError(`header ${k}: line breaks are not allowed`, 'EINVAL')); return; }
      lines.push(`${k}: ${v}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    socket.on('error', (e) => fail(e));
    socket.on('end', () => fail(netError(head ? `connection closed after ${head.length - left} of ${head.length} bytes` : 'connection closed before an answer', 'ECONNRESET')));
    socket.on('close', () => fail(netError('connection closed', 'ECONNRESET')));
    const onAbort = (): void => fail(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => signal?.removeEventListener('abort', onAbort));

    function reply(h: Head): LentReply {
      let taken = false;
      const cancel = (e?: Error): void => {
        if (finished) return;
        fail(e ?? new Error('download cancelled'));
      };
      const body: LentChunks = {
        lent: true,
        cancel,
        async *[Symbol.asyncIterator]() {
          if (taken) throw new Error('the body of an answer can be read once');
          taken = true;
          let lentSlab: Buffer | undefined;
          try {
            for (;;) {
              if (lentSlab) {
                pool.give(lentSlab);
                lentSlab = undefined;
                if (paused && !finished && !failure) { paused = false; socket.resume(); }
              }
              while (!ready.length && !finished && !failure) await new Promise<void>((r) => { wake = r; });
              const next = ready.shift();
              if (next) { lentSlab = next.slab; yield next.slab.subarray(0, next.n); continue; }
              if (failure) throw failure;
              return;
            }
          } finally {
            if (!finished) cancel();
          }
        },
      };
      return {
        status: h.status,
        headers: { get: (name) => h.headers.get(name.toLowerCase()) ?? null },
        body,
        discard: async () => { if (!finished) cancel(); },
      };
    }
  });
}
