/**
 * `sbx registry serve`: the embedded OCI registry in this process (no daemon needed), over
 * $SBX_ROOT's content store or a root of its own (--root). Runs until SIGINT/SIGTERM.
 */
import { UsageError, str, type Command } from '../command.js';

export const command: Command = {
  name: 'registry',
  summary: 'Run the embedded OCI registry in the foreground',
  usage: 'sbx registry serve [--addr 127.0.0.1:5000] [--root DIR] [--htpasswd FILE] [--log-level LEVEL]',
  options: {
    addr: { type: 'string' },
    root: { type: 'string' },
    htpasswd: { type: 'string' },
    'log-level': { type: 'string' },
  },
  local: true,
  async run({ values, positionals }, { stdout, env }) {
    if (positionals[0] !== 'serve' || positionals.length !== 1) throw new UsageError('expected "sbx registry serve"');
    const { join, resolve } = await import('node:path');
    const { openLocalContentStore } = await import('../../daemon/content/local.js');
    const { startRegistry } = await import('../../daemon/registry/server.js');
    const { createLogger } = await import('../../daemon/util/log.js');
    const { rootFromEnv } = await import('../../daemon/config.js');
    const level = (str(values['log-level']) ?? 'info') as 'debug' | 'info' | 'warn' | 'error';
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--log-level must be debug, info, warn or error');
    const root = resolve(str(values.root) ?? rootFromEnv(env));
    // Its own ingest area: a daemon on the same root clears the shared one when it starts.
    const content = await openLocalContentStore(join(root, 'oci'), join(root, 'registry', 'ingest'));
    const htpasswd = str(values.htpasswd);
    const server = await startRegistry({ content, root: join(root, 'registry'), log: createLogger(level), ...(htpasswd ? { htpasswd: resolve(htpasswd) } : {}) }, str(values.addr) ?? '127.0.0.1:5000');
    stdout.write(`registry listening on ${server.url} (root ${root})\n`);
    const { untilStopped } = await import('../../daemon/util/stop.js');
    await untilStopped(env);
    await server.close();
    return 0;
  },
};
