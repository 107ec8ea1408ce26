import { spawn } from 'node:child_process';
import { Ui, UI_DEFAULT_ADDR } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'ui',
  summary: 'Serve the browser page and print its URL with a one-time login token',
  usage: 'sbx ui [OPTIONS]',
  options: {
    addr: { type: 'string' },
    open: { type: 'boolean' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    insecure: { type: 'boolean' },
  },
  async run({ values, positionals }, { client, stdout, stderr }) {
    if (positionals.length) throw new UsageError('"sbx ui" accepts no arguments.');
    const cert = str(values['tls-cert']);
    const key = str(values['tls-key']);
    const { url, token } = await client.call(Ui.start, {
      addr: str(values.addr) ?? UI_DEFAULT_ADDR,
      ...(cert ? { tlsCert: cert } : {}),
      ...(key ? { tlsKey: key } : {}),
      ...(values.insecure ? { insecure: true } : {}),
    });
    // The token rides in the fragment: browsers never send it, so no server log can hold it.
    const link = `${url}#token=${token}`;
    stdout.write(`${link}\n`);
    if (values.open) {
      const child = spawn('xdg-open', [link], { detached: true, stdio: 'ignore' });
      child.on('error', () => stderr.write('sbx ui: could not start xdg-open; open the URL above yourself\n'));
      child.unref();
    }
  },
};
