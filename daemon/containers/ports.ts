/**
 * Published ports (-p HOST:CONTAINER) without touching the host's network configuration: the
 * daemon listens on the host port and hands each accepted connection to `sbx-init connect`,
 * which enters the container's network namespace, dials 127.0.0.1:CONTAINER there and relays
 * the bytes (rootlesskit's builtin port driver works this way).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { SbxError, type PortMapping } from '../../protocol/index.js';
import { INIT_BINARY } from '../runtime/linux.js';

/** Listen on every mapping; resolves to a function that closes them all. */
export async function publishPorts(ports: PortMapping[], pid1: number): Promise<() => Promise<void>> {
  const servers: Server[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); })));
  };
  try {
    for (const m of ports) {
      const server = createServer((sock) => {
        const relay = spawn(INIT_BINARY, ['connect', '--pid', String(pid1), '--port', String(m.containerPort)], { stdio: ['pipe', 'pipe', 'ignore'] });
        sock.pipe(relay.stdin);
        relay.stdout.pipe(sock);
        const stop = (): void => { sock.destroy(); if (relay.exitCode === null) relay.kill('SIGKILL'); };
        sock.on('error', stop);
        relay.stdin.on('error', stop);
        relay.on('exit', () => { relay.stdout.once('end', () => sock.end()); });
        relay.on('error', stop);
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
