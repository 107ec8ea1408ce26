/**
 * Networks: sbx's networks and the containers attached to them. One instance per daemon.
 *
 * Contract
 * - `bridge` (the default network) always exists; it and the user networks (create) are kept in
 *   $SBX_ROOT/networks.json and come back after a daemon restart with no members (their
 *   namespaces died with the old daemon: parent-death signals).
 * - A network's namespace (namespace.ts) is made on its first attach and closed (holder, pasta,
 *   bridge and veths gone) IDLE_MS after its last member left, when the network is removed, or
 *   when the daemon closes; the linger keeps back-to-back `run --rm` on one network from paying
 *   for a new namespace each time. Each attach takes an address and yields the NetAttachment the
 *   runtime uses plus the /etc/hosts lines of the container: host.docker.internal and
 *   host.containers.internal (the host's loopback, when the outbound path is up) and every other
 *   member by name, hostname and alias. Members' hosts files are rewritten in place (they are
 *   bind mounts) when a container joins or leaves, so names resolve both ways; a user network's
 *   embedded DNS (dns.ts, at its gateway address) answers the same names and forwards the rest
 *   to the host's resolvers.
 * - detach() frees the address; the veth goes with the container's namespace.
 * - remove() refuses a network with members (failed_precondition) and the predefined ones.
 * Errors: not_found (no such network), already_exists (name), invalid_argument, failed_precondition.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SbxError } from '../../protocol/index.js';
import type { NetAttachment } from '../runtime/runtime.js';
import type { Logger } from '../util/log.js';
import type { EventSink } from '../events/bus.js';
import { MTU, pastaNamespace, type NetworkNamespace } from './namespace.js';
import { answerLocal, forward } from './dns.js';
import { AddressPool, freeSubnet, macOf, overlaps, parseSubnet, type Subnet } from './subnets.js';

export interface NetworkRecord {
  id: string; name: string; driver: 'bridge'; created: string; subnet: string; gateway: string;
  internal: boolean; labels: Record<string, string>;
}

/** Who joins: the container's id, name, hostname, aliases and the hosts file to keep current. */
export interface Member { id: string; name: string; hostname: string; aliases: string[]; hostsFile: string }

export interface Endpoint { network: string; networkId: string; address: string; prefix: number; gateway: string; mac: string; aliases: string[] }

interface Live {
  rec: NetworkRecord; subnet: Subnet; ns: NetworkNamespace; pool: AddressPool; members: Map<string, Member & { address: string }>;
  joining: number; idle?: NodeJS.Timeout;
}

/** How long a network's namespace outlives its last member. */
export const IDLE_MS = 2000;

export const PREDEFINED = ['bridge', 'host', 'none'];

export class Networks {
  private readonly nets = new Map<string, Live>();
  private readonly file: string;
  /** Where create/destroy/connect/disconnect are announced (the daemon's event bus; set by the composition root). */
  events?: EventSink;

  constructor(root: string, private readonly log: Logger, private readonly idleMs = IDLE_MS) { this.file = join(root, 'networks.json'); }

  async open(): Promise<void> {
    let recs: NetworkRecord[] = [];
    try { recs = JSON.parse(await readFile(this.file, 'utf8')) as NetworkRecord[]; } catch { /* none yet */ }
    for (const r of recs) this.add(r);
    if (!recs.some((r) => r.name === 'bridge')) { this.bridge(); await this.save(); }
  }

  async close(): Promise<void> {
    await Promise.all([...this.nets.values()].map((n) => { clearTimeout(n.idle); return n.ns.close(); }));
  }

  /** Every network's record (bridge first, made on first use). */
  list(): NetworkRecord[] { this.bridge(); return [...this.nets.values()].map((n) => n.rec); }

  /** By name, full id or unique id prefix. @throws not_found */
  get(ref: string): NetworkRecord { return this.live(ref).rec; }

  /** Members of a network: container id → address. */
  members(ref: string): { id: string; name: string; address: string; aliases: string[] }[] {
    return [...this.live(ref).members.values()].map((m) => ({ id: m.id, name: m.name, address: m.address, aliases: m.aliases }));
  }

  /** Host pids of every network's processes (tests: nothing left after rm). */
  pids(ref: string): number[] { return this.live(ref).ns.pids(); }

