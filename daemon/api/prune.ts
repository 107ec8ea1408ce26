/** Prune routes (protocol/prune.ts): stopped containers, unused images. */
import { Prune } from '../../protocol/index.js';
import { pruneContainers } from '../containers/prune.js';
import { pruneImages } from '../images/prune.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

export function registerPrune(api: ApiServer, s: Services): void {
  api.router
    .on(Prune.containers, async (req) => pruneContainers(s.containers, s.differ, req.filters ?? []))
    .on(Prune.images, async (req) => pruneImages(s, req.all ?? false));
}
