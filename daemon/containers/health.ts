/**
 * Health checks (protocol/health.ts): the check in force is the request's over the image's
 * (mergeHealthcheck, at create); while a container runs, HealthChecks probes it: the test runs
 * as an exec would (the container's user, env and working directory; CMD-SHELL through
 * /bin/sh -c), one interval after the start and then every interval (StartInterval while in the
 * start period), killed after Timeout. The state lives on the Container (c.health), kept in its
 * directory's health.json after every probe (as docker checkpoints it), so it outlives sbxd: at
 * every start it is "starting" again with its log kept, and once the container stops it is
 * "unhealthy" (docker's "monitor stopped" rule); a paused container is not probed.
 */
import { join } from 'node:path';
import { HEALTH_DEFAULTS, SbxError, formatGoDuration, type HealthConfig, type HealthLogEntry, type HealthState } from '../../protocol/index.js';
import { readJSONOr, writeJSON } from '../util/fs.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Rootfs } from '../snapshots/differ.js';
import type { Logger } from '../util/log.js';
import type { Container } from './container.js';
import type { ContainerEvents } from './events.js';
import { specsFor } from './spec.js';

const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

/** docker's merge: the request's fields, its zero ones (and an empty Test) from the image's. @throws invalid_argument */
export function mergeHealthcheck(req: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!req) return image && { ...image };
  const out: HealthConfig = { ...req };
  if (!out.Test?.length && image?.Test) out.Test = image.Test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (!out[k] && image?.[k]) out[k] = image[k];
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = out[k];
    if (v && v < 1e6) throw new SbxError('invalid_argument', `create container: ${k} in Healthcheck cannot be less than 1ms`);
  }
  const kind = out.Test?.[0];
  if (kind !== undefined && kind !== 'NONE' && kind !== 'CMD' && kind !== 'CMD-SHELL') {
    throw new SbxError('invalid_argument', `create container: Healthcheck Test must start with NONE, CMD or CMD-SHELL (got ${JSON.stringify(kind)})`);
  }
  if ((kind === 'CMD' || kind === 'CMD-SHELL') && out.Test!.length < 2) throw new SbxError('invalid_argument', `create container: Healthcheck ${kind} needs a command`);
  return out;
}

/** Is there a test to run? */
export function hasHealthcheck(h: HealthConfig | undefined): h is HealthConfig & { Test: string[] } {
  return !!h?.Test && h.Test.length > 1 && h.Test[0] !== 'NONE';
}

const healthPath = (dir: string): string => join(dir, 'health.json');

/** The health state a container's directory keeps (undefined: none, or unreadable). */
export async function readHealth(dir: string): Promise<HealthState | undefined> {
  const h = await readJSONOr<HealthState | null>(healthPath(dir), null).catch(() => null);
  return h && typeof h.Status === 'string' && Array.isArray(h.Log) ? h : undefined;
}

async function saveHealth(c: Container): Promise<void> {
  if (c.health) await writeJSON(healthPath(c.dir), c.health);
}

type HealthDeps = { runtime: Runtime; rootfs: (id: string) => Promise<Rootfs>; log: Logger };

/** Probe every container with a health check while it runs (the manager's started/exited events). */
export function checkHealth(events: ContainerEvents, s: HealthDeps, get: (id: string) => Container | undefined): HealthChecks {
  const checks = new HealthChecks(s);
  events.on('started', (id) => { const c = get(id); if (c) checks.start(c); });
  events.on('exited', async (id) => {
    checks.stop(id);
    const c = get(id);
    if (!c?.health) return;
    c.health.Status = 'unhealthy';
    await saveHealth(c).catch((e) => s.log.warn('save health', { id, error: String(e) }));
  });
  return checks;
}

interface Probe { timer?: NodeJS.Timeout; stopped: boolean; kill?: () => void }

export class HealthChecks {
  private readonly probes = new Map<string, Probe>();

  constructor(private readonly s: HealthDeps) {}

