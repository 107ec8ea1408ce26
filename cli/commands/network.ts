/**
 * `sbx network create|ls|inspect|rm|prune|connect|disconnect`: docker's verbs, output and JSON. create prints the
 * id; ls the NETWORK ID/NAME/DRIVER/SCOPE table (-q ids, --format); inspect a JSON array;
 * rm prints each name removed; prune asks unless -f and lists "Deleted Networks:".
 */
import { Networks, SbxError, type NetworkInspect } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';
import { daemonError, table } from '../output.js';
import { applyListFilters, labelMatch, parseListFilters } from '../list-filter.js';
import { checkTemplate, formatList, labelMethod, renderTemplate } from '../template.js';

const USAGE = 'sbx network create|ls|inspect|rm|prune|connect|disconnect [OPTIONS]';

export const command: Command = {
  name: 'network',
  subcommands: ['create', 'ls', 'inspect', 'rm', 'prune', 'connect', 'disconnect'],
  summary: 'Manage networks (create, ls, inspect, rm, prune, connect, disconnect)',
  usage: USAGE,
  // docker's `network ls -f` is --filter (-f is --format for inspect)
  verbOptions: {
    ls: { format: { type: 'string' }, filter: { type: 'string', short: 'f', multiple: true } },
    list: { format: { type: 'string' }, filter: { type: 'string', short: 'f', multiple: true } },
  },
  options: {
    subnet: { type: 'string' },
    gateway: { type: 'string' },
    internal: { type: 'boolean' },
    driver: { type: 'string', short: 'd' },
    label: { type: 'string', multiple: true },
    quiet: { type: 'boolean', short: 'q' },
    format: { type: 'string', short: 'f' },
    force: { type: 'boolean' },
    alias: { type: 'string', multiple: true },
    'no-trunc': { type: 'boolean' },
  },
  async run({ values, positionals }, { client, stdout, stderr }) {
    const [verb, ...args] = positionals;
    const format = str(values.format);
    if (format && format !== 'json') checkTemplate(format.replace(/^table /, ''));
    switch (verb) {
      case 'create': {
        if (args.length !== 1) throw new UsageError('"sbx network create" requires exactly 1 argument.', USAGE);
        const driver = str(values.driver);
        if (driver && driver !== 'bridge') throw new UsageError(`invalid driver "${driver}": sbx supports bridge`);
        const subnet = str(values.subnet), gateway = str(values.gateway);
        const labels = strs(values.label);
        const r = await client.call(Networks.create, { name: args[0]!, ...(subnet ? { subnet } : {}), ...(gateway ? { gateway } : {}), ...(values.internal ? { internal: true } : {}), ...(labels.length ? { labels } : {}) });
        stdout.write(r.Id + '\n');
        return 0;
      }
      case 'ls': case 'list': {
        let filters: Map<string, string[]>;
        try { filters = parseListFilters(strs(values.filter), ['name', 'id', 'driver', 'label', 'type', 'scope']); } catch (e) {
          if (e instanceof SbxError) return daemonError(stderr, e);
          throw e;
        }
        const all = applyListFilters(await client.call(Networks.list, {}), filters, {
          name: (n, x) => n.Name.includes(x), id: (n, x) => n.Id.startsWith(x), driver: (n, x) => n.Driver === x, scope: (n, x) => n.Scope === x,
          label: (n, x) => labelMatch(n.Labels, x), type: (n, x) => (x === 'builtin') === ['bridge', 'host', 'none'].includes(n.Name),
        });
        if (values.quiet) { for (const n of all) stdout.write(n.Id.slice(0, 12) + '\n'); return 0; }
        // docker's NetworkContext fields
        const rows = all.map((n) => ({
          ID: values['no-trunc'] ? n.Id : n.Id.slice(0, 12), Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv6: String(n.EnableIPv6 ?? false),
          Internal: String(n.Internal ?? false), Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(','), CreatedAt: n.Created ?? '',
        }));
        stdout.write(formatList(format, rows, {
          type: '*formatter.networkContext', methods: (r: { Labels: string }) => labelMethod(r.Labels),
          headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' },
          table: () => table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], rows.map((n) => [n.ID, n.Name, n.Driver, n.Scope])),
        }));
        return 0;
      }
      case 'inspect': {
        if (!args.length) throw new UsageError('"sbx network inspect" requires at least 1 argument.', USAGE);
        const found: NetworkInspect[] = [];
        let code = 0;
        for (const ref of args) {
          try { found.push(await client.call(Networks.inspect, { id: ref })); } catch (e) {
            if (!(e instanceof SbxError) || e.code !== 'not_found') throw e;
            stderr.write(`Error response from daemon: network ${ref} not found\n`);
            code = 1;
          }
        }
        if (format && format !== 'json') for (const n of found) stdout.write(renderTemplate(format, n) + '\n');
        else stdout.write(JSON.stringify(found, null, 4) + '\n');
        return code;
      }
      case 'rm': case 'remove': {
        if (!args.length) throw new UsageError('"sbx network rm" requires at least 1 argument.', USAGE);
        let failed: SbxError | undefined;
        for (const ref of args) {
          try { await client.call(Networks.remove, { id: ref }); stdout.write(ref + '\n'); } catch (e) {
            if (!(e instanceof SbxError)) throw e;
            stderr.write(`Error response from daemon: ${e.message}\n`);
            failed = e;
          }
        }
        return failed ? 125 : 0;
      }
      case 'connect': case 'disconnect': {
        if (args.length !== 2) throw new UsageError(`"sbx network ${verb}" requires exactly 2 arguments.`, USAGE);
        const aliases = strs(values.alias);
        if (verb === 'connect') await client.call(Networks.connect, { id: args[0]!, container: args[1]!, ...(aliases.length ? { aliases } : {}) });
        else await client.call(Networks.disconnect, { id: args[0]!, container: args[1]!, ...(values.force ? { force: true } : {}) });
        return 0;
      }
      case 'prune': {
        if (!values.force) throw new UsageError('sbx network prune removes all unused networks: confirm with -f/--force');
        const r = await client.call(Networks.prune, {});
        if (r.NetworksDeleted.length) stdout.write(`Deleted Networks:\n${r.NetworksDeleted.join('\n')}\n`);
        return 0;
      }
      default:
        throw new UsageError(verb ? `unknown network command "${verb}"` : '"sbx network" requires a subcommand', USAGE);
    }
  },
};
