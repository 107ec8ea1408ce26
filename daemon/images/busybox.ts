/**
 * A busybox root file system from the host's busybox-static (no network needed): /bin/busybox,
 * one symlink per applet (`busybox --list-full`), /etc/{passwd,group,motd}, and the empty
 * directories a container expects (/tmp 1777, /root 0700, /proc, /dev, /sys, /home, /var).
 * All entries are owned by root; `epoch` (the binary's mtime) makes the layer reproducible.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, lstat, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { SbxError } from '../../protocol/index.js';

const pexec = promisify(execFile);

export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
export const BUSYBOX_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

export async function findBusybox(): Promise<string> {
  for (const p of BUSYBOX_CANDIDATES) {
    try { if ((await lstat(p)).isFile()) return p; } catch { /* next */ }
  }
  throw new SbxError('failed_precondition', `import --busybox: no busybox binary at ${BUSYBOX_CANDIDATES.join(' or ')} (install Debian's busybox-static)`);
}

/** Fill the empty directory `dir`; returns the source binary and the epoch to clamp mtimes to. */
export async function busyboxRootfs(dir: string): Promise<{ source: string; epoch: number }> {
  const source = await findBusybox();
  const { stdout } = await pexec(source, ['--list-full']).catch((e: Error) => {
    throw new SbxError('failed_precondition', `import --busybox: ${source} --list-full: ${e.message}`);
  });
  const epoch = Math.floor((await lstat(source)).mtimeMs / 1000);
  for (const [d, mode] of [['bin', 0o755], ['sbin', 0o755], ['usr/bin', 0o755], ['usr/sbin', 0o755], ['etc', 0o755],
    ['tmp', 0o1777], ['root', 0o700], ['proc', 0o755], ['dev', 0o755], ['sys', 0o755], ['home', 0o755], ['var', 0o755]] as const) {
    await mkdir(join(dir, d), { recursive: true });
    await chmod(join(dir, d), mode);
  }
  await copyFile(source, join(dir, 'bin', 'busybox'));
  await chmod(join(dir, 'bin', 'busybox'), 0o755);
  for (const line of stdout.split('\n')) {
    const applet = line.trim();
    if (!applet || applet === 'bin/busybox' || applet.includes('..') || applet.startsWith('/')) continue;
    await mkdir(join(dir, dirname(applet)), { recursive: true });
    await symlink('/bin/busybox', join(dir, applet)).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
  }
  await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(dir, 'etc', 'motd'), 'Welcome to an sbx busybox image (built from the host\'s busybox-static).\n');
  await utimes(dir, epoch, epoch);
  return { source, epoch };
}
