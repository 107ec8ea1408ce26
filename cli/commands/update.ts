import { ContainerLifecycle, parseRestartPolicy, type UpdateRequest } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { RESOURCE_OPTIONS, resourceFlags } from '../resource-options.js';

export const command: Command = {
  name: 'update',
  summary: 'Update configuration of one or more containers',
  usage: 'sbx update [OPTIONS] CONTAINER [CONTAINER...]',
  options: {
    ...RESOURCE_OPTIONS,
    restart: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx update" requires at least 1 argument.');
    const req: Omit<UpdateRequest, 'id'> = resourceFlags(values);
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
