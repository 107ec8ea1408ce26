/**
 * The build context as COPY/ADD see it: `.dockerignore`, the source list of one instruction
 * resolved against a directory (the unpacked context, or a stage's rootfs for --from), and the
 * content checksum that keys the step's cache. The only module of daemon/dockerfile/ that reads
 * the disk.
 *
 * Checksum (what ends up in the layer, nothing else): per entry its destination-relative path,
 * type, mode (the --chmod value when given, so the source mode cannot bust the cache, unlike
 * moby/buildkit#4374), owner (--chown, else 0:0 for the context as docker writes it, or the
 * source owner with keepOwner for --from), symlink target and the sha256 of the content. No
 * mtime (touch keeps the cache). A directory's own mode counts (moby/buildkit#7176) and every
 * source is in it (moby/buildkit#853).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, isAbsolute, join, posix } from 'node:path';
import dockerignore from '@balena/dockerignore';
import type { SbxError } from '../../protocol/index.js';
import { fail } from './lexer.js';
import type { ContextEntry, ResolvedCopy, SourceRange } from './types.js';

export interface IgnoreMatcher {
  /** The patterns in effect (comments and blank lines dropped), and where they came from. */
  patterns: string[];
  file?: string;
  /** Whether a context-relative posix path (or one of its parents) is excluded. */
  ignores(path: string): boolean;
}

/** Parse .dockerignore text (docker's rules: # comments, blank lines, `!` exceptions, `**`, last match wins). */
export function parseIgnore(text: string, file?: string): IgnoreMatcher {
  const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const ig = patterns.length ? dockerignore.default({}).add(patterns) : undefined;
  return { patterns, ...(file ? { file } : {}), ignores: (p) => ig !== undefined && p !== '' && p !== '.' && ig.ignores(p) };
}

/**
 * The ignore file of a build: `<Dockerfile>.dockerignore` next to the Dockerfile wins over the
 * context's `.dockerignore` (buildkit); neither → nothing ignored. dockerfile may be absolute or
 * relative to the context.
 */
export async function loadIgnore(contextDir: string, dockerfile?: string): Promise<IgnoreMatcher> {
  const candidates = [
    ...(dockerfile ? [`${isAbsolute(dockerfile) ? dockerfile : join(contextDir, dockerfile)}.dockerignore`] : []),
    join(contextDir, '.dockerignore'),
  ];
  for (const f of candidates) {
    let text: string;
    try { text = await readFile(f, 'utf8'); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; throw e; }
    return parseIgnore(text, f);
  }
  return parseIgnore('');
}

export interface ResolveOptions {
  /** For error messages: the instruction's line. */
  src: SourceRange;
  ignore?: IgnoreMatcher;
  /** The destination was written as a directory (evaluate's dest ends in '/'). */
  destIsDir?: boolean;
  /** 'instruction' for the error text (COPY or ADD). */
  what?: string;
  /**
   * 'context' (default): a symlink leaving the root is an error. 'stage' (COPY --from, a
   * stage's rootfs): absolute targets and `..` resolve inside the root, as in the container.
   */
  scope?: 'context' | 'stage';
}

