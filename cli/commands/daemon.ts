import type { Command } from '../command.js';

export const command: Command = {
  name: 'daemon',
  summary: 'Run sbxd in the foreground',
  usage: 'sbx daemon [--root DIR] [--registry HOST:PORT [--registry-htpasswd FILE]] [--insecure-registry HOST:PORT] [--snapshotter auto|overlay|native] [--log-level LEVEL]',
  options: {
    root: { type: 'string' },
    socket: { type: 'string' },
    registry: { type: 'string' },
    'registry-htpasswd': { type: 'string' },
    'insecure-registry': { type: 'string', multiple: true },
    snapshotter: { type: 'string' },
    'log-level': { type: 'string' },
  },
  local: true,
  async run(_args, ctx) {
    const { runDaemon } = await import('../../daemon/main.js');
    const argv = process.argv.slice(process.argv.indexOf('daemon') + 1);
    void ctx;
    return runDaemon(argv);
  },
};
