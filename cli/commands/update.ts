import { ContainerLifecycle, parseRestartPolicy, type UpdateRequest } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { parseBytes } from '../containers.js';

export const command: Command = {
  name: 'update',
  summary: 'Update configuration of one or more containers',
  usage: 'sbx update [OPTIONS] CONTAINER [CONTAINER...]',
  options: {
    memory: { type: 'string', short: 'm' },
    'pids-limit': { type: 'string' },
    cpus: { type: 'string' },
    restart: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx update" requires at least 1 argument.');
    const req: Omit<UpdateRequest, 'id'> = {};
    const mem = str(values.memory);
    if (mem !== undefined) req.memory = parseBytes(mem, '-m, --memory');
    const pids = str(values['pids-limit']);
    if (pids !== undefined) {
      if (!/^-?\d+$/.test(pids)) throw new UsageError(`invalid argument "${pids}" for "--pids-limit" flag: strconv.ParseInt: parsing "${pids}": invalid syntax`);
      req.pidsLimit = Math.max(0, Number(pids));
    }
    const cpus = str(values.cpus);
    if (cpus !== undefined) {
      if (!/^\d+(\.\d+)?$|^\.\d+$/.test(cpus)) throw new UsageError(`invalid argument "${cpus}" for "--cpus" flag: failed to parse ${cpus} as a rational number`);
      req.nanoCpus = Math.round(Number(cpus) * 1e9);
    }
    const restart = str(values.restart);
    if (restart !== undefined) req.restartPolicy = parseRestartPolicy(restart);
    if (Object.keys(req).length === 0) throw new UsageError('you must provide one or more flags when using this command');
    let failed = 0;
    for (const id of positionals) {
      try {
        await client.call(ContainerLifecycle.update, { id, ...req });
        stdout.write(`${id}\n`);
      } catch (e) { failed++; stderr.write(`Error: ${(e as Error).message}\n`); }
    }
    return failed ? 1 : 0;
  },
};
