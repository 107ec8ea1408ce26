/**
 * Byte streams that may or may not be tar archives, checked on the way through.
 *
 * - decompress(): sniff gzip by its magic and gunzip; plain bytes pass; other compressions are
 *   refused with a clear message. A truncated gzip stream fails.
 * - tarChecker(): a pass-through that parses the bytes as a tar (tar-stream) as they flow and
 *   fails at the first malformed header, at a truncated end, or at an entry whose name or hard
 *   link target is absolute or climbs out with "..". Its flush waits for the parser, so the
 *   consumer (e.g. ContentStore.write) sees the error before it can commit.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { SbxError } from '../../protocol/index.js';

/** "etc/passwd" style, or the reason it is unsafe. */
export function unsafePath(name: string): string | undefined {
  if (name.startsWith('/')) return 'an absolute path';
  if (name.split('/').includes('..')) return 'a ".." component';
  if (name.includes('\0')) return 'a NUL byte';
  return undefined;
}

export async function decompress(body: AsyncIterable<Buffer>, what: string): Promise<{ stream: Readable; compressed: 'gzip' | 'none'; empty: boolean }> {
  const it = body[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  const firsts: Buffer[] = [];
  while (head.length < 6) {
    const { value, done } = await it.next();
    if (done) break;
    const b = Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
    firsts.push(b);
    head = Buffer.concat([head, b]);
  }
  const rest = Readable.from((async function* () {
    for (const b of firsts) yield b;
    for (;;) {
      const { value, done } = await it.next();
      if (done) return;
      yield value as Buffer;
    }
  })(), { objectMode: false });
  if (head.length === 0) return { stream: rest, compressed: 'none', empty: true };
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    rest.on('error', (e) => gunzip.destroy(e));
    const out = rest.pipe(gunzip);
    const wrapped = new Transform({ transform(c, _e, cb) { cb(null, c); } });
    out.on('error', (e) => wrapped.destroy(new SbxError('invalid_argument', `${what}: bad gzip data: ${e.message}`, { cause: e })));
    wrapped.on('error', () => undefined); // observed by whoever iterates it
    return { stream: out.pipe(wrapped), compressed: 'gzip', empty: false };
  }
  const magic = head.subarray(0, 6);
  if (magic.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) throw new SbxError('invalid_argument', `${what}: xz-compressed input is not supported; decompress it first`);
  if (magic.subarray(0, 3).toString('latin1') === 'BZh') throw new SbxError('invalid_argument', `${what}: bzip2-compressed input is not supported; decompress it first`);
  if (magic.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) throw new SbxError('invalid_argument', `${what}: zstd-compressed input is not supported; decompress it first`);
  rest.on('error', () => undefined); // observed by whoever iterates it
  return { stream: rest, compressed: 'none', empty: false };
}

export function tarChecker(what: string): Transform & { entries(): number } {
  const extract = tar.extract();
  let entries = 0;
  let failure: Error | undefined;
  // 'close' follows 'error' when the parser fails; settle a tick later so errors are recorded first.
  const done = new Promise<void>((resolve) => {
    extract.on('close', () => setImmediate(resolve));
    extract.on('finish', () => setImmediate(resolve));
    extract.on('error', (e: Error) => { failure ??= e; setImmediate(resolve); });
  });
  extract.on('entry', (header, stream, next) => {
    entries++;
    stream.on('error', (e: Error) => { failure ??= e; });
    const why = unsafePath(header.name) ?? (header.type === 'link' && header.linkname ? unsafePath(header.linkname) : undefined);
    if (why) {
      const e = new SbxError('invalid_argument', `${what}: entry "${header.name}" has ${why}`);
      failure ??= e;
      extract.destroy(e);
      return;
    }
    stream.on('end', () => next());
    stream.resume();
  });
  const bad = (e: Error): SbxError => (e instanceof SbxError ? e : new SbxError('invalid_argument', `${what}: not a valid tar archive: ${e.message}`, { cause: e }));
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (failure) { cb(bad(failure)); return; }
      const ok = extract.write(chunk);
      if (ok) cb(null, chunk);
      else {
        let called = false;
        const go = (): void => { if (called) return; called = true; cb(failure ? bad(failure) : null, failure ? undefined : chunk); };
        extract.once('drain', go);
        extract.once('close', go);
      }
    },
    flush(cb: TransformCallback) {
      (extract as unknown as { end(): void }).end();
      void done.then(() => cb(failure ? bad(failure) : null));
    },
  }) as Transform & { entries(): number };
  t.entries = () => entries;
  return t;
}
