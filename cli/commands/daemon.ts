import type { Command } from '../command.js';
import { DAEMON_OPTIONS } from '../../protocol/daemon-options.js';

export const command: Command = {
  name: 'daemon',
  summary: 'Run sbxd in the foreground',
  usage: 'sbx daemon [--root DIR] [--registry HOST:PORT [--registry-htpasswd FILE]] [--insecure-registry HOST:PORT] [--snapshotter auto|overlay|native] [--log-level LEVEL]',
  options: DAEMON_OPTIONS,
  local: true,
  async run(_args, ctx) {
    const { runDaemon } = await import('../../daemon/main.js');
    const argv = process.argv.slice(process.argv.indexOf('daemon') + 1);
    void ctx;
    return runDaemon(argv);
  },
};
