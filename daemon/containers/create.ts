/**
 * The config record (records.ts) a validated create request makes over its resolved image:
 * the image's Entrypoint/Cmd/Env/WorkingDir/User/StopSignal under the request's own choices.
 */
import { normalizeSignal, type CreateContainerRequest } from '../../protocol/index.js';
import type { ResolvedImage } from '../images/resolve.js';
import { exposedPorts } from './ports.js';
import type { ContainerConfigRecord } from './records.js';
import type { BindMount } from '../runtime/runtime.js';
import type { SecurityChoice, SecurityOptions } from './security.js';
import { mergeEnv } from './spec.js';

export interface CreateChoices {
  id: string;
  name: string;
  entrypoint: string[];
  cmd: string[];
  sec: SecurityOptions;
  security: SecurityChoice;
  /** Host paths bound in (the builder's RUN --mount). */
  mounts?: BindMount[];
}

export function configRecord(req: CreateContainerRequest, image: ResolvedImage, k: CreateChoices): ContainerConfigRecord {
  const { id, sec } = k;
  const cfg = image.config.config ?? {};
  const config: ContainerConfigRecord = {
    id, name: k.name, created: new Date().toISOString(), image: req.image, imageId: image.configDigest,
    imageDigests: [...new Set([image.configDigest, image.descriptor.digest, image.target.digest])],
    entrypoint: k.entrypoint, cmd: k.cmd, env: mergeEnv(cfg.Env ?? [], req.env ?? []), workdir: req.workdir ?? cfg.WorkingDir ?? '', user: req.user ?? cfg.User ?? '',
    hostname: req.hostname ?? id.slice(0, 12), tty: !!req.tty, openStdin: !!req.openStdin,
    network: req.network ?? 'bridge', memory: req.memory ?? 0, pidsLimit: req.pidsLimit ?? 0, init: !!req.init,
    autoRemove: !!req.autoRemove, stopSignal: normalizeSignal(cfg.StopSignal ?? 'SIGTERM') ?? 'SIGTERM',
  };
  if (req.consoleSize) config.consoleSize = req.consoleSize;
  const ports = [...req.ports ?? [], ...req.publishAll ? exposedPorts(cfg.ExposedPorts) : []];
  if (ports.length) config.ports = ports;
  if (req.networkAliases?.length) config.networkAliases = req.networkAliases;
  if (req.extraHosts?.length) config.extraHosts = req.extraHosts;
  if (req.dns?.length || req.dnsSearch?.length || req.dnsOptions?.length) config.dns = { servers: req.dns ?? [], search: req.dnsSearch ?? [], options: req.dnsOptions ?? [] };
  if (sec.privileged) config.privileged = true;
  if (sec.capAdd.length) config.capAdd = sec.capAdd;
  if (sec.capDrop.length) config.capDrop = sec.capDrop;
  if (sec.devices.length) config.devices = sec.devices;
  if (k.mounts?.length) config.mounts = k.mounts;
  Object.assign(config, k.security);
  if (req.binds?.length) config.binds = req.binds;
  if (req.volumesFrom?.length) config.volumesFrom = req.volumesFrom;
  return config;
}
