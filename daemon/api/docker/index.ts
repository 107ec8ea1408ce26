/**
 * The Docker Engine API room: docker's routes on sbxd's socket, beside /v1, calling the same
 * domain services. server.ts asks it after the /v1 router declines a request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { dockerUpgrade, registerDockerAttach } from './attach.js';
import type { SbxError } from '../../../protocol/index.js';
import type { Services } from '../../services.js';
import { registerDockerArchive } from './archive.js';
import { registerDockerContainers } from './containers.js';
import { registerDockerEvents } from './events.js';
import { DockerExecs, registerDockerExec } from './exec.js';
import { registerDockerLifecycle } from './lifecycle.js';
import { registerDockerStats } from './stats.js';
import { registerDockerImages } from './images.js';
import { DockerRouter } from './http.js';
import { registerDockerSystem } from './system.js';
import { registerDockerBuild } from './build.js';
import { registerDockerDf } from './df.js';
import { registerDockerImageArchives } from './image-archives.js';
import { registerDockerNetworks } from './networks.js';
import { registerDockerRegistry } from './registry.js';
import { registerDockerVolumes } from './volumes.js';

export type DockerApi = (req: IncomingMessage, res: ServerResponse, onError: (err: unknown, what: string) => SbxError) => Promise<boolean>;
/** An HTTP upgrade of docker's (`Upgrade: tcp` attach and exec start, attach/ws); false when it is not one of docker's. */
export type DockerUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, onError: (err: unknown, what: string) => SbxError) => boolean;

/** What server.ts asks once /v1 declines a request or an upgrade. */
export interface DockerRoom { handle: DockerApi; upgrade: DockerUpgrade }

export function createDockerApi(s: Services): DockerRoom {
  const r = new DockerRouter();
  registerDockerSystem(r, s);
  registerDockerContainers(r, s);
  registerDockerImages(r, s);
  registerDockerRegistry(r, s);
  registerDockerImageArchives(r, s);
  registerDockerBuild(r, s);
  registerDockerNetworks(r, s);
  registerDockerVolumes(r, s);
  registerDockerDf(r, s);
  const execs = new DockerExecs(s);
  registerDockerLifecycle(r, s);
  registerDockerStats(r, s);
  registerDockerArchive(r, s);
  registerDockerExec(r, execs);
  registerDockerAttach(r, s);
  registerDockerEvents(r, s);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  return {
    handle: (req, res, onError) => r.handle(req, res, onError),
    upgrade: (req, socket, head, onError) => dockerUpgrade(s, execs, wss, req, socket, head, onError),
  };
}
