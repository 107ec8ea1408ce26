/**
 * The composition root: config → stores → services → API. Used by main.ts (the sbxd process)
 * and by tests that run a daemon in-process against a temp root.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { openLocalContentStore } from './content/local.js';
import { recoverImages } from './images/gc.js';
import { createLayerChecks, removeImagesWithLayer } from './images/layer-checks.js';
import { createLayerSizes } from './images/layer-sizes.js';
import { openImageStore } from './images/store.js';
import { createUnpacker } from './images/unpack.js';
import { createDiffer } from './snapshots/differ.js';
import { openSnapshotter } from './snapshots/mount.js';
import { CredentialStore, RegistryClient } from './remotes/client.js';
import { registerAll } from './api/index.js';
import { containerAccess } from './changes/containers.js';
import { ChangeRecorder } from './changes/recorder.js';
import { createApiServer, type ApiServer } from './api/server.js';
import type { Services } from './services.js';
import { ContainerManager } from './containers/manager.js';
import { VolumeStore } from './volumes/store.js';
import { BuildCache, findEntry } from './build/cache.js';
import { CacheMounts, cacheMountSource } from './build/cache-mounts.js';
import { Networks } from './networks/networks.js';
import { stepCacheSource } from './build/prune.js';
import { resolveImage } from './images/resolve.js';
import { favorDynamicModifications } from './runtime/cgroups-v1.js';
import { createLinuxRuntime } from './runtime/linux.js';
import { SharedLock } from './util/lock.js';
import { PRIVATE_DIR_MODE } from './util/fs.js';
import { tightenStore } from './util/modes.js';
import { claimRoot } from './util/pidfile.js';
import { createLogger, type Logger } from './util/log.js';
import { patchTarStream } from './archive/tar-stream-patches.js';
import { registerUi } from './api/ui.js';
import { UiServer } from './ui/server.js';
import { EventBus } from './events/bus.js';

export interface Daemon {
  services: Services;
  api: ApiServer;
  /** The browser page's listener (started by `sbx ui` or `sbxd --ui`). */
  ui: UiServer;
  close(): Promise<void>;
}

export async function startDaemon(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Daemon> {
  patchTarStream(); // fail at start-up, not mid-pull, if tar-stream's internals moved
  await mkdir(config.root, { recursive: true, mode: PRIVATE_DIR_MODE });
  await tightenStore(config.root);
  const release = claimRoot(config.root);
  try {
    return await open(config, log, release);
  } catch (e) {
    release();
    throw e;
  }
}

async function open(config: Config, log: Logger, release: () => void): Promise<Daemon> {
  const layout = join(config.root, 'oci');
  const stored = await openLocalContentStore(layout, join(config.root, 'ingest'));
  // Every reader of a layer whose diffID is still being checked waits for the check (layer-checks.ts).
  const layerChecks = createLayerChecks({
    dir: join(config.root, 'checks'), content: stored, log: log.with({ component: 'layer-checks' }),
    onFailed: (layer) => removeImagesWithLayer(services, layer),
    onVerified: (layer, size) => layerSizes.record(layer, size),
  });
  const content = layerChecks.gate(stored);
  const layerSizes = createLayerSizes(join(config.root, 'layer-sizes'), content);
  const images = await openImageStore(layout);
  await recoverImages(config.root, log);
  const snapshotter = await openSnapshotter(config.snapshotter, join(config.root, 'snapshots'), log);
  const differ = createDiffer({ snapshotter, content });
  const unpacker = createUnpacker({ content, snapshotter, log, sizes: layerSizes });
  await unpacker.recover();
  const registry = new RegistryClient({ credentials: new CredentialStore(join(config.root, 'auth.json')), insecure: config.insecureRegistries });
  if (config.cgroupFavorDynmods) log.debug('cgroup favordynmods', { result: await favorDynamicModifications() });
  // The manager first; the change recorder follows its started/exited events.
  const networks = new Networks(config.root, log.with({ component: 'networks' }));
  await networks.open();
  const events = new EventBus();
  const volumes = new VolumeStore(config.root);
  await volumes.open();
  const containers = new ContainerManager({ config, log, content, images, snapshotter, unpacker, networks, volumes, events }, createLinuxRuntime());
  volumes.usersOf = (name) => containers.volumeUsers(name);
  volumes.events = events;
  networks.events = events;
  const changes = new ChangeRecorder(containerAccess({ containers }), differ, log.with({ component: 'changes' }));
  const buildCache = new BuildCache(join(config.root, 'build'), (e) => findEntry({ content, images }, e));
  const services: Services = {
    config, log, content, images, layerChecks, layerSizes, snapshotter, differ, unpacker, registry, changes, containers, networks, volumes, gcLock: new SharedLock(), closers: [],
    imageUsers: async (digest) => containers.usersOf(digest),
    // Blobs the embedded registry's repositories link (whether or not it runs now) survive GC.
    gcRoots: [async () => (await (await import('./registry/repos.js')).RepositoryIndex.open(join(config.root, 'registry', 'repositories'))).referencedDigests()],
    buildCache, cacheMounts: new CacheMounts(config.root), cacheSources: [], events,
  };
  services.cacheSources.push(stepCacheSource({ ...services, cache: buildCache }), cacheMountSource(services.cacheMounts));
  // closed last first: the containers (their exits reach the recorder), the journals, the snapshots
  services.closers.push(() => networks.close(), () => snapshotter.close(), () => changes.close());
  await containers.open();
  services.closers.push(() => containers.close(), () => layerChecks.close());
  await layerChecks.recover();
  const api = createApiServer(services);
  registerAll(api, services);
  const ui = new UiServer({ backend: api, log: log.with({ component: 'ui' }), staticDir: fileURLToPath(new URL('../ui/', import.meta.url)) });
  registerUi(api, ui);
  await api.listen();
  if (config.registry) {
    // the embedded registry's modules (and bcrypt) load only when it is configured
    const { startRegistry } = await import('./registry/server.js');
    const reg = await startRegistry({
      content, root: join(config.root, 'registry'), log: log.with({ component: 'registry' }), gcLock: services.gcLock,
      ...(config.registryHtpasswd ? { htpasswd: config.registryHtpasswd } : {}),
    }, config.registry).catch(async (e: unknown) => {
      await api.close();
      for (const c of [...services.closers].reverse()) await c().catch(() => undefined);
      throw e;
    });
    services.closers.push(() => reg.close());
    log.info('embedded registry listening', { url: reg.url });
  }
  log.info('sbxd listening', { socket: config.socket, root: config.root });
  let closing: Promise<void> | undefined;
  return {
    services,
    api,
    ui,
    close() {
      closing ??= (async () => {
        await ui.close();
        await api.close();
        for (const c of [...services.closers].reverse()) await c().catch((e) => log.warn('close', { error: String(e) }));
        release();
      })();
      return closing;
    },
  };
}
