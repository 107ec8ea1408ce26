/**
 * Restart policies at work (the rules are in protocol/restart.ts): after an exit the manager
 * asks exited(); a restart is scheduled after docker's backoff and runs through the manager's
 * start (as the policy, not as the user: RestartCount and the manual-stop mark stay).
 *
 * Contract
 * - exited(c) is called once the exit is recorded (state written, waiters told). It decides,
 *   marks the container restarting (state.restarting, RestartCount + 1, written) and starts it
 *   after the delay; it returns whether it did.
 * - cancel(c) drops a pending restart (the user's start/stop/kill/rm, an update of the policy).
 * - close() drops every pending restart and refuses new ones (sbxd is shutting down: the exits
 *   that follow are not failures of the containers).
 * - atBoot(c): whether a container found at sbxd start is to be started again.
 */
import { policyWantsRestart } from '../../protocol/index.js';
import type { Logger } from '../util/log.js';
import type { Container } from './container.js';
import { writeState } from './records.js';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
/** A run this long resets the delay (docker's). */
const RESET_AFTER_MS = 10_000;

export class RestartPolicies {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The last delay per container id, doubled at each restart. */
  private readonly delays = new Map<string, number>();
  private closing = false;

  /** start: the manager's start as the policy does it (the user's marks untouched). */
  constructor(private readonly start: (id: string) => Promise<void>, private readonly log: Logger) {}

  async exited(c: Container): Promise<boolean> {
    const id = c.config.id;
    const s = c.state;
    if (this.closing || s.status !== 'exited') return false;
    if (!policyWantsRestart(c.config.restartPolicy, s.exitCode, !!s.manuallyStopped, s.restartCount ?? 0)) {
      this.delays.delete(id);
      return false;
    }
    const ran = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
    const last = this.delays.get(id);
    const delay = last === undefined || ran >= RESET_AFTER_MS ? FIRST_DELAY_MS : Math.min(last * 2, MAX_DELAY_MS);
    this.delays.set(id, delay);
    s.restartCount = (s.restartCount ?? 0) + 1;
    s.restarting = true;
    await writeState(c.dir, s).catch(() => undefined);
    this.timers.set(id, setTimeout(() => {
      this.timers.delete(id);
      if (!c.state.restarting) return;
      this.start(id).catch((e) => {
        c.state.restarting = false;
        this.log.warn('restart by policy', { id, error: String(e) });
      });
    }, delay));
    return true;
  }

  cancel(c: Container): void {
    const t = this.timers.get(c.config.id);
    if (t) clearTimeout(t);
    this.timers.delete(c.config.id);
    this.delays.delete(c.config.id);
    c.state.restarting = false;
  }

  close(): void {
    this.closing = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  atBoot(c: Container): boolean {
    const s = c.state;
    // the count it reached counts (docker's restore asks a restart manager made with RestartCount):
    // an on-failure:N container that used its N restarts stays exited
    return s.status === 'exited' && policyWantsRestart(c.config.restartPolicy, s.exitCode, !!s.manuallyStopped, s.restartCount ?? 0);
  }
}
