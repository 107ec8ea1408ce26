import { Commit } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';

export const command: Command = {
  name: 'commit',
  summary: "Create a new image from a container's changes",
  usage: 'sbx commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  options: {
    author: { type: 'string', short: 'a' },
    message: { type: 'string', short: 'm' },
    change: { type: 'string', short: 'c', multiple: true },
    pause: { type: 'boolean', short: 'p', default: true },
    'no-pause': { type: 'boolean' },
    squash: { type: 'boolean' },
    exclude: { type: 'string', multiple: true },
    'source-date-epoch': { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('"sbx commit" requires at least 1 and at most 2 arguments.');
    const sdeText = str(values['source-date-epoch']);
    const sde = sdeText === undefined ? undefined : Number(sdeText);
    if (sde !== undefined && (!Number.isInteger(sde) || sde < 0)) throw new UsageError(`--source-date-epoch ${sdeText}: expected seconds since the epoch`);
    const author = str(values.author);
    const message = str(values.message);
    const changes = strs(values.change);
    const exclude = strs(values.exclude);
    const res = await client.call(Commit.commit, {
      id: positionals[0]!,
      ...(positionals[1] ? { reference: positionals[1] } : {}),
      ...(author !== undefined ? { author } : {}),
      ...(message !== undefined ? { message } : {}),
      ...(changes.length ? { changes } : {}),
      ...(exclude.length ? { exclude } : {}),
      pause: values.pause !== false && !values['no-pause'],
      ...(values.squash ? { squash: true } : {}),
      ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
    });
    stdout.write(res.Id + '\n');
  },
};
