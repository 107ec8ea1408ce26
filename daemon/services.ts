/**
 * The daemon's services, built once by main.ts (the composition root) and handed to every API
 * handler. No module-level singletons: tests build their own with a temp root.
 */
import type { Config } from './config.js';
import type { ContentStore } from './content/store.js';
import type { ImageStore } from './images/store.js';
import type { SharedLock } from './util/lock.js';
import type { Logger } from './util/log.js';

export interface Services {
  config: Config;
  log: Logger;
  content: ContentStore;
  images: ImageStore;
  /** Held shared by anything that writes blobs then tags them; exclusive by garbage collection. */
  gcLock: SharedLock;
  /** Things to close on shutdown, last registered first. */
  closers: (() => Promise<void>)[];
}
