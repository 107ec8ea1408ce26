import { readFile } from 'node:fs/promises';
import { Containers, SbxError, type CreateContainerRequest } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';
import { PROCESS_ENV_OPTIONS, PROCESS_OPTIONS, entrypointArg, parseBytes, parseDevice, parseEnv, parsePort } from '../containers.js';

export const command: Command = {
  name: 'run',
  summary: 'Create and run a new container from an image',
  usage: 'sbx run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  stopAtPositional: true,
  options: {
    ...PROCESS_OPTIONS,
    ...PROCESS_ENV_OPTIONS,
    rm: { type: 'boolean' },
    name: { type: 'string' },
    hostname: { type: 'string', short: 'h' },
    entrypoint: { type: 'string' },
    network: { type: 'string' },
    memory: { type: 'string', short: 'm' },
    'pids-limit': { type: 'string' },
    init: { type: 'boolean' },
    publish: { type: 'string', short: 'p', multiple: true },
    privileged: { type: 'boolean' },
    'cap-add': { type: 'string', multiple: true },
    'cap-drop': { type: 'string', multiple: true },
    device: { type: 'string', multiple: true },
    'security-opt': { type: 'string', multiple: true },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin, env }) {
    const [image, ...cmd] = positionals;
    if (!image) throw new UsageError('"sbx run" requires at least 1 argument.');
    const tty = !!values.tty;
    const interactive = !!values.interactive;
    if (tty && interactive && !values.detach && !stdin.isTTY) throw new UsageError('the input device is not a TTY');
    const req: CreateContainerRequest = { image, tty, openStdin: interactive, autoRemove: !!values.rm };
    if (cmd.length) req.cmd = cmd;
    const name = str(values.name);
    if (name !== undefined) req.name = name;
    const e = parseEnv(strs(values.env), env);
    if (e.length) req.env = e;
    const wd = str(values.workdir);
    if (wd !== undefined) req.workdir = wd;
    const host = str(values.hostname);
    if (host !== undefined) req.hostname = host;
    const user = str(values.user);
    if (user !== undefined) req.user = user;
    const ep = entrypointArg(str(values.entrypoint));
    if (ep) req.entrypoint = ep;
    const net = str(values.network);
    if (net !== undefined) {
      if (net !== 'none' && net !== 'host') throw new UsageError(`invalid argument "${net}" for "--network" flag: sbx supports none and host`);
      req.network = net;
    }
    const mem = str(values.memory);
    if (mem !== undefined) req.memory = parseBytes(mem, '-m, --memory');
    const pids = str(values['pids-limit']);
    if (pids !== undefined) {
      if (!/^\d+$/.test(pids) || Number(pids) < 1) throw new UsageError(`invalid argument "${pids}" for "--pids-limit" flag`);
      req.pidsLimit = Number(pids);
    }
    if (values.init) req.init = true;
    const ports = strs(values.publish).map(parsePort);
    if (ports.length) req.ports = ports;
    // capability names are checked by the daemon (exit 125 naming the value, as docker does)
    if (values.privileged) req.privileged = true;
    const capAdd = strs(values['cap-add']);
    if (capAdd.length) req.capAdd = capAdd;
    const capDrop = strs(values['cap-drop']);
    if (capDrop.length) req.capDrop = capDrop;
    const devices = strs(values.device).map(parseDevice);
    if (devices.length) req.devices = devices;
    const sec = strs(values['security-opt']);
    if (sec.length) {
      req.securityOpt = sec;
      const profile = await readSeccompProfile(sec);
      if (profile !== undefined) req.seccompProfile = profile;
    }
    if (tty && stdout.isTTY && stdout.columns) req.consoleSize = { cols: stdout.columns, rows: stdout.rows };

    const created = client.call(Containers.create, req);
    if (values.detach) {
      const { id } = await created;
      await client.call(Containers.start, { id });
      stdout.write(`${id}\n`);
      return 0;
    }
    // The stream code (ws) loads while sbxd creates the container; the start goes out next to the
    // attach rather than after it: the session keeps all output from offset 0, so nothing is missed.
    const [{ id }, { attachSession, exitStatus }] = await Promise.all([created, import('../stream.js')]);
    const started = client.call(Containers.start, { id }).then(() => undefined, (err: unknown) => err);
    let startError: SbxError | undefined;
    const r = await attachSession({
      client, session: id, tty, stdin: interactive, in: stdin, out: stdout, err: stderr,
      onAttached: async () => {
        const err = await started;
        if (err !== undefined) {
          // a command that cannot run ends the session too; its exit carries the message
          if (err instanceof SbxError && (err.code === 'command_not_found' || err.code === 'cannot_execute')) return;
          startError = err instanceof SbxError ? err : SbxError.wrap(err, 'start container');
          throw startError;
        }
      },
    });
    if (startError) {
      if (values.rm) await client.call(Containers.remove, { id, force: true }).catch(() => undefined);
      throw startError;
    }
    return exitStatus(r, stderr);
  },
};

/** docker's CLI reads seccomp=PROFILE.json itself and sends the JSON; the daemon validates it and every other option. */
async function readSeccompProfile(opts: string[]): Promise<string | undefined> {
  for (const o of opts) {
    const m = /^seccomp[=:](.*)$/s.exec(o);
    if (!m || m[1] === 'unconfined' || m[1]!.trimStart().startsWith('{') || !m[1]) continue;
    try { return await readFile(m[1]!, 'utf8'); } catch (e) {
      throw new SbxError('invalid_argument', `opening seccomp profile (${m[1]}) failed: ${(e as Error).message}`);
    }
  }
  return undefined;
}
