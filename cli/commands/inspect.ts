import { Images, SbxError } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { renderTemplate } from '../template.js';

/**
 * `sbx inspect` / `sbx image inspect`: a JSON array as docker prints it. Images only for now
 * (`--type image`); with a template (`-f '{{.Id}}'`) one line per object.
 */
export const command: Command = {
  name: 'inspect',
  summary: 'Return low-level information on images',
  usage: 'sbx inspect [OPTIONS] NAME|ID [NAME|ID...]',
  options: {
    format: { type: 'string', short: 'f' },
    type: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx inspect" requires at least 1 argument.');
    const type = str(values.type);
    if (type && type !== 'image') throw new UsageError(`unsupported --type "${type}" (only "image")`);
    const format = str(values.format);
    const found: unknown[] = [];
    let failed = false;
    for (const ref of positionals) {
      try {
        found.push(await client.call(Images.inspect, { ref }));
      } catch (e) {
        if (!(e instanceof SbxError) || e.code !== 'not_found') throw e;
        stderr.write(`Error: No such object: ${ref}\n`);
        failed = true;
      }
    }
    if (format && format !== 'json') for (const v of found) stdout.write(renderTemplate(format, v) + '\n');
    else stdout.write(JSON.stringify(found, null, 4) + '\n');
    return failed ? 1 : 0;
  },
};
