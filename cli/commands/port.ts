import { Containers } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

export const command: Command = {
  name: 'port',
  summary: 'List port mappings or a specific mapping for the container',
  usage: 'sbx port CONTAINER [PRIVATE_PORT[/PROTO]]',
  options: {},
  async run({ positionals }, { client, stdout, stderr }) {
    const [id, spec, ...extra] = positionals;
    if (!id || extra.length) throw new UsageError('"sbx port" requires at least 1 and at most 2 arguments.');
    let info;
    try { info = await client.call(Containers.inspect, { id }); } catch (e) { stderr.write(`Error: ${(e as Error).message}\n`); return 1; }
    // docker lists what is published now: nothing for a container that is not running
    const ports = info.State.Running ? Object.entries(info.NetworkSettings.Ports).flatMap(([key, binds]) => (binds ?? []).map((b) => {
      const [port, proto] = key.split('/');
      return { containerPort: Number(port), proto: proto ?? 'tcp', hostIp: b.HostIp, hostPort: Number(b.HostPort) };
    })).sort((a, b) => a.containerPort - b.containerPort || a.proto.localeCompare(b.proto) || a.hostPort - b.hostPort) : [];
    const host = (p: { hostIp: string; hostPort: number }): string => `${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:${p.hostPort}`;
    if (spec === undefined) {
      for (const p of ports) stdout.write(`${p.containerPort}/${p.proto} -> ${host(p)}\n`);
      return 0;
    }
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(spec);
    if (!m) { stderr.write(`Error: Invalid port: ${spec}\n`); return 1; }
    const proto = m[2] ?? 'tcp';
    const found = ports.filter((p) => p.containerPort === Number(m[1]) && p.proto === proto);
    if (!found.length) { stderr.write(`Error: No public port '${m[1]}/${proto}' published for ${id}\n`); return 1; }
    for (const p of found) stdout.write(`${host(p)}\n`);
    return 0;
  },
};
