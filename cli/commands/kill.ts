import { Containers, normalizeSignal } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'kill',
  summary: 'Kill one or more running containers',
  usage: 'sbx kill [OPTIONS] CONTAINER [CONTAINER...]',
  options: { signal: { type: 'string', short: 's' } },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx kill" requires at least 1 argument.');
    const s = str(values.signal) ?? 'SIGKILL';
    const signal = normalizeSignal(s);
    if (!signal) throw new UsageError(`invalid signal: ${s}`);
    let failed = 0;
    for (const id of positionals) {
      try { await client.call(Containers.kill, { id, signal }); stdout.write(`${id}\n`); } catch (e) { failed++; stderr.write(`Error: ${(e as Error).message}\n`); }
    }
    return failed ? 1 : 0;
  },
};
