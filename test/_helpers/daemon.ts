/** An in-process daemon on a temp root, with a client bound to it. */
import { join } from 'node:path';
import { Client } from '../../cli/client.js';
import { loadConfig, type Config } from '../../daemon/config.js';
import { startDaemon, type Daemon } from '../../daemon/daemon.js';
import { silentLogger } from '../../daemon/util/log.js';
import { rmrf, tmpdir } from './tmp.js';

export interface TestDaemon {
  root: string;
  daemon: Daemon;
  client: Client;
  close(): Promise<void>;
}

export async function startTestDaemon(overrides: Partial<Config> = {}): Promise<TestDaemon> {
  const root = overrides.root ?? await tmpdir('sbx-root-');
  const config = loadConfig({}, { root, socket: join(root, 'sbx.sock'), ...overrides });
  const daemon = await startDaemon(config, silentLogger);
  const client = new Client({ socket: config.socket, root });
  return {
    root, daemon, client,
    async close() { await daemon.close(); await rmrf(root); },
  };
}
