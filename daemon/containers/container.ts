/** A container as the manager holds it in memory: its records, its main session, its log. */
import type { ContainerConfigRecord, ContainerStateRecord } from './records.js';
import type { LogWriter } from './logfile.js';
import type { HealthState, PortMapping } from '../../protocol/index.js';
import type { Session } from '../sessions/session.js';
import type { Endpoint } from '../networks/networks.js';

export interface Container {
  config: ContainerConfigRecord;
  state: ContainerStateRecord;
  /** $SBX_ROOT/containers/<id>. */
  dir: string;
  /** The main session (id = container id), from create on. */
  session?: Session;
  log?: LogWriter;
  /** The main process's host pid while it runs, else 0. */
  pid1: number;
  /** Exec sessions started so far (their ids are `<container id>.<n>`). */
  execs: number;
  /** Called once with the final state when the main process has exited and been recorded. */
  exited: ((s: ContainerStateRecord) => void)[];
  /** Its exit is being recorded (state already `exited`, listeners still running): waiters wait for `exited`. */
  recording?: boolean;
  unpublish?: () => Promise<void>;
  /** While it runs: the published ports with the host ports actually bound. */
  published?: PortMapping[];
  /** While it runs: the networks it is on (name → its endpoint, interface, and how to leave at exit). */
  nets?: Map<string, { endpoint: Endpoint; ifname: string; leave: () => Promise<void> }>;
  /** From its start on, when it has a health check (health.ts). */
  health?: HealthState;
}
