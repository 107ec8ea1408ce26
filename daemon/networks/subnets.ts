/**
 * Subnets and addresses (IPv4). A network's subnet exists only inside its own namespace, but it
 * must not hide a host route from its containers (their traffic to that range would stay on the
 * bridge instead of reaching the host through pasta), so a new network takes the first of
 * docker's default pools that overlaps no host route and no other sbx network.
 */
import { readFileSync } from 'node:fs';
import { SbxError } from '../../protocol/index.js';

export interface Subnet { cidr: string; base: number; prefix: number; gateway: string }

export const toInt = (dotted: string): number => dotted.split('.').reduce((n, o) => n * 256 + Number(o), 0);
export const toDotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const maskOf = (prefix: number): number => prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;

/** Parse "A.B.C.D/N" (the network address; host bits must be zero), gateway .1 unless given. @throws invalid_argument */
export function parseSubnet(cidr: string, gateway?: string): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) < 8 || Number(m[5]) > 30) {
    throw new SbxError('invalid_argument', `invalid subnet ${JSON.stringify(cidr)}: want an IPv4 CIDR such as 172.20.0.0/16 (prefix 8 to 30)`);
  }
  const prefix = Number(m[5]);
  const base = toInt(m.slice(1, 5).join('.'));
  if (((base & maskOf(prefix)) >>> 0) !== base) throw new SbxError('invalid_argument', `invalid subnet ${cidr}: host bits are set (did you mean ${toDotted((base & maskOf(prefix)) >>> 0)}/${prefix}?)`);
  const gw = gateway ?? toDotted(base + 1);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(gw) || !contains({ base, prefix }, toInt(gw))) throw new SbxError('invalid_argument', `invalid gateway ${gw}: not in subnet ${cidr}`);
  return { cidr: `${toDotted(base)}/${prefix}`, base, prefix, gateway: gw };
}

export const contains = (s: { base: number; prefix: number }, addr: number): boolean => ((addr & maskOf(s.prefix)) >>> 0) === s.base;
export const overlaps = (a: { base: number; prefix: number }, b: { base: number; prefix: number }): boolean =>
  contains(a, b.base) || contains(b, a.base);

/** The host's IPv4 routes (destination/prefix) from /proc/net/route, default route excluded. */
export function hostRoutes(table = readFileSync('/proc/net/route', 'utf8')): { base: number; prefix: number }[] {
  const out: { base: number; prefix: number }[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] === '00000000') continue;
    const le = (h: string): number => { const n = parseInt(h, 16); return (((n & 255) << 24) | (((n >> 8) & 255) << 16) | (((n >> 16) & 255) << 8) | ((n >>> 24) & 255)) >>> 0; };
    const mask = le(f[7]!);
    out.push({ base: le(f[1]!), prefix: mask.toString(2).replace(/0+$/, '').length });
  }
  return out;
}

/** docker's default pools: 172.17–31.0.0/16, then 192.168.0–240.0/20. */
function* pools(): Generator<Subnet> {
  for (let b = 17; b <= 31; b++) yield parseSubnet(`172.${b}.0.0/16`);
  for (let c = 0; c <= 240; c += 16) yield parseSubnet(`192.168.${c}.0/20`);
}

/** The first pool free of `taken` and of the host's routes. @throws unavailable */
export function freeSubnet(taken: Subnet[], routes = hostRoutes()): Subnet {
  for (const s of pools()) if (![...taken, ...routes].some((t) => overlaps(s, t))) return s;
  throw new SbxError('unavailable', 'create network: no free subnet in the default pools; give one with --subnet');
}

/** Addresses handed to containers: the lowest free host address that is not the gateway. */
export class AddressPool {
  private readonly used = new Set<number>();
  constructor(private readonly subnet: Subnet) { this.used.add(toInt(subnet.gateway)); }
  take(): string {
    const size = 2 ** (32 - this.subnet.prefix);
    for (let i = 2; i < size - 1; i++) {
      const a = this.subnet.base + i;
      if (!this.used.has(a)) { this.used.add(a); return toDotted(a); }
    }
    throw new SbxError('unavailable', `network ${this.subnet.cidr}: no free address`);
  }
  release(addr: string): void { if (addr !== this.subnet.gateway) this.used.delete(toInt(addr)); }
}

/** The MAC sbx gives an address (docker's 02:42 + the IPv4 octets). */
export function macOf(address: string): string {
  return `02:42:${address.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`;
}
