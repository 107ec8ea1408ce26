import { UsageError, str, type Command } from '../command.js';
import { CREATE_OPTIONS, createRequest } from '../create-request.js';
import { createPulling, pullPolicy } from '../image-pull.js';

export const command: Command = {
  name: 'create',
  summary: 'Create a new container',
  usage: 'sbx create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  stopAtPositional: true,
  options: CREATE_OPTIONS,
  async run({ values, positionals }, { client, stdout, stderr, env }) {
    const [image, ...cmd] = positionals;
    if (!image) throw new UsageError('"sbx create" requires at least 1 argument.');
    const policy = pullPolicy(str(values.pull));
    const { id, warnings } = await createPulling(client, await createRequest(image, cmd, values, env, stdout), policy, stderr);
    for (const w of warnings) stderr.write(`WARNING: ${w}\n`);
    stdout.write(`${id}\n`);
  },
};
