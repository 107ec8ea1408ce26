/**
 * The command table: name → lazy module, so `sbx ps` loads only what `ps` needs. One line per verb.
 * A name with a dash (container-prune) is reached only through its two-word form (ALIASES).
 */
import type { Command } from '../command.js';

type Loader = () => Promise<{ command: Command }>;

export const COMMANDS: Record<string, Loader> = {
  build: () => import('./build.js'),
  builder: () => import('./builder.js'),
  changes: () => import('./changes.js'),
  commit: () => import('./commit.js'),
  completion: () => import('./completion.js'),
  'container-prune': () => import('./container-prune.js'),
  cp: () => import('./cp.js'),
  create: () => import('./create.js'),
  daemon: () => import('./daemon.js'),
  diff: () => import('./diff.js'),
  events: () => import('./events.js'),
  export: () => import('./export.js'),
  history: () => import('./history.js'),
  'image-layers': () => import('./image-layers.js'),
  'image-prune': () => import('./image-prune.js'),
  images: () => import('./images.js'),
  import: () => import('./import.js'),
  info: () => import('./info.js'),
  inspect: () => import('./inspect.js'),
  load: () => import('./load.js'),
  attach: () => import('./attach.js'),
  exec: () => import('./exec.js'),
  kill: () => import('./kill.js'),
  logs: () => import('./logs.js'),
  network: () => import('./network.js'),
  pause: () => import('./pause.js'),
  port: () => import('./port.js'),
  ps: () => import('./ps.js'),
  rename: () => import('./rename.js'),
  restart: () => import('./restart.js'),
  rm: () => import('./rm.js'),
  run: () => import('./run.js'),
  start: () => import('./start.js'),
  stats: () => import('./stats.js'),
  stop: () => import('./stop.js'),
  top: () => import('./top.js'),
  ui: () => import('./ui.js'),
  unpause: () => import('./unpause.js'),
  update: () => import('./update.js'),
  wait: () => import('./wait.js'),
  login: () => import('./login.js'),
  logout: () => import('./logout.js'),
  pull: () => import('./pull.js'),
  push: () => import('./push.js'),
  registry: () => import('./registry.js'),
  rmi: () => import('./rmi.js'),
  save: () => import('./save.js'),
  system: () => import('./system.js'),
  'system-prune': () => import('./system-prune.js'),
  tag: () => import('./tag.js'),
  version: () => import('./version.js'),
  volume: () => import('./volume.js'),
  watch: () => import('./watch.js'),
};

/**
 * Verbs that run sbx's daemon code in the CLI's own process (sbxd, the embedded registry): they
 * always run on Node. The Bun-compiled `sbx` hands them to `node dist/cli/main.js` (cli/runtime.ts)
 * before loading them, so its bundle leaves daemon code out.
 */
export const NODE_ONLY = new Set(['daemon', 'registry']);

/** docker's two-word forms mapped to sbx's verbs (with any flags the form implies). */
export const ALIASES: Record<string, string> = {
  'image ls': 'images',
  'image list': 'images',
  'image inspect': 'inspect --type=image',
  'image rm': 'rmi',
  'image remove': 'rmi',
  'image tag': 'tag',
  'image history': 'history',
  'image save': 'save',
  'image load': 'load',
  'image import': 'import',
  'image pull': 'pull',
  'image push': 'push',
  'image build': 'build',
  'image prune': 'image-prune',
  'image layers': 'image-layers',
  'container ls': 'ps',
  'container list': 'ps',
  'container ps': 'ps',
  'container run': 'run',
  'container rm': 'rm',
  'container remove': 'rm',
  'container commit': 'commit',
  'container diff': 'diff',
  'container inspect': 'inspect --type=container',
  'container attach': 'attach',
  'container cp': 'cp',
  'container create': 'create',
  'container export': 'export',
  'container exec': 'exec',
  'container kill': 'kill',
  'container logs': 'logs',
  'container pause': 'pause',
  'container port': 'port',
  'container rename': 'rename',
  'container restart': 'restart',
  'container start': 'start',
  'container stop': 'stop',
  'container top': 'top',
  'container unpause': 'unpause',
  'container update': 'update',
  'container stats': 'stats',
  'container wait': 'wait',
  'container prune': 'container-prune',
  'system prune': 'system-prune',
  'system info': 'info',
  'system events': 'events',
};

/** docker's management commands (the first word of an alias), as `sbx GROUP --help` describes them. */
export const GROUPS: Record<string, string> = {
  container: 'Manage containers',
  image: 'Manage images',
  network: 'Manage networks',
  system: 'Manage sbx',
  volume: 'Manage volumes',
};

/** The verbs a group's own command takes (`sbx volume ls`), with docker's one-liners for its page. */
export const GROUP_VERBS: Record<string, Record<string, string>> = {
  network: {
    connect: 'Connect a container to a network', create: 'Create a network', disconnect: 'Disconnect a container from a network',
    inspect: 'Display detailed information on one or more networks', ls: 'List networks', prune: 'Remove all unused networks', rm: 'Remove one or more networks',
  },
  system: { df: 'Show sbx disk usage' },
  volume: {
    create: 'Create a volume', inspect: 'Display detailed information on one or more volumes', ls: 'List volumes',
    prune: 'Remove unused local volumes', rm: 'Remove one or more volumes',
  },
};
