import { Containers, Sessions } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { detachKeys } from '../detach-keys.js';
import { attachSession, exitStatus } from '../stream.js';

export const command: Command = {
  name: 'attach',
  summary: "Attach local standard input, output, and error streams to a running container (detach with Ctrl-P Ctrl-Q)",
  usage: 'sbx attach [OPTIONS] CONTAINER',
  options: { 'no-stdin': { type: 'boolean' }, 'detach-keys': { type: 'string' }, 'sig-proxy': { type: 'boolean', default: true } },
  async run({ values, positionals }, { client, stdout, stderr, stdin, env }) {
    const [ref] = positionals;
    if (!ref || positionals.length > 1) throw new UsageError('"sbx attach" requires exactly 1 argument.');
    const keys = detachKeys(str(values['detach-keys']), env);
    const info = await client.call(Containers.inspect, { id: ref });
    if (!info.State.Running) throw new UsageError('you cannot attach to a stopped container, start it first');
    const se = await client.call(Sessions.inspect, { session: info.Id });
    const r = await attachSession({
      client, session: info.Id, tty: info.Config.Tty, stdin: !values['no-stdin'] && info.Config.OpenStdin,
      in: stdin, out: stdout, err: stderr, from: se.offsets, detachKeys: keys,
      sigProxy: values['sig-proxy'] !== false,
    });
    return exitStatus(r, stderr);
  },
};