  async create(name: string, opts: { subnet?: string; gateway?: string; internal?: boolean; labels?: Record<string, string> } = {}): Promise<NetworkRecord> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new SbxError('invalid_argument', `network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (PREDEFINED.includes(name) || [...this.nets.values()].some((n) => n.rec.name === name)) throw new SbxError('already_exists', `network with name ${name} already exists`);
    const taken = [...this.nets.values()].map((n) => n.subnet);
    const subnet = opts.subnet ? parseSubnet(opts.subnet, opts.gateway) : freeSubnet(taken);
    const clash = taken.find((t) => t.base === subnet.base || (!!opts.subnet && overlaps(t, subnet)));
    if (clash) throw new SbxError('invalid_argument', `create network ${name}: subnet ${subnet.cidr} overlaps ${clash.cidr} of another network`);
    const rec: NetworkRecord = {
      id: randomBytes(32).toString('hex'), name, driver: 'bridge', created: new Date().toISOString(),
      subnet: subnet.cidr, gateway: subnet.gateway, internal: !!opts.internal, labels: opts.labels ?? {},
    };
    this.add(rec);
    await this.save();
    this.events?.emit('network', 'create', rec.id, { name, type: 'bridge' });
    return rec;
  }

  async remove(ref: string): Promise<void> {
    const n = this.live(ref);
    if (PREDEFINED.includes(n.rec.name)) throw new SbxError('failed_precondition', `${n.rec.name} is a pre-defined network and cannot be removed`);
    if (n.members.size) throw new SbxError('failed_precondition', `error while removing network: network ${n.rec.name} id ${n.rec.id} has active endpoints`);
    this.nets.delete(n.rec.id);
    clearTimeout(n.idle);
    await n.ns.close();
    await this.save();
    this.events?.emit('network', 'destroy', n.rec.id, { name: n.rec.name, type: 'bridge' });
  }

  /** Remove every user network without members; their names. */
  async prune(): Promise<string[]> {
    const gone: string[] = [];
    for (const n of [...this.nets.values()]) {
      if (PREDEFINED.includes(n.rec.name) || n.members.size) continue;
      await this.remove(n.rec.id);
      gone.push(n.rec.name);
    }
    return gone;
  }

  /** Join `m` to network `ref`. @throws not_found, unavailable */
  async attach(ref: string, m: Member): Promise<{ net: NetAttachment; hosts: string[]; endpoint: Endpoint }> {
    const n = this.live(ref);
    if (n.members.has(m.id)) throw new SbxError('failed_precondition', `container ${m.name} is already attached to network ${n.rec.name}`);
    clearTimeout(n.idle);
    n.joining++;
    let info;
    try { info = await n.ns.open(); } finally { n.joining--; }
    const address = n.pool.take();
    n.members.set(m.id, { ...m, address });
    const net: NetAttachment = {
      netns: info.path, hostIf: `v${randomBytes(5).toString('hex')}`, bridge: info.bridge,
      address, prefix: n.subnet.prefix, gateway: n.subnet.gateway, mtu: MTU, mac: macOf(address),
    };
    const gw = info.hostGateway && !n.rec.internal ? [`${info.hostGateway}\thost.docker.internal host.containers.internal`] : [];
    const hosts = [...gw, ...this.peerLines(n, m.id)];
    await this.refresh(n, m.id);
    this.events?.emit('network', 'connect', n.rec.id, { container: m.id, name: n.rec.name, type: 'bridge' });
    const mac = macOf(address);
    return { net, hosts, endpoint: { network: n.rec.name, networkId: n.rec.id, address, prefix: n.subnet.prefix, gateway: n.subnet.gateway, mac, aliases: m.aliases } };
  }

  /** The container left (exited): free its address, drop its name from the others. */
  async detach(ref: string, id: string): Promise<void> {
    const n = this.nets.get(ref) ?? [...this.nets.values()].find((x) => x.rec.name === ref);
    const m = n?.members.get(id);
    if (!n || !m) return;
    n.members.delete(id);
    n.pool.release(m.address);
    this.events?.emit('network', 'disconnect', n.rec.id, { container: id, name: n.rec.name, type: 'bridge' });
    await this.refresh(n);
    if (!n.members.size) this.closeWhenIdle(n);
  }

  /** Close the namespace of a network nobody uses once IDLE_MS have passed with no member or join. */
  private closeWhenIdle(n: Live): void {
    clearTimeout(n.idle);
    n.idle = setTimeout(() => {
      if (n.members.size || n.joining) return;
      n.ns.close().catch((e: unknown) => this.log.warn('network: close of an idle namespace failed', { network: n.rec.name, error: String(e) }));
    }, this.idleMs);
    n.idle.unref();
  }

  /** Rewrite one member's peer lines (it joined a network while running). */
  async refreshOne(ref: string, id: string): Promise<void> {
    const n = this.live(ref);
    const m = n.members.get(id);
    if (!m || n.rec.name === 'bridge') return;
    let text = '';
    try { text = await readFile(m.hostsFile, 'utf8'); } catch { return; }
    const keep = text.split('\n').filter((l) => l && !l.endsWith(mark(n)));
    await writeFile(m.hostsFile, [...keep, ...this.peerLines(n, id)].join('\n') + '\n').catch(() => undefined);
  }

  private bridge(): Live {
    const b = [...this.nets.values()].find((n) => n.rec.name === 'bridge');
    if (b) return b;
    const subnet = freeSubnet([...this.nets.values()].map((n) => n.subnet));
    const rec: NetworkRecord = { id: randomBytes(32).toString('hex'), name: 'bridge', driver: 'bridge', created: new Date().toISOString(), subnet: subnet.cidr, gateway: subnet.gateway, internal: false, labels: {} };
    return this.add(rec);
  }

  private add(rec: NetworkRecord): Live {
    const subnet = parseSubnet(rec.subnet, rec.gateway);
    const live: Live = { rec, subnet, ns: pastaNamespace(subnet, this.log, !rec.internal), pool: new AddressPool(subnet), members: new Map(), joining: 0 };
    live.ns.onDns(async (q) => answerLocal(q, (name) => this.lookup(live, name)) ?? forward(q));
    this.nets.set(rec.id, live);
    return live;
  }

  private live(ref: string): Live {
    if (ref === 'bridge') return this.bridge();
    const byName = [...this.nets.values()].find((n) => n.rec.name === ref) ?? this.nets.get(ref);
    if (byName) return byName;
    const prefix = [...this.nets.values()].filter((n) => /^[0-9a-f]+$/.test(ref) && n.rec.id.startsWith(ref));
    if (prefix.length === 1) return prefix[0]!;
    throw new SbxError('not_found', `network ${ref} not found`);
  }

  /** A member's address by container name, hostname, alias or short id (user networks only, as docker). */
  private lookup(n: Live, name: string): string | undefined {
    if (n.rec.name === 'bridge') return undefined;
    for (const m of n.members.values()) {
      if ([m.name, m.hostname, ...m.aliases, m.id.slice(0, 12)].some((x) => x.toLowerCase() === name)) return m.address;
    }
    return undefined;
  }

  /** docker's default bridge has no name resolution between containers; user networks do. */
  private peerLines(n: Live, except: string): string[] {
    if (n.rec.name === 'bridge') return [];
    return [...n.members.values()].filter((p) => p.id !== except)
      .map((p) => `${p.address}\t${[...new Set([p.name, p.hostname, ...p.aliases, p.id.slice(0, 12)])].join(' ')}${mark(n)}`);
  }

  /** Rewrite the sbx-managed tail of every member's hosts file (in place: it is a bind mount). */
  private async refresh(n: Live, skip?: string): Promise<void> {
    if (n.rec.name === 'bridge') return;
    await Promise.all([...n.members.values()].filter((m) => m.id !== skip).map(async (m) => {
      let text = '';
      try { text = await readFile(m.hostsFile, 'utf8'); } catch { return; }
      const keep = text.split('\n').filter((l) => l && !l.endsWith(mark(n)));
      const lines = [...keep, ...this.peerLines(n, m.id)];
      await writeFile(m.hostsFile, lines.join('\n') + '\n').catch(() => undefined);
    }));
  }

  private async save(): Promise<void> {
    const recs = [...this.nets.values()].map((n) => n.rec);
    await writeFile(this.file + '.tmp', JSON.stringify(recs, null, 1));
    await rename(this.file + '.tmp', this.file);
  }
}

/** Suffix of the hosts lines a network keeps (so a rewrite replaces only its own). */
const mark = (n: Live): string => `\t# network ${n.rec.name}`;
