import { Containers, Images, SbxError } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';
import { checkTemplate, renderTemplate } from '../template.js';

/**
 * `sbx inspect` / `sbx image inspect` / `sbx container inspect`: a JSON array as docker prints
 * it. Like docker, a name is looked up as a container first, then as an image; `--type`
 * restricts the lookup. With a template (`-f '{{.Id}}'`) one line per object.
 */
export const command: Command = {
  name: 'inspect',
  summary: 'Return low-level information on containers and images',
  usage: 'sbx inspect [OPTIONS] NAME|ID [NAME|ID...]',
  options: {
    format: { type: 'string', short: 'f' },
    type: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length === 0) throw new UsageError('"sbx inspect" requires at least 1 argument.');
    const type = str(values.type);
    if (type && type !== 'image' && type !== 'container') throw new UsageError(`unsupported --type "${type}" (container or image)`);
    const format = str(values.format);
    if (format && format !== 'json') checkTemplate(format);
    const found: unknown[] = [];
    let failed = false;
    for (const ref of positionals) {
      const lookups = [
        ...(type !== 'image' ? [() => client.call(Containers.inspect, { id: ref })] : []),
        ...(type !== 'container' ? [() => client.call(Images.inspect, { ref })] : []),
      ];
      let value: unknown;
      for (const lookup of lookups) {
        try {
          value = await lookup();
          break;
        } catch (e) {
          // A malformed image reference is just "not this kind of object" for a container name.
          if (!(e instanceof SbxError) || (e.code !== 'not_found' && e.code !== 'invalid_argument')) throw e;
        }
      }
      if (value === undefined) {
        stderr.write(`Error: No such object: ${ref}\n`);
        failed = true;
      } else {
        found.push(value);
      }
    }
    // docker runs the template on the typed object: a top-level field it lacks is an error
    if (format && format !== 'json') for (const v of found) stdout.write(renderTemplate(format, v, v && typeof v === 'object' && 'State' in v ? 'types.ContainerJSON' : 'types.ImageInspect') + '\n');
    else stdout.write(JSON.stringify(found, null, 4) + '\n');
    return failed ? 1 : 0;
  },
};
