/** docker's -u resolved against the container's own /etc/passwd and /etc/group. */
import { SbxError } from '../../protocol/index.js';
import { DirView } from '../snapshots/view.js';
import type { User } from '../runtime/runtime.js';
import type { Rootfs } from '../snapshots/differ.js';

/** The image's /etc/passwd or /etc/group, read from the layers (top first) without mounting. */
async function readEtc(rootfs: Rootfs, file: string): Promise<string> {
  for (const d of [rootfs.upperdir, ...rootfs.lowerdirs]) {
    // Beneath the layer: a container's /etc/passwd symlinked to a host file is not read.
    const r = await new DirView(d).readFile(`/etc/${file}`, 1 << 20).catch(() => undefined);
    if (r?.data) return r.data.toString('utf8');
  }
  return '';
}

/** docker's -u: UID[:GID] or NAME[:GROUP]; names from the image's /etc/passwd and /etc/group. */
export async function resolveUser(rootfs: Rootfs, spec: string): Promise<User & { home: string }> {
  const passwd = (await readEtc(rootfs, 'passwd')).split('\n').map((l) => l.split(':'));
  const [u = '', g] = (spec || '0').split(':');
  let uid: number; let gid: number; let home = '/';
  const byName = passwd.find((f) => f[0] === u);
  const byId = /^\d+$/.test(u) ? passwd.find((f) => f[2] === u) : undefined;
  const entry = byName ?? byId;
  if (/^\d+$/.test(u)) uid = Number(u);
  else if (byName) uid = Number(byName[2]);
  else throw new SbxError('invalid_argument', `start container: unable to find user ${u}: no matching entries in passwd file`);
  gid = entry ? Number(entry[3]) : 0;
  if (entry?.[5]) home = entry[5];
  else if (uid === 0) home = '/root';
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const grp = (await readEtc(rootfs, 'group')).split('\n').map((l) => l.split(':')).find((f) => f[0] === g);
      if (!grp) throw new SbxError('invalid_argument', `start container: unable to find group ${g}: no matching entries in group file`);
      gid = Number(grp[2]);
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new SbxError('invalid_argument', `start container: uid/gid out of range in ${spec}`);
  return { uid, gid, groups: [], home };
}

/** docker's --group-add: GIDs as they are, names looked up in the image's /etc/group. */
export async function resolveGroups(rootfs: Rootfs, names: string[]): Promise<number[]> {
  if (!names.length) return [];
  const groups = (await readEtc(rootfs, 'group')).split('\n').map((l) => l.split(':'));
  return names.map((n) => {
    if (/^\d+$/.test(n)) return Number(n);
    const g = groups.find((f) => f[0] === n);
    if (!g || !/^\d+$/.test(g[2] ?? '')) throw new SbxError('invalid_argument', `start container: unable to find group ${n}: no matching entries in group file`);
    return Number(g[2]);
  });
}
