/**
 * The Docker Engine API room: docker's routes on sbxd's socket, beside /v1, calling the same
 * domain services. server.ts asks it after the /v1 router declines a request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { dockerUpgrade } from './attach.js';
import type { SbxError } from '../../../protocol/index.js';
import type { Services } from '../../services.js';
import { registerDockerContainers } from './containers.js';
import { registerDockerEvents } from './events.js';
import { registerDockerImages } from './images.js';
import { DockerRouter } from './http.js';
import { registerDockerSystem } from './system.js';

export type DockerApi = (req: IncomingMessage, res: ServerResponse, onError: (err: unknown, what: string) => SbxError) => Promise<boolean>;
/** An HTTP upgrade docker's way (`Upgrade: tcp`, the hijacked attach); false when it is not one of docker's. */
export type DockerUpgrade = (req: IncomingMessage, socket: Duplex, onError: (err: unknown, what: string) => SbxError) => boolean;

export function createDockerApi(s: Services): { handle: DockerApi; upgrade: DockerUpgrade } {
  const r = new DockerRouter();
  registerDockerSystem(r, s);
  registerDockerContainers(r, s);
  registerDockerImages(r, s);
  registerDockerEvents(r, s);
  return { handle: (req, res, onError) => r.handle(req, res, onError), upgrade: (req, socket, onError) => dockerUpgrade(s, req, socket, onError) };
}
