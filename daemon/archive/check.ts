/**
 * Byte streams that may or may not be tar archives, checked on the way through.
 *
 * - decompress(): sniff gzip by its magic and gunzip; plain bytes pass; other compressions are
 *   refused with a clear message. A truncated gzip stream fails.
 * - tarChecker(): a pass-through that parses the bytes as a tar (tar-stream) as they flow and
 *   fails at the first malformed header, at a truncated end, or at an entry ImageTreeCheck
 *   refuses (a name or hard link that escapes, a write through a symlink, ...). Its flush waits
 *   for the parser, so the consumer (e.g. ContentStore.write) sees the error before it can commit.
 * - ImageTreeCheck: what unpacking would refuse in an image's layers, checked as they stream.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type tar from 'tar-stream';
import { SbxError } from '../../protocol/index.js';
import { extractor } from './tar-stream-patches.js';
import { MAGIC_LENGTH, detectCompression } from './compression.js';

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
  while (head.length < MAGIC_LENGTH) {
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
  const compression = detectCompression(head);
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    rest.on('error', (e) => gunzip.destroy(e));
    const out = rest.pipe(gunzip);
    const wrapped = new Transform({ transform(c, _e, cb) { cb(null, c); } });
    out.on('error', (e) => wrapped.destroy(new SbxError('invalid_argument', `${what}: bad gzip data: ${e.message}`, { cause: e })));
    wrapped.on('error', () => undefined); // observed by whoever iterates it
    return { stream: out.pipe(wrapped), compressed: 'gzip', empty: false };
  }
  if (compression !== 'none') throw new SbxError('invalid_argument', `${what}: ${compression}-compressed input is not supported; decompress it first`);
  rest.on('error', () => undefined); // observed by whoever iterates it
  return { stream: rest, compressed: 'none', empty: false };
}

export function tarChecker(what: string): Transform & { entries(): number } {
  const extract = extractor();
  const tree = new ImageTreeCheck();
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
    try {
      tree.check(header);
    } catch (err) {
      const e = new SbxError('invalid_argument', `${what}: ${(err as Error).message}`);
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

/**
 * What unpacking an image's layers (archive/apply.ts) would refuse, found while each layer
 * streams by, so `sbx load` can refuse an image up front instead of tagging one that no
 * container can run. One instance per image; layers are checked in the image's order, since
 * whether "x/y" writes through a symlink depends on what the layers below left at "x".
 *
 * Refused, as apply refuses them: names that are absolute, climb out with "..", or hold a NUL;
 * a malformed whiteout (".wh." alone, ".wh..", ".wh..."); an entry whose parent is a symbolic
 * link or a non-directory (in this layer or below); a hard link whose target escapes or is not a
 * file of the image; a symlink without a target; a root entry that is not a directory; entry
 * types apply does not know; bytes that are not a tar; an empty layer.
 */
export class ImageTreeCheck {
  private readonly links = new Set<string>();
  private readonly files = new Set<string>();
  private readonly dirs = new Set<string>();

  /** Parse one layer's tar (uncompressed bytes) and check each entry; throws invalid_argument naming the entry. */
  async layer(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
    const ex = extractor();
    let size = 0;
    let entries = 0;
    const counted = (async function* () { for await (const c of chunks) { size += c.length; yield c; } })();
    const feeding = pipeline(counted, ex as unknown as NodeJS.WritableStream);
    let feedError: unknown;
    feeding.catch((e: unknown) => { feedError ??= e; });
    try {
      for await (const entry of ex) {
        entries++;
        this.check(entry.header);
        entry.resume();
      }
      await feeding;
      if (entries === 0 && size === 0) throw new SbxError('invalid_argument', 'empty, not a tar');
    } catch (e) {
      ex.destroy();
      await feeding.catch(() => undefined);
      const err = e instanceof SbxError || feedError === undefined ? e : feedError;
      if (err instanceof SbxError) throw err;
      throw new SbxError('invalid_argument', `not a valid tar: ${(err as Error).message}`, { cause: err });
    }
  }

  /** One entry, in order; throws invalid_argument "entry NAME: why". */
  check(h: tar.Header): void {
    const rel = clean(h.name, `entry ${JSON.stringify(h.name)}`);
    const slash = rel.lastIndexOf('/');
    const base = rel.slice(slash + 1);
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    const bad = (why: string): SbxError => new SbxError('invalid_argument', `entry ${JSON.stringify(h.name)}: ${why}`);
    if (base.startsWith('.wh.')) {
      const hidden = base.slice(4);
      if (hidden === '.wh..opq') { this.forgetUnder(parent); return; }
      if (hidden.startsWith('.wh.')) return; // aufs bookkeeping, ignored by apply too
      if (hidden === '' || hidden === '.' || hidden === '..') throw bad('malformed whiteout');
      this.forget(parent ? `${parent}/${hidden}` : hidden);
      return;
    }
    if (rel === '') {
      if (h.type !== 'directory') throw bad('the root must be a directory');
      return;
    }
    let cur = '';
    for (const comp of parent ? parent.split('/') : []) {
      cur = cur ? `${cur}/${comp}` : comp;
      if (this.links.has(cur)) throw bad(`parent ${JSON.stringify(cur)} is a symbolic link; refusing to write through it`);
      if (this.files.has(cur)) throw bad(`parent ${JSON.stringify(cur)} is not a directory`);
    }
    switch (h.type) {
      case 'directory':
        if (!this.dirs.has(rel)) this.forget(rel);
        this.dirs.add(rel);
        return;
      case 'symlink':
        if (!h.linkname || h.linkname.includes('\0')) throw bad('bad symlink target');
        this.forget(rel);
        this.links.add(rel);
        return;
      case 'link': {
        const target = clean(h.linkname ?? '', `hard link ${JSON.stringify(h.name)} to`);
        if (!this.files.has(target) && !this.links.has(target)) {
          throw bad(`hard link target ${JSON.stringify(h.linkname)} is not a file inside the image`);
        }
        this.forget(rel);
        this.files.add(rel);
        return;
      }
      case 'file': case 'contiguous-file': case 'character-device': case 'block-device': case 'fifo':
        this.forget(rel);
        this.files.add(rel);
        return;
      default:
        throw bad(`unsupported type ${h.type}`);
    }
  }

  /** `rel` is gone (a whiteout, or replaced): so is everything under it. */
  private forget(rel: string): void {
    this.links.delete(rel);
    this.files.delete(rel);
    if (this.dirs.delete(rel)) this.forgetUnder(rel);
  }

  /** Everything under directory `rel` is gone (an opaque whiteout, a deleted directory). */
  private forgetUnder(rel: string): void {
    const prefix = rel ? `${rel}/` : '';
    for (const set of [this.links, this.files, this.dirs]) {
      for (const p of set) if (p.startsWith(prefix)) set.delete(p);
    }
  }
}

/** A tar name as a root-relative path ("" for the root), or invalid_argument when it escapes. */
function clean(name: string, what: string): string {
  if (name.includes('\0')) throw new SbxError('invalid_argument', `${what}: contains a NUL byte`);
  if (name.startsWith('/')) throw new SbxError('invalid_argument', `${what}: absolute paths are not allowed`);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw new SbxError('invalid_argument', `${what}: ".." escapes the root`);
  return parts.join('/');
}
