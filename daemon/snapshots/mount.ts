/**
 * Performing Mount[] with mount(8)/umount(8) (Node has no mount(2)), the startup probe that picks
 * the snapshotter, and the factory map behind Config.snapshotter.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SbxError } from '../../protocol/index.js';
import { PRIVATE_DIR_MODE } from '../util/fs.js';
import type { Logger } from '../util/log.js';
import { openNativeSnapshotter } from './native.js';
import { openOverlaySnapshotter, OVERLAY_OPTIONS } from './overlay.js';
import type { Mount, Snapshotter } from './snapshotter.js';

const pexec = promisify(execFile);

/** Per-mount flags a bind mount passes on (mount(8) applies them with a remount). */
const BIND_FLAGS = new Set(['ro', 'nosuid', 'nodev', 'noexec']);

/** argv (after "mount") and cwd for one Mount onto `target`; for callers that mount inside a namespace. */
export function mountArgs(m: Mount, target: string): { args: string[]; cwd?: string } {
  const flags = m.options.filter((o) => BIND_FLAGS.has(o));
  const args = m.type === 'bind'
    ? [m.options.includes('rbind') ? '--rbind' : '--bind', ...(flags.length ? ['-o', flags.join(',')] : []), m.source, target]
    : ['-t', m.type, '-o', m.options.join(','), m.source, target];
  return m.cwd ? { args, cwd: m.cwd } : { args };
}

/** Mount each of `mounts` onto `target`, in order. @throws unavailable with mount(8)'s message */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    const { args, cwd } = mountArgs(m, target);
    try {
      await pexec('mount', args, cwd ? { cwd } : {});
    } catch (e) {
      throw new SbxError('unavailable', `mount ${m.type} on ${target}: ${errText(e)}`, { cause: e });
    }
  }
}

/** Unmount `target` (and whatever is mounted under it). Not mounted is fine. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMountPoint(target))) return;
  try {
    await pexec('umount', ['-R', target]);
  } catch (e) {
    // Busy (a process still has files open): detach now, the kernel finishes when it can.
    await pexec('umount', ['-R', '-l', target]).catch(() => {
      throw new SbxError('unavailable', `unmount ${target}: ${errText(e)}`, { cause: e });
    });
  }
}

export async function isMountPoint(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  const esc = path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mounts.split('\n').some((l) => l.split(' ')[4] === esc);
}

/** undefined when an overlay with our options mounts (and shows its layers) under `dir`, else why not. */
export async function probeOverlay(dir: string): Promise<string | undefined> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const t = await mkdtemp(join(dir, 'overlay-probe-'));
  try {
    for (const d of ['l1', 'l2', 'u', 'w', 'm']) await mkdir(join(t, d));
    await writeFile(join(t, 'l1', 'a'), 'a');
    await writeFile(join(t, 'l2', 'b'), 'b');
    await pexec('mount', ['-t', 'overlay', '-o', ['lowerdir=l2:l1', 'upperdir=u', 'workdir=w', ...OVERLAY_OPTIONS].join(','), 'overlay', 'm'], { cwd: t });
    try {
      await readFile(join(t, 'm', 'a'));
      await readFile(join(t, 'm', 'b'));
    } finally {
      await pexec('umount', [join(t, 'm')]);
    }
    return undefined;
  } catch (e) {
    return errText(e);
  } finally {
    await rm(t, { recursive: true, force: true }).catch(() => undefined);
  }
}

export const SNAPSHOTTERS = { overlay: openOverlaySnapshotter, native: openNativeSnapshotter } as const;

/** Open the configured snapshotter over `root`; 'auto' probes overlay once and falls back to native. */
export async function openSnapshotter(choice: 'auto' | 'overlay' | 'native', root: string, log?: Logger): Promise<Snapshotter> {
  let driver: 'overlay' | 'native' = choice === 'auto' ? 'overlay' : choice;
  if (choice !== 'native') {
    const problem = await probeOverlay(root);
    if (problem && choice === 'overlay') throw new SbxError('unavailable', `snapshotter overlay: cannot mount overlayfs here: ${problem}`);
    if (problem) {
      log?.warn('overlayfs unavailable; using the copy-based native snapshotter', { reason: problem });
      driver = 'native';
    }
  }
  return SNAPSHOTTERS[driver](root);
}

function errText(e: unknown): string {
  const stderr = (e as { stderr?: string }).stderr;
  return (typeof stderr === 'string' && stderr.trim()) || (e as Error).message;
}
