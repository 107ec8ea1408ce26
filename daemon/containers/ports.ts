/**
 * Published ports (-p HOST:CONTAINER) without touching the host's network configuration: the
 * daemon listens on the host port; one long-lived `sbx-init forward` per mapping listens on a
 * unix socket and sits in the container's network namespace; each accepted host connection is
 * piped to that socket, and the forwarder forks a child that dials 127.0.0.1:CONTAINER inside
 * the container and relays (rootlesskit's builtin port driver works this way). One fork per
 * connection, in a small static process, rather than a process spawned by the daemon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SbxError, type PortMapping } from '../../protocol/index.js';
import { INIT_BINARY } from '../runtime/linux.js';

/** Start the forwarder for one container port; resolves once it listens. */
function startForwarder(pid1: number, containerPort: number): Promise<{ child: ChildProcess; path: string }> {
  // Short path: unix socket paths are limited to 108 bytes, SBX_ROOT may be deep.
  const path = join(tmpdir(), `sbx-fwd-${randomBytes(6).toString('hex')}.sock`);
  const child = spawn(INIT_BINARY, ['forward', '--pid', String(pid1), '--port', String(containerPort), '--listen', path],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d; });
    child.stdout!.once('data', () => resolve({ child, path }));
    child.once('error', (e) => reject(new SbxError('unavailable', `publish port ${containerPort}: start forwarder: ${e.message}`)));
    child.once('exit', (code) => reject(new SbxError('unavailable', `publish port ${containerPort}: forwarder exited ${code}: ${err.trim()}`)));
  });
}

/** Listen on every mapping; resolves to a function that closes them all. */
export async function publishPorts(ports: PortMapping[], pid1: number): Promise<() => Promise<void>> {
  const servers: Server[] = [];
  const forwarders: { child: ChildProcess; path: string }[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); })));
    for (const f of forwarders) {
      if (f.child.exitCode === null) f.child.kill('SIGKILL');
      await rm(f.path, { force: true });
    }
  };
  try {
    for (const m of ports) {
      const fwd = await startForwarder(pid1, m.containerPort);
      forwarders.push(fwd);
      const server = createServer((sock) => {
        const up = connect(fwd.path);
        const stop = (): void => { sock.destroy(); up.destroy(); };
        sock.on('error', stop);
        up.on('error', stop);
        sock.pipe(up);
        up.pipe(sock);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) => reject(new SbxError('unavailable',
          `publish port ${m.hostIp}:${m.hostPort}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`, { cause: e })));
        server.listen(m.hostPort, m.hostIp, () => resolve());
      });
      servers.push(server);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return close;
}