const GLOB_RE = /[*?[]/;

/**
 * Resolve one COPY/ADD source list against `root` into the entries to write. `..` or a symlink
 * leaving the root, a missing or ignored source, or a glob matching nothing is an error naming
 * the line. Sources are relative to the root (a leading '/' is the root). Directory sources copy
 * their contents (and their own metadata onto the destination directory, rel '').
 */
export async function resolveCopy(root: string, sources: readonly string[], opts: ResolveOptions): Promise<ResolvedCopy> {
  const mode = opts.scope === 'stage' ? 'clamp' : 'error';
  const ignored = (p: string): boolean => opts.ignore?.ignores(p) ?? false;
  const matches: { path: string; real: string; st: Stats }[] = [];
  for (const source of sources) {
    const norm = posix.normalize(source.replace(/^\/+/, '') || '.');
    if (norm === '..' || norm.startsWith('../')) throw fail(opts.src, `forbidden path outside the build context: ${source}`);
    const path = norm === '.' || norm === './' ? '' : norm.replace(/\/$/, '');
    if (GLOB_RE.test(path)) {
      const re = globRegExp(path);
      const found = (await walk(root, '', ignored)).filter((p) => re.test(p));
      if (found.length === 0) throw fail(opts.src, `no source files were specified (${source} matches nothing)`);
      for (const p of found) matches.push({ path: p, ...await followed(root, p, opts.src, mode) });
      continue;
    }
    if (path !== '' && ignored(path)) throw fail(opts.src, `"/${path}": not found (excluded by ${opts.ignore?.file ? basename(opts.ignore.file) : '.dockerignore'})`);
    matches.push({ path, ...await followed(root, path, opts.src, mode) });
  }
  const entries: ContextEntry[] = [];
  const single = matches.length === 1;
  const destIsDir = !!opts.destIsDir || !single || matches[0]!.st.isDirectory();
  if (!single && !opts.destIsDir) {
    throw fail(opts.src, `When using ${opts.what ?? 'COPY'} with more than one source file, the destination must be a directory and end with a /`);
  }
  for (const { path, real, st } of matches) {
    // entries name what to read (the resolved path) and where it goes (from the name written)
    if (!st.isDirectory()) { entries.push({ ...entry(real, destIsDir ? posix.basename(path) : '', st), source: true }); continue; }
    entries.push(entry(real, '', st));
    for (const p of await walk(root, real, ignored)) {
      const lst = await lstat(join(root, p));
      entries.push(entry(p, real === '' ? p : p.slice(real.length + 1), lst, lst.isSymbolicLink() ? await readlink(join(root, p)) : undefined));
    }
  }
  const sumKind = !single ? 'multi' : matches[0]!.st.isDirectory() ? 'dir' : 'file';
  return { entries, destIsDir, sumKind };
}

/** The cache checksum of a resolved copy (see the header for what it covers). `sha256:<hex>`. */
export async function copyChecksum(root: string, resolved: ResolvedCopy, opts: { chmod?: string; chown?: string; keepOwner?: boolean } = {}): Promise<string> {
  const h = createHash('sha256');
  const mode = opts.chmod !== undefined ? parseInt(opts.chmod, 8) : undefined;
  for (const e of resolved.entries) {
    const owner = opts.chown ?? (opts.keepOwner ? `${e.uid}:${e.gid}` : '0:0');
    const content = e.type === 'file' ? await fileDigest(join(root, e.path)) : '';
    h.update(JSON.stringify([e.rel, e.type, mode ?? e.mode, owner, e.linkTarget ?? '', content]) + '\n');
  }
  return `sha256:${h.digest('hex')}`;
}

/**
 * One path inside `root` with its symlinks followed inside the root (see followed): 'context'
 * refuses a link leaving it, 'stage' clamps it (RUN --mount=type=bind,from=…). Root-relative.
 */
export async function resolveInRoot(root: string, path: string, src: SourceRange, scope: 'context' | 'stage'): Promise<string> {
  const norm = posix.normalize(path.replace(/^\/+/, '') || '.');
  if (scope === 'context' && (norm === '..' || norm.startsWith('../'))) throw fail(src, `forbidden path outside the build context: ${path}`);
  return (await followed(root, norm === '.' ? '' : norm.replace(/\/$/, ''), src, scope === 'context' ? 'error' : 'clamp')).real;
}

function entry(path: string, rel: string, st: Stats, linkTarget?: string): ContextEntry {
  const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file';
  return { path, rel, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0, ...(linkTarget !== undefined ? { linkTarget } : {}) };
}

/**
 * Resolve a top-level source inside `root`, following symlinks one component at a time with the
 * root as "/" (docker's FollowSymlinkInScope): an absolute target or a `..` above the root is an
 * error for the context ('error') and clamped to the root for another stage's rootfs ('clamp'),
 * so a link in a stage can never reach a host file. Returns the resolved root-relative path.
 */
async function followed(root: string, path: string, src: SourceRange, escape: 'error' | 'clamp'): Promise<{ real: string; st: Stats }> {
  let parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const out: string[] = [];
  let hops = 0;
  const outside = (): SbxError => fail(src, `"/${path}": symlink points outside the build context`);
  while (parts.length) {
    const name = parts.shift()!;
    if (name === '..') {
      if (out.length === 0 && escape === 'error') throw outside();
      out.pop();
      continue;
    }
    const cur = [...out, name].join('/');
    const st = await lstat(join(root, cur)).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined; throw e; });
    if (!st) throw fail(src, hops ? `"/${path}": symlink target not found` : `"/${path}": not found`);
    if (st.isSymbolicLink()) {
      if (++hops > 40) throw fail(src, `"/${path}": too many levels of symbolic links`);
      const target = await readlink(join(root, cur));
      if (target.startsWith('/')) {
        if (escape === 'error') throw outside();
        out.length = 0;
      }
      parts = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...parts];
      continue;
    }
    if (parts.length && !st.isDirectory()) throw fail(src, `"/${path}": not found`);
    out.push(name);
  }
  const real = out.join('/');
  const st = await lstat(join(root, real));
  if (!st.isFile() && !st.isDirectory()) throw fail(src, `"/${path}": not a regular file or directory`);
  return { real, st };
}

/** Every non-ignored path under root/dir (posix, root-relative), parents before children, sorted. */
async function walk(root: string, dir: string, ignored: (p: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const names = (await readdir(join(root, dir), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of names) {
    const p = dir === '' ? d.name : `${dir}/${d.name}`;
    // an excluded directory is still walked: a `!` exception may bring back something inside it
    if (!ignored(p)) out.push(p);
    if (d.isDirectory()) out.push(...await walk(root, p, ignored));
  }
  return out;
}

/** Go filepath.Match as a RegExp over a whole posix path: * and ? never cross '/', [..] classes, \ escapes. */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) re += '\\' + pattern[++i];
    else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function fileDigest(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('error', reject).on('data', (b) => h.update(b)).on('end', () => resolve(h.digest('hex')));
  });
}
