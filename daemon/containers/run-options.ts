/**
 * The create request's run options (protocol/run-options.ts): checked before anything is created
 * (each bad value an invalid_argument naming the field and the value, as docker's daemon refuses
 * them), then written into the container's config record over the image's config (runRecord),
 * and shown by inspect (runInspect).
 */
import { SbxError, normalizeSignal, type CreateContainerRequest, type ContainerConfig, type RunConfigInspect, type RunHostConfigInspect } from '../../protocol/index.js';
import { hostPlatform } from '../images/resolve.js';
import type { ContainerConfigRecord } from './records.js';
import type { Ulimit } from '../runtime/runtime.js';
import { checkUlimits } from './ulimits.js';

const bad = (msg: string): SbxError => new SbxError('invalid_argument', `create container: ${msg}`);

/** The run options, normalized: what the config record keeps. */
export interface RunChoice {
  labels?: Record<string, string>;
  stopSignal?: string;
  stopTimeout?: number;
  readonlyRootfs?: boolean;
  shmSize?: number;
  groupAdd?: string[];
  ulimits?: Ulimit[];
}

/** @throws invalid_argument naming the field */
export function checkRunOptions(req: CreateContainerRequest): RunChoice {
  const out: RunChoice = {};
  if (req.labels !== undefined) {
    const labels: Record<string, string> = {};
    for (const l of req.labels) {
      const i = l.indexOf('=');
      const key = i < 0 ? l : l.slice(0, i);
      if (!key.trim()) throw bad(`invalid label ${JSON.stringify(l)}: empty name`);
      labels[key] = i < 0 ? '' : l.slice(i + 1);
    }
    out.labels = labels;
  }
  if (req.stopSignal !== undefined) {
    const sig = normalizeSignal(req.stopSignal);
    if (!sig) throw bad(`invalid stopSignal ${JSON.stringify(req.stopSignal)}: not a signal name or number`);
    out.stopSignal = sig;
  }
  if (req.stopTimeout !== undefined) {
    if (!Number.isSafeInteger(req.stopTimeout) || req.stopTimeout < -1) throw bad(`invalid stopTimeout ${req.stopTimeout}: want seconds (-1: no limit)`);
    out.stopTimeout = req.stopTimeout;
  }
  if (req.readonlyRootfs) out.readonlyRootfs = true;
  if (req.shmSize !== undefined) {
    // tmpfs takes a byte count; docker refuses 0 and negative sizes
    if (!Number.isSafeInteger(req.shmSize) || req.shmSize <= 0) throw bad(`invalid shmSize ${req.shmSize}: want a size in bytes greater than 0`);
    out.shmSize = req.shmSize;
  }
  for (const g of req.groupAdd ?? []) if (!/^[A-Za-z0-9_.-]+$/.test(g) || (/^\d+$/.test(g) && Number(g) > 0xfffffffe)) throw bad(`invalid groupAdd ${JSON.stringify(g)}: want a GID or a group name`);
  if (req.groupAdd?.length) out.groupAdd = [...req.groupAdd];
  if (req.platform !== undefined) checkPlatform(req.platform);
  if (req.ulimits?.length) out.ulimits = checkUlimits(req.ulimits);
  return out;
}

/** inspect's HostConfig fields from the record. */
export function runHostInspect(c: ContainerConfigRecord): RunHostConfigInspect {
  return { ReadonlyRootfs: !!c.readonlyRootfs, ShmSize: c.shmSize ?? 64 * 1024 * 1024, GroupAdd: c.groupAdd ?? null,
    Ulimits: c.ulimits?.length ? c.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })) : null };
}

/** The record's fields for `run` over the image config `cfg`: the request's labels win over the image's. */
export function runRecord(run: RunChoice, cfg: ContainerConfig | undefined): Partial<ContainerConfigRecord> {
  const out: Partial<ContainerConfigRecord> = {};
  const labels = { ...cfg?.Labels ?? {}, ...run.labels ?? {} };
  if (Object.keys(labels).length) out.labels = labels;
  if (run.stopSignal) out.stopSignal = run.stopSignal;
  if (run.stopTimeout !== undefined) out.stopTimeout = run.stopTimeout;
  if (run.readonlyRootfs) out.readonlyRootfs = true;
  if (run.shmSize) out.shmSize = run.shmSize;
  if (run.groupAdd) out.groupAdd = run.groupAdd;
  if (run.ulimits) out.ulimits = run.ulimits;
  return out;
}

/** inspect's Config fields from the record (StopSignal shown when it is not the default, StopTimeout when set). */
export function runInspect(c: ContainerConfigRecord): RunConfigInspect {
  const out: RunConfigInspect = { Labels: c.labels ?? {} };
  if (c.stopSignal && c.stopSignal !== 'SIGTERM') out.StopSignal = c.stopSignal;
  if (c.stopTimeout !== undefined) out.StopTimeout = c.stopTimeout;
  return out;
}

/** --platform: the host's os/arch (a variant is accepted) or a clear refusal. */
function checkPlatform(p: string): void {
  const host = hostPlatform();
  const [os, arch, ...rest] = p.toLowerCase().split('/');
  const normalized = arch === 'x86_64' || arch === 'x86-64' ? 'amd64' : arch === 'aarch64' ? 'arm64' : arch;
  if (!os || !arch || rest.length > 1) throw bad(`invalid platform ${JSON.stringify(p)}: want os/arch[/variant], e.g. ${host.os}/${host.architecture}`);
  if (os !== host.os || normalized !== host.architecture) {
    throw bad(`platform ${p} is not this host's (${host.os}/${host.architecture}): sbx runs containers of the host's platform only (no emulation)`);
  }
}
