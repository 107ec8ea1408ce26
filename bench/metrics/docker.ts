/**
 * The Docker Engine API: the same docker client against sbxd's socket and against podman's
 * docker-compatible socket (`podman system service`, the same service the "(API)" rows use).
 * The CLI row spawns Debian's docker CLI (`docker run --rm busybox true`: create, attach, start,
 * wait, remove through the API); the dockerode row drives create → start → wait → remove from
 * one long-running process, as a Node program using dockerode would.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { DOCKER_BIN } from '../../test/_helpers/docker-cli.js';
import { rmrf } from '../../test/_helpers/tmp.js';
import { NotAvailable, side, time, type Metric, type Side } from '../harness.js';
import { image, type Fixtures } from '../fixtures.js';
import { run, timed } from '../proc.js';
import { podmanApi } from './api.js';

/** A side: the docker endpoint's socket and the busybox image name it knows. */
type Endpoint = { socket: string; image: string };

async function sbxEndpoint(fx: Fixtures): Promise<Endpoint> {
  const d = await fx.sbxd();
  return { socket: join(d.root, 'sbx.sock'), image: image(d) };
}

async function podmanEndpoint(fx: Fixtures): Promise<Endpoint> {
  const { api, p } = await podmanApi(fx);
  return { socket: api.socket, image: p.image };
}

async function dockerCli(fx: Fixtures, make: () => Promise<Endpoint>): Promise<Side | Error> {
  return side(async () => {
    if (!existsSync(DOCKER_BIN)) throw new NotAvailable(`${DOCKER_BIN} is not installed (setup.sh extracts Debian's docker CLI)`);
    const ep = await make();
    // an empty config dir: nothing from the host's ~/.docker
    const config = await fx.once('docker-config', () => mkdtemp(join(tmpdir(), 'sbx-bench-docker-')), (d) => rmrf(d));
    const env = { PATH: process.env.PATH, HOME: config, DOCKER_CONFIG: config, DOCKER_HOST: `unix://${ep.socket}` };
    return () => timed('docker run --rm', () => run(DOCKER_BIN, ['run', '--rm', ep.image, 'true'], { env }));
  });
}

async function dockerode(make: () => Promise<Endpoint>): Promise<Side | Error> {
  return side(async () => {
    const ep = await make();
    const dk = new Docker({ socketPath: ep.socket });
    return () => time(async () => {
      const c = await dk.createContainer({ Image: ep.image, Cmd: ['true'] });
      await c.start();
      const w = await c.wait() as { StatusCode: number };
      await c.remove();
      if (w.StatusCode !== 0) throw new Error(`exit status ${w.StatusCode}`);
    });
  });
}

export const dockerMetrics: Metric<Fixtures>[] = [
  {
    id: 'docker.run.cli',
    name: 'Docker API: `docker run --rm busybox true` (Debian\'s docker CLI)',
    peer: 'the same CLI on podman\'s compat socket',
    unit: 'ms',
    runs: 10,
    async prepare(fx) {
      return { sbx: await dockerCli(fx, () => sbxEndpoint(fx)), peer: await dockerCli(fx, () => podmanEndpoint(fx)) };
    },
  },
  {
    id: 'docker.run.dockerode',
    name: 'Docker API: dockerode create → start → wait → remove `true`',
    peer: 'dockerode on podman\'s compat socket',
    unit: 'ms',
    runs: 10,
    async prepare(fx) {
      return { sbx: await dockerode(() => sbxEndpoint(fx)), peer: await dockerode(() => podmanEndpoint(fx)) };
    },
  },
];
