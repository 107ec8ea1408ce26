import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Images, SbxError } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'load',
  summary: 'Load images from a tar archive (docker save or OCI archive; plain or gzip) or STDIN',
  usage: 'sbx load [OPTIONS]',
  options: {
    input: { type: 'string', short: 'i' },
    quiet: { type: 'boolean', short: 'q' },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin }) {
    if (positionals.length) throw new UsageError('"sbx load" accepts no arguments (use -i FILE or STDIN).');
    const input = str(values.input);
    let body: Readable;
    if (input && input !== '-') {
      if (!(await stat(input).catch(() => undefined))?.isFile()) throw new UsageError(`open ${input}: no such file`);
      body = createReadStream(input);
    } else {
      if (stdin.isTTY) throw new UsageError('requested load from stdin, but stdin is empty');
      body = stdin;
    }
    await client.ensureDaemon();
    // docker load exits 1 when the daemon refuses the archive (125 is docker run's code).
    const r = await client.upload(Images.load, {}, body).catch((e: unknown) => {
      if (!(e instanceof SbxError) || e.code === 'unavailable') throw e;
      stderr.write(`Error: ${e.message}\n`);
      return undefined;
    });
    if (!r) return 1;
    if (values.quiet) return;
    for (const n of r.loaded) stdout.write(`Loaded image: ${n}\n`);
    for (const id of r.ids) stdout.write(`Loaded image ID: ${id}\n`);
  },
};
