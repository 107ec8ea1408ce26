/**
 * docker's exec: `POST /containers/{id}/exec` only records what to run (docker's exec
 * instance); `POST /exec/{id}/start` runs it through the container manager's exec (the same call
 * /v1 makes) and carries its session: hijacked (`Upgrade: tcp`, attach.ts), as the plain response
 * body, or not at all (Detach). `GET /exec/{id}/json` answers Running/ExitCode from the session,
 * `POST /exec/{id}/resize` resizes its TTY. Instances are forgotten EXEC_RETENTION_MS after
 * their exit, or with their container.
 */
import { randomBytes } from 'node:crypto';
import { SbxError, type ExecRequest } from '../../../protocol/index.js';
import type { Session } from '../../sessions/session.js';
import type { Services } from '../../services.js';
import { bridge } from './bridge.js';
import { isZero } from './create.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach.js';
import type { DockerRouter } from './http.js';
import { resizeQuery, responseOut } from './streams.js';

const EXEC_RETENTION_MS = 10 * 60 * 1000;
/** Exec create fields: what sbx runs, and the client-side ones it only echoes. */
const EXEC_FIELDS = new Set(['Cmd', 'Env', 'WorkingDir', 'User', 'Tty', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Detach', 'ConsoleSize', 'DetachKeys']);

interface ExecInstance {
  id: string;
  container: string;
  req: ExecRequest;
  attach: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** The TTY's detach sequence (detach.ts). */
  detachKeys: Buffer;
  session?: Session;
}

export class DockerExecs {
  private readonly byId = new Map<string, ExecInstance>();

  constructor(private readonly s: Services) {}

  create(ref: string, body: Record<string, unknown>): string {
    const c = this.s.containers.get(ref);
    for (const [k, v] of Object.entries(body)) {
      if (!EXEC_FIELDS.has(k) && !isZero(v)) throw new SbxError('invalid_argument', `exec: ${k} is not supported by sbx`, { detail: { field: k, expected: 'absent or zero' } });
    }
    if (c.state.status !== 'running') throw new SbxError('failed_precondition', `Container ${c.config.id} is not running`);
    if (c.state.paused) throw new SbxError('failed_precondition', `Container ${c.config.id} is paused, unpause the container before exec`);
    const cmd = body.Cmd;
    if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((a) => typeof a !== 'string')) throw new SbxError('invalid_argument', 'No exec command specified');
    const req: ExecRequest = { id: c.config.id, cmd: cmd as string[], tty: body.Tty === true, openStdin: body.AttachStdin === true };
    if (Array.isArray(body.Env) && body.Env.length) req.env = body.Env as string[];
    if (typeof body.WorkingDir === 'string' && body.WorkingDir) req.workdir = body.WorkingDir;
    if (typeof body.User === 'string' && body.User) req.user = body.User;
    const cs = body.ConsoleSize as number[] | null | undefined;
    if (Array.isArray(cs) && cs[0] && cs[1]) req.consoleSize = { rows: cs[0], cols: cs[1] };
    const detachKeys = parseDetachKeys(typeof body.DetachKeys === 'string' && body.DetachKeys ? body.DetachKeys : DEFAULT_DETACH_KEYS);
    // instances of containers removed meanwhile go (a started one goes EXEC_RETENTION_MS after its exit)
    const live = new Set(this.s.containers.ids());
    for (const [k, e] of this.byId) if (!live.has(e.container)) this.byId.delete(k);
    const id = randomBytes(32).toString('hex');
    const attach = { stdin: body.AttachStdin === true, stdout: body.AttachStdout !== false, stderr: body.AttachStderr !== false };
    this.byId.set(id, { id, container: c.config.id, req, attach, detachKeys });
    return id;
  }

  get(id: string): ExecInstance {
    const e = this.byId.get(id);
    if (!e || !this.s.containers.ids().includes(e.container)) {
      this.byId.delete(id);
      throw new SbxError('not_found', `No such exec instance: ${id}`);
    }
    return e;
  }

  /** Run the instance's command (once): its session, whose output waits in the session's rings for whoever attaches. */
  async start(id: string): Promise<ExecInstance & { session: Session }> {
    const e = this.get(id);
    if (e.session) throw new SbxError('conflict', `Error: Exec command ${id} has already run`);
    const { session } = await this.s.containers.exec(e.req);
    const se = this.s.containers.session(session);
    e.session = se;
    void se.waitExit().then(() => setTimeout(() => this.byId.delete(id), EXEC_RETENTION_MS).unref());
    return e as ExecInstance & { session: Session };
  }

  /** docker's ExecInspect. */
  inspect(id: string): Record<string, unknown> {
    const e = this.get(id);
    const se = e.session;
    return {
      ID: e.id, ContainerID: e.container, Running: se?.state === 'running', ExitCode: se?.exit ? se.exit.status : null, Pid: 0,
      OpenStdin: e.attach.stdin, OpenStdout: e.attach.stdout, OpenStderr: e.attach.stderr, CanRemove: false, DetachKeys: '',
      ProcessConfig: { tty: !!e.req.tty, entrypoint: e.req.cmd[0], arguments: e.req.cmd.slice(1), privileged: false, user: e.req.user ?? '' },
    };
  }
}

export function registerDockerExec(r: DockerRouter, execs: DockerExecs): void {
  r.on('POST', '/containers/:id/exec', async ({ params, body }) => ({ status: 201, json: { Id: execs.create(params.id!, body) } }));

  r.on('GET', '/exec/:id/json', async ({ params }) => ({ json: execs.inspect(params.id!) }));

  r.on('POST', '/exec/:id/resize', async ({ params, query }) => {
    const e = execs.get(params.id!);
    if (!e.session) throw new SbxError('failed_precondition', `exec ${e.id}: not started`);
    e.session.resize(resizeQuery(query));
    return { status: 200 };
  });

  // Not upgraded: Detach runs it and answers at once; else the output is the response body (no stdin)
  r.on('POST', '/exec/:id/start', async ({ params, body, res }) => {
    const e = await execs.start(params.id!);
    if (body.Detach === true) return { status: 200 };
    const raw = !!e.req.tty;
    res.writeHead(200, { 'content-type': raw ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    res.flushHeaders();
    const input = bridge(e.session, responseOut(res), { ...e.attach, stdin: false, raw, client: 'docker-exec' });
    res.on('close', () => input.gone());
    return 'handled';
  });
}
