import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Files } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'export',
  summary: "Export a container's filesystem as a tar archive",
  usage: 'sbx export [OPTIONS] CONTAINER',
  options: {
    output: { type: 'string', short: 'o' },
  },
  async run({ values, positionals }, { client, stdout }) {
    if (positionals.length !== 1) throw new UsageError('"sbx export" requires exactly 1 argument.');
    const output = str(values.output);
    if (!output && stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await client.download(Files.export, { id: positionals[0]! });
    if (!output) { await pipeline(res, stdout); return; }
    // Written aside and renamed, so a failed export never leaves a half archive under the name.
    const tmp = join(dirname(output), `.${basename(output)}.sbx-export-${process.pid}`);
    try {
      await pipeline(res, createWriteStream(tmp));
      await rename(tmp, output);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  },
};
