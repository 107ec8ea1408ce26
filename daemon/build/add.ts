/**
 * What ADD does beyond COPY (docker's rules):
 * - a local source that is a tar archive (uncompressed, gzip, bzip2 or xz; told by its magic
 *   bytes and a valid first tar header, never by its name) is extracted into the destination
 *   directory, entries keeping the tar's modes and owners (--chown replaces them); a file that
 *   only looks compressed is copied as a file. Extraction goes through archive/apply.ts: no
 *   entry leaves the destination, no symlink is followed, the destination keeps its own metadata.
 * - an http(s) URL is fetched by the daemon into the build's scratch directory; `--checksum=
 *   sha256:HEX` is verified before anything is staged. The file is mode 0600 (unless --chmod),
 *   its mtime the response's Last-Modified, its name the URL path's last element when the
 *   destination is a directory. Remote archives are not extracted.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lchown, open, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SbxError } from '../../protocol/index.js';
import { applyLayer } from '../archive/apply.js';
import { MAGIC_LENGTH, detectCompression, type Compression } from '../archive/compression.js';

export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** Opens the tar inside `file` (decompressed); undefined when the file is no tar archive. */
export type ArchiveOpener = () => Readable;

export async function openArchive(file: string): Promise<ArchiveOpener | undefined> {
  const fh = await open(file, 'r');
  let head: Buffer;
  try {
    const b = Buffer.alloc(MAGIC_LENGTH);
    const { bytesRead } = await fh.read(b, 0, MAGIC_LENGTH, 0);
    head = b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const c = detectCompression(head);
  if (c === 'zstd') return undefined;
  const make = (): Readable => decompress(file, c);
  // a valid first header (or a first block of zeros is no archive, as Go's tar.Reader.Next says)
  const first = await readPrefix(make(), 512).catch(() => Buffer.alloc(0));
  return first.length === 512 && validHeader(first) ? make : undefined;
}

function decompress(file: string, c: Compression): Readable {
  const raw = createReadStream(file);
  if (c === 'none') return raw;
  if (c === 'gzip') {
    const gz = createGunzip();
    raw.on('error', (e) => gz.destroy(e));
    return raw.pipe(gz);
  }
  // bzip2 and xz have no decoder in node: the host's tools, fed the file on stdin
  const child = spawn(c === 'xz' ? 'xz' : 'bzip2', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const out = new PassThrough();
  raw.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  child.stdout.pipe(out, { end: false });
  child.on('error', (e) => out.destroy(e));
  child.on('close', (code) => (code === 0 ? out.end() : out.destroy(new Error(`${c} -dc: exit code ${code}`))));
  out.on('close', () => { if (child.exitCode === null) child.kill(); raw.destroy(); });
  return out;
}

async function readPrefix(s: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of s) {
      parts.push(chunk as Buffer);
      have += (chunk as Buffer).length;
      if (have >= n) break;
    }
  } finally {
    s.destroy();
  }
  return Buffer.concat(parts).subarray(0, n);
}

/** A ustar/gnu/v7 header: the checksum field matches the block's byte sum (checksum counted as spaces). */
function validHeader(b: Buffer): boolean {
  if (b.every((x) => x === 0)) return false;
  const field = b.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  return parseInt(field, 8) === sum;
}

/** Extract an archive (openArchive) into the existing host directory `destDir`; chown: every entry's owner. */
export async function extractArchive(make: ArchiveOpener, destDir: string, o: { chown?: { uid: number; gid: number }; signal?: AbortSignal; fail: (why: string) => SbxError; name: string }): Promise<void> {
  try {
    await applyLayer(destDir, make(), { whiteouts: 'remove', keepRoot: true, ...(o.signal ? { signal: o.signal } : {}) });
  } catch (e) {
    const err = SbxError.wrap(e, 'extract');
    throw o.fail(`ADD ${o.name}: ${err.message.replace(/^apply layer: /, '')}`);
  }
  if (o.chown) await chownTree(destDir, o.chown.uid, o.chown.gid);
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    await lchown(p, uid, gid);
    if (d.isDirectory()) await chownTree(p, uid, gid);
  }
}

export interface Downloaded {
  url: string;
  /** Host path of the fetched bytes (in the build's scratch directory). */
  file: string;
  /** The file name a directory destination gives it: the URL path's last element. */
  name: string;
  sha256: string;
  lastModified?: Date;
}

/**
 * Fetch `url` into `dir` (the caller's scratch directory). checksum: `sha256:HEX` the content
 * must hash to. Errors name the URL; the caller adds the line.
 */
export async function download(url: string, dir: string, o: { checksum?: string; signal?: AbortSignal; fail: (why: string) => SbxError; index: number }): Promise<Downloaded> {
  const want = o.checksum;
  if (want !== undefined && !/^sha256:[0-9a-f]{64}$/.test(want)) throw o.fail(`ADD --checksum=${want}: expected sha256:<64 hex digits>`);
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', ...(o.signal ? { signal: o.signal } : {}) });
  } catch (e) {
    o.signal?.throwIfAborted();
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw o.fail(`ADD ${url}: ${cause}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw o.fail(`ADD ${url}: invalid response status ${res.status}`);
  }
  const file = join(dir, `url-${o.index}`);
  const h = createHash('sha256');
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  body.on('data', (b: Buffer) => h.update(b));
  await pipeline(body, createWriteStream(file, { mode: 0o600 }), ...(o.signal ? [{ signal: o.signal }] : [])).catch((e: unknown) => {
    o.signal?.throwIfAborted();
    throw o.fail(`ADD ${url}: ${(e as Error).message}`);
  });
  const sha256 = h.digest('hex');
  if (want !== undefined && want !== `sha256:${sha256}`) {
    throw o.fail(`ADD ${url}: checksum mismatch: expected ${want}, got sha256:${sha256}`);
  }
  const lm = res.headers.get('last-modified');
  const lastModified = lm ? new Date(lm) : undefined;
  const base = posix.basename(new URL(url).pathname);
  const name = base && base !== '/' ? decodeURIComponent(base) : 'index';
  if (name.includes('/') || name === '..' || name === '.') throw o.fail(`ADD ${url}: cannot determine a file name from the URL`);
  return { url, file, name, sha256, ...(lastModified && !isNaN(lastModified.getTime()) ? { lastModified } : {}) };
}
