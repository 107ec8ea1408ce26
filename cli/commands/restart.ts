import { ContainerLifecycle } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'restart',
  summary: 'Restart one or more containers',
  usage: 'sbx restart [OPTIONS] CONTAINER [CONTAINER...]',
  options: { time: { type: 'string', short: 't' } },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx restart" requires at least 1 argument.');
    const t = str(values.time);
    if (t !== undefined && !/^\d+$/.test(t)) throw new UsageError(`invalid argument "${t}" for "-t, --time" flag`);
    let failed = 0;
    for (const id of positionals) {
      try {
        await client.call(ContainerLifecycle.restart, { id, ...(t !== undefined ? { timeout: Number(t) } : {}) });
        stdout.write(`${id}\n`);
      } catch (e) { failed++; stderr.write(`Error: ${(e as Error).message}\n`); }
    }
    return failed ? 1 : 0;
  },
};
