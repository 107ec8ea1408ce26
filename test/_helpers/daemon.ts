/** An in-process daemon on a temp root, with a client bound to it. */
import { join } from 'node:path';
import { Client } from '../../cli/client.js';
import { loadConfig, type Config } from '../../daemon/config.js';
import { startDaemon, type Daemon } from '../../daemon/daemon.js';
import { silentLogger, type Logger } from '../../daemon/util/log.js';
import { rmrf, tmpdir } from './tmp.js';

export interface TestDaemon {
  root: string;
  daemon: Daemon;
  client: Client;
  close(): Promise<void>;
}

/** `log`: where the daemon's log goes (default nowhere). */
export async function startTestDaemon(overrides: Partial<Config> = {}, log: Logger = silentLogger): Promise<TestDaemon> {
  const root = overrides.root ?? await tmpdir('sbx-root-');
  const config = loadConfig({}, { root, socket: join(root, 'sbx.sock'), ...overrides });
  const daemon = await startDaemon(config, log);
  const client = new Client({ socket: config.socket, root });
  return {
    root, daemon, client,
    async close() { await daemon.close(); await rmrf(root); },
  };
}
