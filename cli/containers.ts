/** Helpers shared by the container verbs: flag parsing docker's way. */
import { SbxError, type DeviceMapping, type PortMapping } from '../protocol/index.js';
import { UsageError } from './command.js';

/** "64m", "1g", "512k", "1048576" → bytes (docker's RAMInBytes). */
export function parseBytes(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: invalid size: '${v}'`);
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

/** -e KEY=VALUE as is; a bare -e KEY takes the value from the local environment (or is dropped). */
export function parseEnv(values: string[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v.startsWith('=') || v === '') throw new UsageError(`invalid argument "${v}" for "-e, --env" flag: variable name is empty`);
    if (v.includes('=')) out.push(v);
    else if (env[v] !== undefined) out.push(`${v}=${env[v]}`);
  }
  return out;
}

/** docker's "sh -c 'x'" → ["sh", "-c", "x"] for --entrypoint (a single word in docker). */
export function entrypointArg(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v === '' ? [] : [v];
}

export function shortId(id: string): string { return id.slice(0, 12); }

/**
 * docker's -p [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp], each port may be a range (START-END);
 * the host IP defaults to 127.0.0.1, a missing host port means a free one (0); a host range must
 * match the container range in length. Malformed input is invalid_argument (exit 125, as docker's).
 */
export function parsePort(v: string): PortMapping[] {
  const bad = (why: string): SbxError => new SbxError('invalid_argument', `invalid argument "${v}" for "-p, --publish" flag: ${why}`);
  const m = /^(?:(\[[0-9a-fA-F:]+\]|\d+\.\d+\.\d+\.\d+):)?(?:(\d+(?:-\d+)?)?:)?(\d+(?:-\d+)?)(?:\/(tcp|udp))?$/.exec(v);
  if (!m) throw bad('want [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]');
  const range = (s: string): [number, number] => {
    const [a, b = a] = s.split('-').map(Number) as [number, number?];
    if (a < 1 || a > 65535 || b! < a || b! > 65535) throw bad(`invalid port range ${s}`);
    return [a, b!];
  };
  const hostIp = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  const [c0, c1] = range(m[3]!);
  const host = m[2] ? range(m[2]) : undefined;
  if (host && host[1] - host[0] !== c1 - c0) throw bad('the host and container port ranges must have the same length');
  const protocol = m[4] === 'udp' ? { protocol: 'udp' as const } : {};
  return Array.from({ length: c1 - c0 + 1 }, (_, i) => ({ hostIp, hostPort: host ? host[0] + i : 0, containerPort: c0 + i, ...protocol }));
}

/**
 * docker's --device HOST[:CONTAINER[:PERMS]] (also HOST:PERMS): CONTAINER defaults to HOST,
 * PERMS to rwm. Whether HOST is a device node is the daemon's check (it is the daemon's host).
 */
export function parseDevice(v: string): DeviceMapping {
  const parts = v.split(':');
  const flag = `invalid argument "${v}" for "--device" flag`;
  if (parts.length > 3 || !parts[0]) throw new SbxError('invalid_argument', `${flag}: want HOST[:CONTAINER[:PERMS]]`);
  const mode = (m: string): boolean => /^(?!.*(.).*\1)[rwm]{1,3}$/.test(m);
  let [host, inside, perms] = parts as [string, string | undefined, string | undefined];
  if (parts.length === 2 && mode(inside!)) { perms = inside; inside = undefined; }
  if (perms !== undefined && !mode(perms)) throw new SbxError('invalid_argument', `${flag}: bad mode specified: ${perms} (want a combination of r, w and m)`);
  if (!host.startsWith('/')) throw new SbxError('invalid_argument', `${flag}: the host path must be absolute`);
  if (inside !== undefined && !inside.startsWith('/')) throw new SbxError('invalid_argument', `${flag}: bad format for path: ${inside}`);
  return { pathOnHost: host, pathInContainer: inside || host, cgroupPermissions: perms ?? 'rwm' };
}

export function formatPorts(ports: PortMapping[] | undefined): string {
  return (ports ?? []).map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol ?? 'tcp'}`).join(', ');
}

/** The stdio flags `run` and `exec` share, as docker's. */
export const PROCESS_OPTIONS = {
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  detach: { type: 'boolean', short: 'd' },
  'detach-keys': { type: 'string' },
} as const;

/** The process flags `exec` takes (run has them too, among its own). */
export const PROCESS_ENV_OPTIONS = {
  env: { type: 'string', short: 'e', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
} as const;
