/** `sbx volume create|ls|inspect|rm|prune`: docker's local volumes, docker's output and exit codes. */
import { SbxError, Volumes } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';
import { daemonError, humanSize } from '../output.js';
import { confirm } from '../prompt.js';
import { applyListFilters, labelMatch, parseListFilters } from '../list-filter.js';
import { checkListFormat, formatList, labelMethod } from '../template.js';

const USAGE = 'sbx volume create [NAME] | ls [-q] [--format F] | inspect VOLUME... | rm [-f] VOLUME... | prune [-a] [-f]';

export const command: Command = {
  name: 'volume',
  subcommands: ['create', 'ls', 'inspect', 'rm', 'prune'],
  summary: 'Manage volumes (create, ls, inspect, rm, prune)',
  usage: USAGE,
  // docker's `volume ls -f` is --filter (-f is --force for rm and prune)
  verbOptions: { ls: { force: { type: 'boolean' }, filter: { type: 'string', short: 'f', multiple: true } }, list: { force: { type: 'boolean' }, filter: { type: 'string', short: 'f', multiple: true } } },
  options: {
    all: { type: 'boolean', short: 'a' },
    force: { type: 'boolean', short: 'f' },
    quiet: { type: 'boolean', short: 'q' },
    label: { type: 'string', multiple: true },
    driver: { type: 'string', short: 'd' },
    name: { type: 'string' },
    format: { type: 'string' },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin }) {
    const [verb, ...args] = positionals;
    switch (verb) {
      case 'create': {
        const driver = str(values.driver);
        if (driver !== undefined && driver !== 'local') throw new SbxError('invalid_argument', `create volume: driver "${driver}" not found (sbx has only "local")`);
        if (args.length > 1) throw new UsageError('"sbx volume create" requires at most 1 argument.');
        const name = args[0] ?? str(values.name) ?? '';
        const v = await client.call(Volumes.create, { name, labels: strs(values.label) });
        stdout.write(`${v.Name}\n`);
        return 0;
      }
      case 'ls': case 'list': {
        const format = str(values.format);
        checkListFormat(format);
        let filters: Map<string, string[]>;
        let dangling: boolean[] | undefined;
        try {
          filters = parseListFilters(strs(values.filter), ['dangling', 'name', 'label', 'driver']);
          dangling = filters.get('dangling')?.map((v) => {
            if (!['true', 'false', '1', '0'].includes(v)) throw new SbxError('invalid_argument', `invalid filter 'dangling=${v}'`);
            return v === 'true' || v === '1';
          });
        } catch (e) { if (e instanceof SbxError) return daemonError(stderr, e); throw e; }
        filters.delete('dangling');
        const listed = dangling && new Set(dangling).size === 1 ? await client.call(Volumes.list, { dangling: dangling[0]! }) : await client.call(Volumes.list, {});
        const vs = applyListFilters(listed, filters, {
          name: (v, x) => v.Name.includes(x), label: (v, x) => labelMatch(v.Labels, x), driver: (v, x) => v.Driver === x,
        });
        if (values.quiet) { stdout.write(vs.map((v) => `${v.Name}\n`).join('')); return 0; }
        // docker's volumeContext fields
        const rows = vs.map((v) => ({
          Driver: v.Driver, Labels: Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).sort().join(','), Links: 'N/A',
          Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, Size: 'N/A',
        }));
        stdout.write(formatList(format, rows, {
          type: '*formatter.volumeContext', methods: (r: { Labels: string }) => labelMethod(r.Labels),
          headers: { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE' },
          // docker's tabwriter has a minimum cell width of 10: "DRIVER    VOLUME NAME"
          table: () => ['DRIVER    VOLUME NAME', ...rows.map((v) => `${v.Driver.padEnd(10)}${v.Name}`)].map((l) => `${l}\n`).join(''),
        }));
        return 0;
      }
      case 'inspect': {
        if (!args.length) throw new UsageError('"sbx volume inspect" requires at least 1 argument.');
        const found = [];
        let failed = 0;
        for (const name of args) {
          try { found.push(await client.call(Volumes.inspect, { name })); } catch (e) {
            if (!(e instanceof SbxError) || e.code !== 'not_found') throw e;
            failed++;
            stderr.write(`Error: ${e.message}\n`);
          }
        }
        stdout.write(JSON.stringify(found, null, 4) + '\n');
        return failed ? 1 : 0;
      }
      case 'rm': case 'remove': {
        if (!args.length) throw new UsageError('"sbx volume rm" requires at least 1 argument.');
        let failed = 0;
        for (const name of args) {
          try {
            await client.call(Volumes.remove, { name, force: !!values.force });
            stdout.write(`${name}\n`);
          } catch (e) {
            failed++;
            stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
          }
        }
        return failed ? 1 : 0;
      }
      case 'prune': {
        const all = values.all === true;
        if (values.force !== true) {
          const what = all ? 'all local volumes' : 'anonymous local volumes';
          if (!(await confirm(stdin, stdout, `WARNING! This will remove ${what} not used by at least one container.\n`))) {
            stderr.write('volume prune has been cancelled\n');
            return 1;
          }
        }
        const r = await client.call(Volumes.prune, { all });
        if (r.VolumesDeleted.length) stdout.write(`Deleted Volumes:\n${r.VolumesDeleted.map((n) => `${n}\n`).join('')}\n`);
        stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
        return 0;
      }
      default: throw new UsageError(`expected "${USAGE}"`);
    }
  },
};
