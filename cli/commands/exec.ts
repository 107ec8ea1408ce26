import { Containers } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';
import { PROCESS_ENV_OPTIONS, PROCESS_OPTIONS, parseEnv } from '../containers.js';
import { detachKeys } from '../detach-keys.js';

export const command: Command = {
  name: 'exec',
  summary: 'Execute a command in a running container',
  usage: 'sbx exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  stopAtPositional: true,
  options: {
    ...PROCESS_OPTIONS,
    ...PROCESS_ENV_OPTIONS,
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin, env }) {
    const [id, ...cmd] = positionals;
    if (!id || cmd.length === 0) throw new UsageError('"sbx exec" requires at least 2 arguments.');
    const tty = !!values.tty;
    const interactive = !!values.interactive;
    if (tty && interactive && !stdin.isTTY) throw new UsageError('the input device is not a TTY');
    const keys = detachKeys(str(values['detach-keys']), env);
    const e = parseEnv(strs(values.env), env);
    const wd = str(values.workdir);
    const user = str(values.user);
    const started = client.call(Containers.exec, {
      id, cmd, tty, openStdin: interactive, ...(e.length ? { env: e } : {}), ...(wd !== undefined ? { workdir: wd } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(tty && stdout.isTTY && stdout.columns ? { consoleSize: { cols: stdout.columns, rows: stdout.rows } } : {}),
    });
    if (values.detach) { await started; return 0; }
    // the stream code (ws) loads while sbxd starts the process
    const [{ session }, { attachSession, exitStatus }] = await Promise.all([started, import('../stream.js')]);
    const r = await attachSession({ client, session, tty, stdin: interactive, in: stdin, out: stdout, err: stderr, detachKeys: keys });
    return exitStatus(r, stderr);
  },
};
