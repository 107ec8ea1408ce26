/**
 * A create request checked and its image resolved (planCreate); the config record (records.ts)
 * it makes over that image: the image's Entrypoint/Cmd/Env/WorkingDir/User/StopSignal under the
 * request's own choices; and the container's directory, writable layer and volumes made from it
 * (all or nothing).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SbxError, normalizeSignal, validateRestartPolicy, type CreateContainerRequest } from '../../protocol/index.js';
import { resolveImage, type ImageStores, type ResolvedImage } from '../images/resolve.js';
import type { Networks } from '../networks/networks.js';
import type { Container } from './container.js';
import { exposedPorts } from './ports.js';
import { newState, writeConfig, writeState, type ContainerConfigRecord } from './records.js';
import { inheritMounts, makeMounts, planMounts, seedVolumes, type MountRecord } from './mounts.js';
import { validateNetwork } from './network.js';
import { prepareRootfs, removeRootfs, rootfsOf, type RootfsDeps } from './rootfs.js';
import type { VolumeStore } from '../volumes/store.js';
import type { BindMount } from '../runtime/runtime.js';
import { securityChoice, validateSecurity, type SecurityChoice, type SecurityOptions } from './security.js';
import { mergeEnv } from './spec.js';
import { checkRunOptions, runRecord, type RunChoice } from './run-options.js';
import { mergeHealthcheck } from './health.js';
import { checkResources } from './resources.js';
import { validateCreate } from './validate.js';
import type { ResourceOptions } from '../../protocol/index.js';

export interface CreateChoices {
  id: string;
  name: string;
  entrypoint: string[];
  cmd: string[];
  sec: SecurityOptions;
  security: SecurityChoice;
  /** The checked run options (run-options.ts) and CPU/memory controls (resources.ts). */
  run: RunChoice;
  resources: ResourceOptions;
  /** Host paths bound in (the builder's RUN --mount). */
  mounts?: BindMount[];
}

/**
 * The request checked (fields, security, network, run options, resources), its image resolved and
 * its mounts planned; `get` finds the containers it names (--network container:, --volumes-from).
 * Nothing is written. @throws invalid_argument, not_found
 */
export async function planCreate(s: ImageStores & { networks: Networks }, req: CreateContainerRequest, get: (ref: string) => Container): Promise<{
  image: ResolvedImage; choices: Omit<CreateChoices, 'id' | 'name' | 'mounts'>; plan: MountRecord[];
}> {
  validateCreate(req);
  const sec = validateSecurity(req);
  validateNetwork(s.networks, req, get);
  const security = securityChoice(req);
  const run = checkRunOptions(req);
  const resources = checkResources(req);
  const image = await resolveImage(s, req.image);
  const cfg = image.config.config ?? {};
  const entrypoint = req.entrypoint ?? cfg.Entrypoint ?? [];
  const cmd = req.cmd && req.cmd.length > 0 ? req.cmd : req.entrypoint ? [] : (cfg.Cmd ?? []);
  if (entrypoint.length + cmd.length === 0) throw new SbxError('invalid_argument', `create container from ${req.image}: no command specified`);
  const inherited = (req.volumesFrom ?? []).flatMap((f) => inheritMounts(f, get(f.split(':')[0]!).config.volumes));
  const plan = await planMounts(req, Object.keys(cfg.Volumes ?? {}), inherited);
  return { image, choices: { entrypoint, cmd, sec, security, run, resources }, plan };
}

export function configRecord(req: CreateContainerRequest, image: ResolvedImage, k: CreateChoices): ContainerConfigRecord {
  const { id, sec } = k;
  const cfg = image.config.config ?? {};
  const config: ContainerConfigRecord = {
    id, name: k.name, created: new Date().toISOString(), image: req.image, imageId: image.configDigest,
    imageDigests: [...new Set([image.configDigest, image.descriptor.digest, image.target.digest])],
    entrypoint: k.entrypoint, cmd: k.cmd, env: mergeEnv(cfg.Env ?? [], req.env ?? []), workdir: req.workdir ?? cfg.WorkingDir ?? '', user: req.user ?? cfg.User ?? '',
    hostname: req.hostname ?? id.slice(0, 12), tty: !!req.tty, openStdin: !!req.openStdin,
    network: req.network ?? 'bridge', memory: req.memory ?? 0, pidsLimit: Math.max(0, req.pidsLimit ?? 0), init: !!req.init,
    autoRemove: !!req.autoRemove, stopSignal: normalizeSignal(cfg.StopSignal ?? 'SIGTERM') ?? 'SIGTERM',
  };
  if (req.consoleSize) config.consoleSize = req.consoleSize;
  const ports = [...req.ports ?? [], ...req.publishAll ? exposedPorts(cfg.ExposedPorts) : []];
  if (ports.length) config.ports = ports;
  if (req.publishAll) config.publishAll = true;
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
  if (req.restartPolicy) config.restartPolicy = validateRestartPolicy(req.restartPolicy);
  Object.assign(config, runRecord(k.run, cfg), k.resources);
  const health = mergeHealthcheck(req.healthcheck, cfg.Healthcheck);
  if (health) config.healthcheck = health;
  return config;
}

/** root/<id> with the records, the writable layer and the volumes (config.volumes set); nothing is left when it fails. */
export async function writeContainer(s: RootfsDeps & { volumes: VolumeStore }, root: string, config: ContainerConfigRecord, image: ResolvedImage, plan: MountRecord[]): Promise<string> {
  const { id } = config;
  const dir = join(root, id);
  await mkdir(dir, { mode: 0o700 });
  let made: string[] = [];
  try {
    await prepareRootfs(s, id, image);
    if (plan.length) {
      const m = await makeMounts(plan, s.volumes);
      made = m.made;
      config.volumes = m.records;
      await seedVolumes(m.records, made, s.volumes, await rootfsOf(s, id));
    }
    await writeConfig(dir, config);
    await writeState(dir, newState());
  } catch (e) {
    for (const n of made) await s.volumes.remove(n, true).catch(() => undefined);
    await removeRootfs(s, id).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return dir;
}
