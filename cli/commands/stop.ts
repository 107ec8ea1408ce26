import { Containers } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'stop',
  summary: 'Stop one or more running containers',
  usage: 'sbx stop [OPTIONS] CONTAINER [CONTAINER...]',
  options: { time: { type: 'string', short: 't' } },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx stop" requires at least 1 argument.');
    const t = str(values.time);
    if (t !== undefined && !/^\d+$/.test(t)) throw new UsageError(`invalid argument "${t}" for "-t, --time" flag`);
    let failed = 0;
    await Promise.all(positionals.map(async (id) => {
      try {
        await client.call(Containers.stop, { id, ...(t !== undefined ? { timeout: Number(t) } : {}) });
        stdout.write(`${id}\n`);
      } catch (e) { failed++; stderr.write(`Error: ${(e as Error).message}\n`); }
    }));
    return failed ? 1 : 0;
  },
};
