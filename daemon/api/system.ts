import { System } from '../../protocol/index.js';
import type { Services } from '../services.js';
import { diskUsage } from '../usage/df.js';
import { systemInfo } from '../usage/info.js';
import type { ApiServer } from './server.js';

export const SBX_VERSION = '0.1.0';

export function registerSystem(api: ApiServer, s: Services): void {
  api.router.on(System.version, async () => ({
    version: SBX_VERSION,
    api: 'v1',
    node: process.version,
    pid: process.pid,
    root: s.config.root,
  }));

  api.router.on(System.df, async (req) => diskUsage(s, req.verbose === true));
  api.router.on(System.info, async () => systemInfo(s, SBX_VERSION));
}
