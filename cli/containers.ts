/** Helpers shared by the container verbs: flag parsing docker's way. */
import { SbxError, type DeviceMapping } from '../protocol/index.js';
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

/** docker's -p [IP:]HOST:CONTAINER[/tcp]; the host IP defaults to 127.0.0.1. */
export function parsePort(v: string): { hostIp: string; hostPort: number; containerPort: number } {
  const m = /^(?:\[?([0-9a-fA-F.:]+?)\]?:)?(\d+):(\d+)(?:\/tcp)?$/.exec(v);
  const port = (s: string): number => { const n = Number(s); if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`invalid argument "${v}" for "-p, --publish" flag: invalid port ${s}`); return n; };
  if (!m) throw new UsageError(`invalid argument "${v}" for "-p, --publish" flag: want [IP:]HOST_PORT:CONTAINER_PORT[/tcp]`);
  return { hostIp: m[1] ?? '127.0.0.1', hostPort: port(m[2]!), containerPort: port(m[3]!) };
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

export function formatPorts(ports: { hostIp: string; hostPort: number; containerPort: number }[] | undefined): string {
  return (ports ?? []).map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/tcp`).join(', ');
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
