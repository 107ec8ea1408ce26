/**
 * The containers' sessions (sessions/session.ts): each container's main session (id = container
 * id, from create on, fresh at every later start, its output appended to the container's log)
 * and its exec sessions (`<container id>.<n>`, kept EXEC_RETENTION_MS after their output drained).
 * Errors: not_found (no such session), failed_precondition / invalid_argument (exec).
 */
import { SbxError, type ExecRequest } from '../../protocol/index.js';
import type { Runtime } from '../runtime/runtime.js';
import { Session } from '../sessions/session.js';
import type { Container } from './container.js';
import { LogWriter } from './logfile.js';
import { logPath } from './records.js';
import { rootfsOf, type RootfsDeps } from './rootfs.js';
import { mergeEnv, specsFor } from './spec.js';

const EXEC_RETENTION_MS = 10 * 60 * 1000;

export class ContainerSessions {
  private readonly byId = new Map<string, Session>();

  /** signal: how the main session's kill reaches the container (the manager's, which thaws); announce: its container events. */
  constructor(private readonly s: RootfsDeps, private readonly runtime: Runtime, private readonly signal: (c: Container, sig: string) => void,
    private readonly announce: (c: Container, action: string, extra: Record<string, string>) => void = () => {}) {}

  get(id: string): Session {
    const se = this.byId.get(id);
    if (!se) throw new SbxError('not_found', `session ${id}: no such session`);
    return se;
  }

  /** The container's main session; fresh: a new one (and a new log writer) for a later start. */
  main(c: Container, fresh = false): Session {
    if (c.session && !fresh) return c.session;
    c.session?.closeAll(1000, 'container restarted');
    c.log?.close();
    c.log = new LogWriter(logPath(c.dir));
    const log = c.log;
    const se = new Session({
      id: c.config.id, containerId: c.config.id, tty: c.config.tty,
      ...(c.config.consoleSize ? { size: c.config.consoleSize } : {}),
      kill: (sig) => this.signal(c, sig),
      onOutput: (stream, data) => log.append(stream, data),
      onAttach: () => this.announce(c, 'attach', {}),
    });
    c.session = se;
    this.byId.set(c.config.id, se);
    return se;
  }

  /** The container is gone: keep its main session while a client still reads its last output, and a little longer. */
  retire(c: Container): void {
    const main = c.session;
    if (main) void main.drained().then(() => setTimeout(() => { if (this.byId.get(main.id) === main) this.byId.delete(main.id); }, 60_000).unref());
  }

  closeAll(code: number, reason: string): void { for (const se of this.byId.values()) se.closeAll(code, reason); }

  async exec(c: Container, req: ExecRequest): Promise<{ session: string }> {
    if (c.state.status !== 'running' || !c.pid1) throw new SbxError('failed_precondition', `exec in container ${c.config.name}: container is not running`);
    if (c.state.paused) throw new SbxError('failed_precondition', `exec in container ${c.config.name}: container is paused, unpause the container before exec`);
    if (!Array.isArray(req.cmd) || req.cmd.length === 0 || req.cmd.some((a) => typeof a !== 'string')) {
      throw new SbxError('invalid_argument', 'exec: a command is required');
    }
    const rootfs = await rootfsOf(this.s, c.config.id);
    const { spec, proc } = await specsFor(c, rootfs, {
      tty: !!req.tty, stdin: !!req.openStdin, env: mergeEnv(c.config.env, req.env ?? []),
      workdir: req.workdir ?? c.config.workdir, user: req.user ?? c.config.user, args: req.cmd, size: req.consoleSize,
    }, true);
    const sid = `${c.config.id}.${++c.execs}`;
    const session: Session = new Session({
      id: sid, containerId: c.config.id, tty: proc.tty, ...(proc.size ? { size: proc.size } : {}),
      kill: (sig) => p.kill(sig),
    });
    const p = await this.runtime.exec(spec, c.pid1, proc);
    session.bind(p);
    this.byId.set(sid, session);
    void session.drained().then(() => setTimeout(() => this.byId.delete(sid), EXEC_RETENTION_MS).unref());
    // docker's exec events: the command in the action, the exec's id as execID
    for (const a of ['exec_create', 'exec_start']) this.announce(c, `${a}: ${req.cmd.join(' ')}`, { execID: sid });
    return { session: sid };
  }
}
