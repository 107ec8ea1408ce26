/**
 * The CLI's own start: a user pays it on every `sbx` command. `sbx` is the Bun-compiled binary
 * users get (dist/cli/sbx); the same CLI under Node (`node dist/cli/main.js`) and Node's own start
 * (`node -e 0`) stay as floor references. `sbx --version` loads only the entry, `sbx ps` also the
 * client and one round trip to an idle daemon.
 */
import { SBX_BIN, SBX_NODE_ENTRY } from '../../test/_helpers/cli.js';
import { side, type Metric } from '../harness.js';
import { needVerbs, type Fixtures, type Sbxd } from '../fixtures.js';
import { run, timed, type RunResult } from '../proc.js';

const node = (): Promise<number> => timed('node -e 0', () => run(process.execPath, ['-e', '0']));

/** The podman side of a row: `podman ARGS` against the bench's podman world. */
const podmanSide = (fx: Fixtures, args: string[]) => side(async () => {
  const p = await fx.podman();
  return () => timed(`podman ${args.join(' ')}`, () => p.podman(args));
});

/** A `ps` of an idle sbxd (through `ps`) side by side with `podman ps`. */
function psVsPodman(id: string, name: string, ps: (d: Sbxd) => Promise<RunResult>): Metric<Fixtures> {
  return {
    id, name, peer: '`podman ps` (no containers)', unit: 'ms', runs: 10,
    async prepare(fx) {
      return {
        sbx: await side(async () => {
          needVerbs('ps');
          const d = await fx.sbxd();
          return () => timed(name, () => ps(d));
        }),
        peer: await podmanSide(fx, ['ps']),
      };
    },
  };
}

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
    id: 'cli.version.podman',
    name: 'CLI start: `sbx --version`',
    peer: '`podman --version`',
    unit: 'ms',
    runs: 15,
    warmup: 2,
    async prepare(fx) {
      return {
        sbx: () => timed('sbx --version', () => run(SBX_BIN, ['--version'])),
        peer: await podmanSide(fx, ['--version']),
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
  psVsPodman('cli.ps.podman', '`sbx ps` (empty daemon)', (d) => d.cli(['ps'])),
  psVsPodman('cli.ps.node', 'the same CLI under Node (floor reference): `node dist/cli/main.js ps` (empty daemon)',
    (d) => run(process.execPath, [SBX_NODE_ENTRY, 'ps'], { env: d.env })),
];
