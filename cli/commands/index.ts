/** The command table: name → lazy module, so `sbx ps` loads only what `ps` needs. One line per verb. */
import type { Command } from '../command.js';

type Loader = () => Promise<{ command: Command }>;

export const COMMANDS: Record<string, Loader> = {
  commit: () => import('./commit.js'),
  daemon: () => import('./daemon.js'),
  diff: () => import('./diff.js'),
  events: () => import('./events.js'),
  history: () => import('./history.js'),
  images: () => import('./images.js'),
  import: () => import('./import.js'),
  inspect: () => import('./inspect.js'),
  load: () => import('./load.js'),
  attach: () => import('./attach.js'),
  exec: () => import('./exec.js'),
  kill: () => import('./kill.js'),
  logs: () => import('./logs.js'),
  ps: () => import('./ps.js'),
  rm: () => import('./rm.js'),
  run: () => import('./run.js'),
  start: () => import('./start.js'),
  stop: () => import('./stop.js'),
  wait: () => import('./wait.js'),
  login: () => import('./login.js'),
  logout: () => import('./logout.js'),
  pull: () => import('./pull.js'),
  push: () => import('./push.js'),
  registry: () => import('./registry.js'),
  rmi: () => import('./rmi.js'),
  save: () => import('./save.js'),
  tag: () => import('./tag.js'),
  version: () => import('./version.js'),
  watch: () => import('./events.js'),
};

/** docker's two-word forms mapped to sbx's verbs (with any flags the form implies). */
export const ALIASES: Record<string, string> = {
  'image ls': 'images',
  'image list': 'images',
  'image inspect': 'inspect --type=image',
  'image rm': 'rmi',
  'image tag': 'tag',
  'image history': 'history',
  'image save': 'save',
  'image load': 'load',
  'image import': 'import',
  'image pull': 'pull',
  'image push': 'push',
  'image build': 'build',
  'container ls': 'ps',
  'container list': 'ps',
  'container run': 'run',
  'container rm': 'rm',
  'container commit': 'commit',
  'container diff': 'diff',
  'container inspect': 'inspect --type=container',
};
