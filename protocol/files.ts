/**
 * Files: copying into and out of a container and exporting its tree (docker's
 * `/containers/{id}/archive` and `/containers/{id}/export`), plus the copy rules `sbx cp` applies on
 * both sides (docker cp's trailing-slash and "/." rules), pure so both directions and the tests
 * share them.
 *
 * - stat: what a container path is, in docker's ContainerPathStat shape (Go FileMode bits in
 *   `mode`), links inside the path followed within the container's root; `follow` follows a
 *   symlink at the last component too. not_found: "Could not find the file P in container C".
 * - archive (GET): a tar of the path: one top entry named after the path's last component (a
 *   directory's children under it); the X-Docker-Container-Path-Stat header carries the stat as
 *   base64 JSON, as docker's does.
 * - extract (PUT): a tar extracted into `path`, an existing directory of the container (links
 *   followed within the root): entries owned by root unless `copyUIDGID`; a directory never
 *   replaces a non-directory or the reverse. Written through the container's own tree, so the
 *   files show in `sbx diff`, the change journal and a commit.
 * - export (GET): the container's whole merged tree as a tar (no whiteouts).
 */
import { route } from './api.js';
import { bool, opt, str } from './validate.js';

/** docker's ContainerPathStat. */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus type bits (GO_MODE). */
  mode: number;
  /** RFC 3339. */
  mtime: string;
  /** For a symlink: its target; for a path resolved through links: the path it resolved to. */
  linkTarget: string;
}

/** Go's os.FileMode type bits (docker sends them in PathStat.mode). */
export const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 } as const;

export function statIsDir(s: Pick<PathStat, 'mode'>): boolean { return s.mode >= GO_MODE.dir; }
export function statIsSymlink(s: Pick<PathStat, 'mode'>): boolean { return Math.floor(s.mode / GO_MODE.symlink) % 2 === 1; }

export const PATH_STAT_HEADER = 'x-docker-container-path-stat';

export interface ArchiveRequest { id: string; path: string; follow?: boolean }
export interface ExtractRequest { id: string; path: string; copyUIDGID?: boolean; noOverwriteDirNonDir?: boolean }

export const Files = {
  stat: route<ArchiveRequest, PathStat>('GET', '/v1/containers/:id/archive/stat', 'json', { id: str, path: str, follow: opt(bool) }),
  archive: route<ArchiveRequest, void>('GET', '/v1/containers/:id/archive', 'download', { id: str, path: str, follow: opt(bool) }),
  extract: route<ExtractRequest, void>('PUT', '/v1/containers/:id/archive', 'upload',
    { id: str, path: str, copyUIDGID: opt(bool), noOverwriteDirNonDir: opt(bool) }),
  export: route<{ id: string }, void>('GET', '/v1/containers/:id/export', 'download', { id: str }),
} as const;

// ---------------------------------------------------------------------------------------------
// docker cp's rules (archive.CopyInfo / PrepareArchiveCopy), the same for both directions.

export interface CopySource {
  /** Is the source a directory? */
  isDir: boolean;
  /** The source's last component (after following, the name the user gave). */
  name: string;
  /** The source path ended in "/." : copy a directory's contents, not the directory. */
  contentsOnly: boolean;
}

export interface CopyDest {
  /** The destination path as given (a trailing "/" matters). */
  path: string;
  exists: boolean;
  isDir: boolean;
}

/**
 * Where to extract and how to name the archive's top entry: `dir` is an existing directory;
 * entries named `from` (or `from/...`) become `to` (`to` '' : the top directory's children go
 * straight into `dir`, the top entry itself is dropped).
 */
export interface CopyPlan { dir: string; from: string; to: string }

export type CopyVerdict = { plan: CopyPlan } | { error: string };

export function copyPlan(src: CopySource, dst: CopyDest): CopyVerdict {
  const endsSlash = dst.path.length > 1 && dst.path.endsWith('/');
  const clean = trimSlash(dst.path);
  if (dst.exists && dst.isDir) {
    return { plan: { dir: clean, from: src.name, to: src.isDir && src.contentsOnly ? '' : src.name } };
  }
  if (dst.exists) {
    if (src.isDir) return { error: 'cannot copy a directory to a file' };
    if (endsSlash) return { error: `${dst.path}: not a directory` };
    return { plan: { dir: dirOf(clean), from: src.name, to: baseOf(clean) } };
  }
  if (!src.isDir && endsSlash) return { error: 'no such directory' };
  return { plan: { dir: dirOf(clean), from: src.name, to: baseOf(clean) } };
}

/** Split "c1:/path" (docker's rule: a path with a ":" before any "/" names a container). */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { path: arg };
  const slash = arg.indexOf('/');
  if (slash >= 0 && slash < i) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** Does the path ask for a directory's contents ("dir/." or "dir/./")? */
export function endsWithDot(p: string): boolean {
  return /(^|\/)\.\/?$/.test(p);
}

function trimSlash(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t;
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : p.slice(0, i);
}

function baseOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}
