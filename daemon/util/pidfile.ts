/**
 * One sbxd per root. `claimRoot(root)` creates `$root/sbxd.pid` exclusively and returns its
 * release; a second daemon on the same root gets `already_exists` naming the running one's pid,
 * so it never takes over the socket or runs recovery (which kills "orphaned" containers) under
 * a live daemon. A pid file left by a daemon that died is taken over.
 */
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SbxError } from '../../protocol/index.js';

export function claimRoot(root: string): () => void {
  const file = join(root, 'sbxd.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const other = Number(readFileSync(file, 'utf8').trim());
      if (other > 0 && other !== process.pid && isDaemon(other)) {
        throw new SbxError('already_exists', `start sbxd on ${root}: another sbxd (pid ${other}) is already running on this root; stop it first or use another SBX_ROOT`);
      }
      rmSync(file, { force: true }); // stale: its daemon died
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    fsyncSync(fd);
    closeSync(fd);
    return () => {
      try { if (Number(readFileSync(file, 'utf8').trim()) === process.pid) rmSync(file, { force: true }); } catch { /* gone */ }
    };
  }
  throw new SbxError('unavailable', `start sbxd on ${root}: could not claim ${file}`);
}

function isDaemon(pid: number): boolean {
  try {
    // a zombie has an empty command line; a recycled pid rarely runs node
    return /node|sbxd/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch { return false; }
}
