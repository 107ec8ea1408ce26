/**
 * Restart recovery (ContainerManager.open): a container recorded as running whose process is
 * gone is marked exited with the code its supervisor recorded; nothing stays mounted. Records
 * that cannot be read are removed with the container's writable layer.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import type { Logger } from '../util/log.js';
import type { Container } from './container.js';
import { readHealth } from './health.js';
import { ZERO_TIME, readRecords, writeState } from './records.js';
import { removeRootfs, type RootfsDeps } from './rootfs.js';

/** The container in directory root/id as it is now, or undefined when it was dropped. */
export async function recoverContainer(s: RootfsDeps & { log: Logger }, runtime: Runtime, root: string, id: string): Promise<Container | undefined> {
  const dir = join(root, id);
  if (id.startsWith('rm-') || id.startsWith('.')) { await rm(dir, { recursive: true, force: true }); return undefined; }
  let rec;
  try { rec = await readRecords(dir); } catch {
    s.log.warn('container records unreadable; removing', { id });
    await removeRootfs(s, id).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  const c: Container = { ...rec, dir, pid1: 0, execs: 0, exited: [] };
  const health = c.config.healthcheck ? await readHealth(dir) : undefined;
  // not running now: its monitor stopped, which docker shows as unhealthy
  if (health) c.health = { ...health, Status: 'unhealthy' };
  c.state.restarting = false; // a pending restart died with the last sbxd (manager.open decides again)
  if (c.state.status === 'running' || c.state.status === 'removing') {
    if (c.state.pid && runtime.alive(c.state.pid) && isOurs(c.state.pid, dir)) {
      try { process.kill(c.state.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    const e = await runtime.recordedExit(dir);
    c.state.status = 'exited';
    c.state.exitCode = e?.status ?? 255;
    c.state.error = e?.error?.message ?? (e ? '' : 'sbxd stopped while the container ran');
    c.state.finishedAt = c.state.finishedAt === ZERO_TIME ? new Date().toISOString() : c.state.finishedAt;
    c.state.pid = 0;
    c.state.paused = false;
    await writeState(dir, c.state);
  }
  await runtime.cleanup(id).catch(() => undefined);
  return c;
}

function isOurs(pid: number, dir: string): boolean {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir); } catch { return false; }
}
