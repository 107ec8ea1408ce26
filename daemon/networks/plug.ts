/**
 * Hot-plug: a running container joins or leaves a network (`sbx network connect|disconnect`).
 * Same result as sbx-init's attach at start (runtime/net.c), done from outside: a veth pair made
 * in the network's namespace, its peer moved into the container's namespace as IFNAME with the
 * address; leaving deletes IFNAME there (its peer on the bridge goes with it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { SbxError } from '../../protocol/index.js';
import type { NetAttachment } from '../runtime/runtime.js';

const NSENTER = existsSync('/usr/bin/nsenter') ? '/usr/bin/nsenter' : 'nsenter';
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((p) => existsSync(p)) ?? 'ip';

function ipIn(netns: string, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(NSENTER, [`--net=${netns}`, '--', IP, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d; });
    p.once('error', (e) => reject(new SbxError('unavailable', `network: ${e.message}`)));
    p.once('exit', (code) => code === 0 ? resolve() : reject(new SbxError('unavailable', `network: ip: ${err.trim() || `exit ${code}`}`)));
    p.stdin!.end(lines.join('\n') + '\n');
  });
}

/** The lowest ethN not in the container's namespace (/proc/PID/net/dev lists its interfaces). */
export async function freeIfName(pid: number): Promise<string> {
  const dev = await readFile(`/proc/${pid}/net/dev`, 'utf8');
  const names = new Set(dev.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()));
  for (let i = 0; ; i++) if (!names.has(`eth${i}`)) return `eth${i}`;
}

export async function plug(a: NetAttachment, pid: number, ifname: string): Promise<void> {
  await ipIn(a.netns, [`link add name ${a.hostIf} mtu ${a.mtu} master ${a.bridge} up type veth peer name ${ifname} mtu ${a.mtu} address ${a.mac} netns /proc/${pid}/ns/net`]);
  await ipIn(`/proc/${pid}/ns/net`, [`addr add ${a.address}/${a.prefix} dev ${ifname}`, `link set ${ifname} up`]);
}

export async function unplug(pid: number, ifname: string): Promise<void> {
  await ipIn(`/proc/${pid}/ns/net`, [`link del ${ifname}`]);
}