  /** The container just started: "starting" (the log kept, as docker keeps it), the first probe one interval from now. */
  start(c: Container): void {
    this.stop(c.config.id);
    const h = c.config.healthcheck;
    if (!hasHealthcheck(h)) { delete c.health; return; }
    c.health = { Status: 'starting', FailingStreak: 0, Log: c.health?.Log ?? [] };
    void saveHealth(c).catch((e) => this.s.log.warn('save health', { id: c.config.id, error: String(e) }));
    const p: Probe = { stopped: false };
    this.probes.set(c.config.id, p);
    const started = Date.now();
    const next = (): void => {
      if (p.stopped) return;
      const inStart = Date.now() - started < (h.StartPeriod ?? 0) / 1e6 && c.health?.Status === 'starting';
      const wait = inStart && h.StartInterval ? h.StartInterval : h.Interval || HEALTH_DEFAULTS.Interval;
      p.timer = setTimeout(() => {
        void this.probe(c, h, p, started).catch((e) => this.s.log.warn('health check', { id: c.config.id, error: String(e) })).finally(next);
      }, wait / 1e6);
      p.timer.unref();
    };
    next();
  }

  /** The container stopped (or is going away): no more probes; a probe under way is killed. */
  stop(id: string): void {
    const p = this.probes.get(id);
    if (!p) return;
    p.stopped = true;
    clearTimeout(p.timer);
    p.kill?.();
    this.probes.delete(id);
  }

  private async probe(c: Container, h: HealthConfig & { Test: string[] }, p: Probe, started: number): Promise<void> {
    if (p.stopped || c.state.status !== 'running' || c.state.paused || !c.pid1) return;
    const args = h.Test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', h.Test.slice(1).join(' ')] : h.Test.slice(1);
    const start = new Date();
    const result = await this.run(c, args, h.Timeout || HEALTH_DEFAULTS.Timeout, p);
    if (p.stopped || !c.health) return;
    const entry: HealthLogEntry = { Start: start.toISOString(), End: new Date().toISOString(), ...result };
    record(c.health, entry, h, Date.now() - started < (h.StartPeriod ?? 0) / 1e6);
    await saveHealth(c);
  }

  /** One run of the test: its exit code and first 4 KiB of output; -1 when it had to be killed or could not start. */
  private async run(c: Container, args: string[], timeoutNs: number, p: Probe): Promise<{ ExitCode: number; Output: string }> {
    const rootfs = await this.s.rootfs(c.config.id);
    const { spec, proc } = await specsFor(c, rootfs, {
      tty: false, stdin: false, env: c.config.env, workdir: c.config.workdir, user: c.config.user, args, size: undefined,
    }, true);
    let proc1;
    try { proc1 = await this.s.runtime.exec(spec, c.pid1, proc); } catch (e) { return { ExitCode: -1, Output: (e as Error).message }; }
    const out: Buffer[] = [];
    let size = 0;
    proc1.onData((_stream, data) => { if (size < MAX_OUTPUT) { out.push(data); size += data.length; } });
    let timedOut = false;
    const killer = setTimeout(() => { timedOut = true; proc1.kill('SIGKILL'); }, timeoutNs / 1e6);
    p.kill = () => proc1.kill('SIGKILL');
    const exit = await new Promise<{ status: number }>((r) => proc1.onExit(r));
    clearTimeout(killer);
    delete p.kill;
    if (timedOut) return { ExitCode: -1, Output: `Health check exceeded timeout (${formatGoDuration(timeoutNs)})` };
    return { ExitCode: exit.status, Output: Buffer.concat(out).subarray(0, MAX_OUTPUT).toString('utf8') };
  }
}

/** docker's bookkeeping: success → healthy; a failure counts unless still starting inside the start period. */
function record(s: HealthState, entry: HealthLogEntry, h: HealthConfig, inStartPeriod: boolean): void {
  s.Log = [...s.Log, entry].slice(-MAX_LOG);
  if (entry.ExitCode === 0) {
    s.Status = 'healthy';
    s.FailingStreak = 0;
    return;
  }
  if (inStartPeriod && s.Status === 'starting') return;
  s.FailingStreak++;
  if (s.FailingStreak >= (h.Retries || HEALTH_DEFAULTS.Retries)) s.Status = 'unhealthy';
}
