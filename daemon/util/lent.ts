/**
 * Lent chunks: bytes handed over in buffers that their producer reuses. A chunk is valid only
 * until the consumer asks for the next one; by then it must have been used up (hashed, written,
 * sent). A blob then moves through a few fixed buffers instead of a fresh one per read: no copy
 * into new memory, no page faults on it and no garbage to collect per chunk (on this machine's VM
 * those were most of a pull's CPU: node:http copies every body chunk into a new Buffer).
 *
 * Every consumer of lent chunks in sbxd uses each chunk up before asking for the next (the
 * content store writes it, an upload waits for the socket to take it); one that has to keep
 * chunks (a buffer, a stream) copies them first: toReadable().
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

export interface LentChunks extends AsyncIterable<Uint8Array> {
  readonly lent: true;
  /** Give up on the rest (frees the connection or file behind it); harmless after the end. */
  cancel(reason?: Error): void;
}

export function isLent(x: unknown): x is LentChunks {
  return typeof x === 'object' && x !== null && (x as { lent?: unknown }).lent === true;
}

/** A stream's own chunks, as lent ones (nothing reuses them, so the contract holds trivially). */
export function lendStream(stream: Readable): LentChunks {
  return { lent: true, cancel: (e) => { stream.destroy(e); }, [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator]() };
}

/** Lent chunks that report the running byte count after each chunk is used up (for progress). */
export function countLent(src: LentChunks, onBytes: (n: number) => void, everyMs = 100): LentChunks {
  return {
    lent: true,
    cancel: (e) => src.cancel(e),
    async *[Symbol.asyncIterator]() {
      let n = 0;
      let last = 0;
      for await (const c of src) {
        yield c;
        n += c.length;
        const now = Date.now();
        if (now - last > everyMs) { last = now; onBytes(n); }
      }
      onBytes(n);
    },
  };
}

/** A stream of copies of the chunks, for a consumer that keeps them. */
export function toReadable(body: Readable | LentChunks): Readable {
  if (!isLent(body)) return body;
  return Readable.from((async function* () {
    for await (const c of body) yield Buffer.from(c);
  })(), { objectMode: false });
}

/**
 * A fixed set of `count` buffers of `size` bytes handed out and given back: `take()` returns a
 * free one or undefined. They are allocated once per transfer (outside V8's heap), so a long
 * transfer touches the same few MiB over and over.
 */
export class SlabPool {
  private readonly free: Buffer[];

  constructor(readonly size: number, count: number) {
    this.free = Array.from({ length: count }, () => Buffer.allocUnsafeSlow(size));
  }

  take(): Buffer | undefined { return this.free.pop(); }
  give(b: Buffer): void { this.free.push(b); }
  get available(): number { return this.free.length; }
}

async function readFully(fh: FileHandle, buf: Buffer, len: number, at: number): Promise<void> {
  for (let got = 0; got < len;) {
    const { bytesRead } = await fh.read(buf, got, len - got, at + got);
    if (bytesRead === 0) throw Object.assign(new Error(`file ended ${len - got} bytes early`), { code: 'EIO' });
    got += bytesRead;
  }
}

/**
 * A file's bytes as lent chunks of up to `slab` bytes, read ahead into `slabs - 1` more while
 * the consumer uses one (reads at their own offsets run on libuv's pool meanwhile).
 */
export function lendFile(path: string, opts: { slab?: number; slabs?: number } = {}): LentChunks {
  const size = opts.slab ?? 1 << 20;
  let cancelled: Error | undefined;
  return {
    lent: true,
    cancel: (e) => { cancelled ??= e ?? new Error('cancelled'); },
    async *[Symbol.asyncIterator]() {
      const fh = await open(path, 'r');
      const pool = new SlabPool(size, opts.slabs ?? 3);
      const queue: Promise<{ slab: Buffer; n: number }>[] = [];
      try {
        const end = (await fh.stat()).size;
        let pos = 0;
        const ahead = (): void => {
          while (pos < end && pool.available > 0) {
            const slab = pool.take()!;
            const at = pos;
            const n = Math.min(size, end - at);
            pos += n;
            const p = readFully(fh, slab, n, at).then(() => ({ slab, n }));
            p.catch(() => undefined);
            queue.push(p);
          }
        };
        ahead();
        while (queue.length) {
          if (cancelled) throw cancelled;
          const { slab, n } = await queue.shift()!;
          yield slab.subarray(0, n);
          pool.give(slab);
          ahead();
        }
      } finally {
        await Promise.allSettled(queue);
        await fh.close();
      }
    },
  };
}
