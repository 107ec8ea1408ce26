/**
 * The resource flags `run`, `create` and `update` share (docker's): -m/--memory, --memory-swap,
 * --memory-reservation, --pids-limit, --cpus, -c/--cpu-shares, --cpuset-cpus, --cpuset-mems.
 * Flag syntax is checked here (exit 125, pflag's wording); ranges and the host's CPUs by the daemon.
 */
import type { ResourceOptions } from '../protocol/index.js';
import { UsageError, str, type Parsed } from './command.js';
import { parseBytes } from './containers.js';

export const RESOURCE_OPTIONS = {
  memory: { type: 'string', short: 'm' },
  'memory-swap': { type: 'string' },
  'memory-reservation': { type: 'string' },
  'pids-limit': { type: 'string' },
  cpus: { type: 'string' },
  'cpu-shares': { type: 'string', short: 'c' },
  'cpuset-cpus': { type: 'string' },
  'cpuset-mems': { type: 'string' },
} as const;

export type ResourceFlags = ResourceOptions & { memory?: number; pidsLimit?: number };

const int = (v: string, flag: string): number => {
  if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
};

/** The flags given, as request fields (absent when not given). pids-limit -1 and 0 are "no limit" (0). */
export function resourceFlags(values: Parsed['values']): ResourceFlags {
  const out: ResourceFlags = {};
  const v = (k: keyof typeof RESOURCE_OPTIONS): string | undefined => str(values[k]);
  const mem = v('memory');
  if (mem !== undefined) out.memory = parseBytes(mem, '-m, --memory');
  const swap = v('memory-swap');
  if (swap !== undefined) out.memorySwap = swap === '-1' ? -1 : parseBytes(swap, '--memory-swap');
  const res = v('memory-reservation');
  if (res !== undefined) out.memoryReservation = parseBytes(res, '--memory-reservation');
  const pids = v('pids-limit');
  if (pids !== undefined) out.pidsLimit = Math.max(0, int(pids, '--pids-limit'));
  const cpus = v('cpus');
  if (cpus !== undefined) {
    if (!/^\d+(\.\d+)?$|^\.\d+$/.test(cpus)) throw new UsageError(`invalid argument "${cpus}" for "--cpus" flag: failed to parse ${cpus} as a rational number`);
    out.nanoCpus = Math.round(Number(cpus) * 1e9);
  }
  const shares = v('cpu-shares');
  if (shares !== undefined) {
    const n = int(shares, '-c, --cpu-shares');
    if (n < 0) throw new UsageError(`invalid argument "${shares}" for "-c, --cpu-shares" flag: shares must be 0 (the default) or more`);
    out.cpuShares = n;
  }
  for (const [flag, key] of [['cpuset-cpus', 'cpusetCpus'], ['cpuset-mems', 'cpusetMems']] as const) {
    const s = v(flag);
    if (s !== undefined) out[key] = s;
  }
  return out;
}
