import { ContainerLifecycle } from '../../protocol/index.js';
import { UsageError, type Command } from '../command.js';

export const command: Command = {
  name: 'top',
  summary: 'Display the running processes of a container',
  usage: 'sbx top CONTAINER [ps OPTIONS]',
  // everything after CONTAINER is for ps (`sbx top web -o pid,comm`)
  stopAtPositional: true,
  options: {},
  async run({ positionals }, { client, stdout, stderr }) {
    const [id, ...ps] = positionals;
    if (!id) throw new UsageError('"sbx top" requires at least 1 argument.');
    let r;
    try { r = await client.call(ContainerLifecycle.top, { id, ...(ps.length ? { psArgs: ps.join(' ') } : {}) }); } catch (e) {
      stderr.write(`Error: ${(e as Error).message}\n`);
      return 1;
    }
    // docker's tabwriter: cells at least 20 wide, 3 spaces of padding
    const widths = r.Titles.map((t, i) => Math.max(20, t.length + 3, ...r.Processes.map((p) => (p[i] ?? '').length + 3)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('');
    stdout.write([r.Titles, ...r.Processes].map(line).join('\n') + '\n');
    return 0;
  },
};
