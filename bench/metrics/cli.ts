/**
 * The CLI's own start: a user pays it on every `sbx` command. Node's start is the floor
 * (`node -e 0`); `sbx --version` loads only main.ts, `sbx ps` also the client and one round trip
 * to an idle daemon.
 */
import { SBX_BIN } from '../../test/_helpers/cli.js';
import { side, type Metric } from '../harness.js';
import { needVerbs, type Fixtures } from '../fixtures.js';
import { run, timed } from '../proc.js';

const node = (): Promise<number> => timed('node -e 0', () => run(process.execPath, ['-e', '0']));

export const cliMetrics: Metric<Fixtures>[] = [
  {
    id: 'cli.version',
    name: 'CLI start: `sbx --version`',
    peer: '`node -e 0`',
    unit: 'ms',
    runs: 15,
    warmup: 2,
    async prepare() {
      return {
        sbx: () => timed('sbx --version', () => run(SBX_BIN, ['--version'])),
        peer: node,
      };
    },
  },
  {
    id: 'cli.ps',
    name: 'CLI start + round trip: `sbx ps` (empty daemon)',
    peer: '`node -e 0`',
    unit: 'ms',
    runs: 15,
    warmup: 2,
    async prepare(fx) {
      return {
        sbx: await side(async () => {
          needVerbs('ps');
          const d = await fx.sbxd();
          return () => timed('sbx ps', () => d.cli(['ps']));
        }),
        peer: node,
      };
    },
  },
  {
    id: 'cli.ps.podman',
    name: '`sbx ps` (empty daemon)',
    peer: '`podman ps` (no containers)',
    unit: 'ms',
    runs: 10,
    async prepare(fx) {
      return {
        sbx: await side(async () => {
          needVerbs('ps');
          const d = await fx.sbxd();
          return () => timed('sbx ps', () => d.cli(['ps']));
        }),
        peer: await side(async () => {
          const p = await fx.podman();
          return () => timed('podman ps', () => p.podman(['ps']));
        }),
      };
    },
  },
];
