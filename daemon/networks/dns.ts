/**
 * The embedded DNS of a user network (docker's 127.0.0.11, here at the network's gateway
 * address): the namespace's holder relays each query on port 53 to the daemon (namespace.ts);
 * names of the network's members (container name, hostname, aliases, short id) are answered
 * here, everything else goes to the host's own resolvers (read from the daemon's
 * /etc/resolv.conf, loopback ones included: the daemon runs in the host's namespace).
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const A = 1, IN = 1;

/** The question of a query: lower-case name without the final dot, type, and where the question ends. */
export function question(q: Buffer): { name: string; type: number; end: number } | undefined {
  if (q.length < 12 || q.readUInt16BE(4) !== 1 || (q[2]! & 0x80)) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    const n = q[i];
    if (n === undefined || n > 63) return undefined;
    i++;
    if (n === 0) break;
    labels.push(q.subarray(i, i + n).toString('latin1'));
    i += n;
  }
  if (i + 4 > q.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: q.readUInt16BE(i), end: i + 4 };
}

/** An answer from us for a name we know (A record; other types: no data), else undefined. */
export function answerLocal(q: Buffer, lookup: (name: string) => string | undefined): Buffer | undefined {
  const qq = question(q);
  if (!qq) return undefined;
  const addr = lookup(qq.name);
  if (!addr) return undefined;
  const head = Buffer.from(q.subarray(0, qq.end));
  head.writeUInt16BE(0x8180 | (q.readUInt16BE(2) & 0x0100), 2); // response, recursion desired as asked, available
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  if (qq.type !== A || q.readUInt16BE(qq.end - 2) !== IN) { head.writeUInt16BE(0, 6); return head; }
  head.writeUInt16BE(1, 6);
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  rr.writeUInt16BE(A, 2);
  rr.writeUInt16BE(IN, 4);
  rr.writeUInt32BE(600, 6);
  rr.writeUInt16BE(4, 10);
  addr.split('.').forEach((o, k) => { rr[12 + k] = Number(o); });
  return Buffer.concat([head, rr]);
}

/** The host's resolvers, as the daemon sees them. */
function hostResolvers(): string[] {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8').split('\n')
      .map((l) => /^\s*nameserver\s+([0-9.]+)\s*$/.exec(l)?.[1]).filter((x): x is string => !!x);
  } catch { return []; }
}

/** Ask the host's resolvers (first that answers within 2 s each); undefined when none does. */
export async function forward(q: Buffer): Promise<Buffer | undefined> {
  for (const ns of hostResolvers()) {
    const sock = createSocket('udp4');
    try {
      const r = await new Promise<Buffer | undefined>((resolve) => {
        const t = setTimeout(() => resolve(undefined), 2000);
        sock.once('message', (m) => { clearTimeout(t); resolve(m); });
        sock.once('error', () => { clearTimeout(t); resolve(undefined); });
        sock.send(q, 53, ns);
      });
      if (r) return r;
    } finally { sock.close(); }
  }
  return undefined;
}
