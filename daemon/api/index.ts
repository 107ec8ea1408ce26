/** Every feature's handlers, registered on one server. One line per feature. */
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';
import { registerRegistry } from './registry.js';
import { registerImages } from './images.js';
import { registerSystem } from './system.js';
import { registerChanges } from './changes.js';
import { registerCommit } from './commit.js';
import { registerBuild } from './build.js';
import { registerContainers } from './containers.js';
import { registerStreams } from './streams.js';
import { registerFiles } from './files.js';
import { registerNetworks } from './networks.js';
import { registerVolumes } from './volumes.js';
import { registerPrune } from './prune.js';
import { registerEvents } from './events.js';

export function registerAll(api: ApiServer, services: Services): void {
  registerSystem(api, services);
  registerContainers(api, services);
  registerStreams(api, services);
  registerRegistry(api, services);
  registerImages(api, services);
  registerChanges(api, services);
  registerCommit(api, services);
  registerBuild(api, services);
  registerFiles(api, services);
  registerNetworks(api, services);
  registerVolumes(api, services);
  registerPrune(api, services);
  registerEvents(api, services);
}
