/**
 * Published ports (-p, -P) without touching the host's network configuration and without
 * copying through the daemon: one `sbx-init forward` per mapping (runtime/forward.c) binds the
 * host address before the container starts (a taken port fails the start with nothing running),
 * then, told the container's PID 1, enters its network namespace and relays TCP connections
 * (a fork each) or UDP flows to 127.0.0.1:CONTAINER_PORT there. Works for every network mode
 * that has its own namespace (bridge, user networks, none).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SbxError, type PortMapping } from '../../protocol/index.js';
import { INIT_BINARY } from '../runtime/linux.js';

/** The host side of a container's ports: bound, waiting for the container. */
export interface PortBinding {
  /** The mappings with the host ports actually bound (a requested 0 becomes the free port taken). */
  published: PortMapping[];
  /** Start relaying into the network namespace of `pid1`. */
  attach(pid1: number): void;
  /** Stop relaying and free the host ports. Idempotent. */
  close(): Promise<void>;
}

function bindOne(m: PortMapping): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(INIT_BINARY, ['forward', '--proto', m.protocol ?? 'tcp', '--host-ip', m.hostIp, '--host-port', String(m.hostPort), '--port', String(m.containerPort)],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  const where = `${m.hostIp.includes(':') ? `[${m.hostIp}]` : m.hostIp}:${m.hostPort}`;
  return new Promise((resolve, reject) => {
    let out = '', err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d; });
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const ok = /^ok (\d+)\n/.exec(out);
      if (ok) resolve({ child, port: Number(ok[1]) });
      else if (out.startsWith('taken')) reject(new SbxError('failed_precondition', `driver failed programming external connectivity: Bind for ${where} failed: port is already allocated`));
    });
    child.once('error', (e) => reject(new SbxError('unavailable', `publish port ${where}: ${e.message}`)));
    child.once('exit', (code) => reject(new SbxError('unavailable', `publish port ${where}: forwarder exited ${code}: ${err.trim()}`)));
  });
}

/** Bind every mapping on the host; nothing stays bound when one fails. */
export async function bindPorts(ports: PortMapping[]): Promise<PortBinding> {
  const children: ChildProcess[] = [];
  const published: PortMapping[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(children.splice(0).map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) { r(); return; }
      c.once('exit', () => r());
      c.kill('SIGKILL');
    })));
  };
  try {
    for (const m of ports) {
      const b = await bindOne(m);
      children.push(b.child);
      b.child.stdin!.on('error', () => { /* it died; close() reaps it */ });
      published.push({ ...m, hostPort: b.port });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    published,
    attach(pid1) { for (const c of children) c.stdin!.end(`${pid1}\n`); },
    close,
  };
}

/** -P: every EXPOSEd port ("80/tcp", "53/udp", "8080") on a free port of the host's loopback. */
export function exposedPorts(exposed: Record<string, unknown> | undefined): PortMapping[] {
  return Object.keys(exposed ?? {}).flatMap((k) => {
    const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(k);
    return m ? [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: Number(m[1]), ...(m[2] === 'udp' ? { protocol: 'udp' as const } : {}) }] : [];
  });
}
