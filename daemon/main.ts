#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=1 --no-sparkplug --expose-gc
/** sbxd: the daemon process. `sbxd` or `sbx daemon`; configuration from the environment. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config.js';
import { startDaemon } from './daemon.js';
import { DAEMON_OPTIONS } from '../protocol/daemon-options.js';
import { untilStopped } from './util/stop.js';

export async function runDaemon(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: DAEMON_OPTIONS,
    strict: true,
  });
  const overrides: Partial<Config> = {};
  if (values.root) overrides.root = values.root;
  if (values.socket) overrides.socket = values.socket;
  if (values.registry) overrides.registry = values.registry;
  if (values['registry-htpasswd']) overrides.registryHtpasswd = values['registry-htpasswd'];
  if (values['insecure-registry']?.length) overrides.insecureRegistries = values['insecure-registry'];
  if (values.snapshotter) overrides.snapshotter = values.snapshotter as Config['snapshotter'];
  if (values['log-level']) overrides.logLevel = values['log-level'] as Config['logLevel'];
  let config: Config;
  try {
    config = loadConfig(process.env, overrides);
  } catch (e) {
    process.stderr.write(`Error: ${(e as Error).message}\n`);
    return 1;
  }
  const daemon = await startDaemon(config);
  if (values.ui !== undefined) {
    try {
      const { url, token } = await daemon.ui.start({
        addr: values.ui,
        ...(values['tls-cert'] ? { tlsCert: values['tls-cert'] } : {}),
        ...(values['tls-key'] ? { tlsKey: values['tls-key'] } : {}),
        ...(values.insecure ? { insecure: true } : {}),
      });
      // stdout, not the log: the token must not land in a log file
      process.stdout.write(`sbx ui: open ${url}#token=${token}\n`);
    } catch (e) {
      process.stderr.write(`Error: ${(e as Error).message}\n`);
      await daemon.close();
      return 1;
    }
  }
  await untilStopped();
  await daemon.close();
  return 0;
}

// Run when started as a program, under any name: npm links /usr/bin/sbxd to this file.
const isMain = !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  runDaemon(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    process.stderr.write(`Error: sbxd: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
