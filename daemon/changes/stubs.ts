/**
 * Paths the runtime itself puts in a container's root: mount points for /proc, /sys, /dev and the
 * bind-mounted /etc files. docker keeps them in a separate "-init" layer, so they never show in
 * `docker diff` nor enter a commit; sbx leaves them out of diffs, journals and commits instead.
 */
import dockerignore from '@balena/dockerignore';
import { SbxError } from '../../protocol/index.js';

export const MOUNT_STUBS: readonly string[] = ['/proc', '/sys', '/dev', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];

const STUBS = new Set(MOUNT_STUBS);

export function isMountStub(path: string): boolean {
  return STUBS.has(path);
}

/**
 * `--exclude GLOB` patterns (dockerignore syntax, rooted at the container's "/": "/var/cache",
 * "tmp/**", "*.log") plus the mount stubs, as one predicate over container paths.
 * @throws invalid_argument for an empty or malformed pattern
 */
export function excludeFilter(patterns: readonly string[] = []): (path: string) => boolean {
  const cleaned = patterns.map((p) => {
    if (typeof p !== 'string' || p.trim() === '' || p.includes('\0')) throw new SbxError('invalid_argument', `exclude ${JSON.stringify(p)}: not a path pattern`);
    return p.trim().replace(/^\/+/, '');
  });
  const ig = cleaned.length ? dockerignore.default({}).add(cleaned) : undefined;
  return (path: string) => STUBS.has(path) || (ig !== undefined && ig.ignores(path.slice(1)));
}
