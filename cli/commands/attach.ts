import { Containers, Sessions } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';
import { attachSession, exitStatus } from '../stream.js';

export const command: Command = {
  name: 'attach',
  summary: "Attach local standard input, output, and error streams to a running container (detach with Enter ~ .)",
  usage: 'sbx attach [OPTIONS] CONTAINER',
  options: { 'no-stdin': { type: 'boolean' } },
  async run({ values, positionals }, { client, stdout, stderr, stdin }) {
    const [ref] = positionals;
    if (!ref || positionals.length > 1) throw new UsageError('"sbx attach" requires exactly 1 argument.');
    const info = await client.call(Containers.inspect, { id: ref });
    if (!info.State.Running) throw new UsageError('you cannot attach to a stopped container, start it first');
    const se = await client.call(Sessions.inspect, { session: info.Id });
    const r = await attachSession({
      client, session: info.Id, tty: info.Config.Tty, stdin: !values['no-stdin'] && info.Config.OpenStdin,
      in: stdin, out: stdout, err: stderr, from: se.offsets,
    });
    if (r.detached) { stderr.write(`\r\nDetached from ${ref}; it keeps running (sbx attach ${ref} to come back).\r\n`); return 0; }
    return exitStatus(r, stderr);
  },
};
