import { Containers } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { detachKeys } from '../detach-keys.js';
import { attachSession, exitStatus } from '../stream.js';

export const command: Command = {
  name: 'start',
  summary: 'Start one or more stopped containers',
  usage: 'sbx start [OPTIONS] CONTAINER [CONTAINER...]',
  options: { attach: { type: 'boolean', short: 'a' }, interactive: { type: 'boolean', short: 'i' }, 'detach-keys': { type: 'string' } },
  async run({ values, positionals }, { client, stdout, stderr, stdin, env }) {
    if (positionals.length === 0) throw new UsageError('"sbx start" requires at least 1 argument.');
    if (values.attach || values.interactive) {
      if (positionals.length > 1) throw new UsageError('you cannot start and attach multiple containers at once');
      const keys = detachKeys(str(values['detach-keys']), env);
      const info = await client.call(Containers.inspect, { id: positionals[0]! });
      if (info.State.Running) throw new UsageError(`container ${positionals[0]} is already running; use "sbx attach"`);
      await client.call(Containers.start, { id: info.Id });
      const r = await attachSession({
        client, session: info.Id, tty: info.Config.Tty, stdin: !!values.interactive, in: stdin, out: stdout, err: stderr, detachKeys: keys,
      });
      return exitStatus(r, stderr);
    }
    let failed = 0;
    for (const id of positionals) {
      try { await client.call(Containers.start, { id }); stdout.write(`${id}\n`); } catch (e) { failed++; stderr.write(`Error: ${(e as Error).message}\n`); }
    }
    return failed ? 1 : 0;
  },
};
