/**
 * Networks (issue 13, Speed): requests/s over a user network and over the outbound path, each next
 * to the same load over the host's loopback, and what the default network adds to a container's
 * start → exit. The load is wrk (the host's binary) run in a client container's network namespace
 * (`nsenter -n`) against busybox httpd serving a 1 KiB page; wrk's 8 connections, 3 s.
 *
 * - net.c2c.rps: client and server containers on one `sbx network create` network (veth → bridge
 *   in sbxd's namespace → veth). podman's user networks (netavark) put a bridge and iptables
 *   rules into the host's namespace, which no bench here may do: no podman row for this one.
 * - net.outbound.rps(.podman): a default-network container to an httpd on the host's 127.0.0.1
 *   through host.docker.internal (pasta); podman's user-mode equivalent is slirp4netns with
 *   allow_host_loopback (10.0.2.2). slirp4netns resets some connections under this load (wrk
 *   counts them as socket errors); its rate counts the answered requests only.
 * - net.run.{api,cli}: start → exit on the default network vs `--network none` (loopback only),
 *   both sbx, side by side: the issue asks the first to stay within 10 ms of the second.
 */
import { Containers } from '../../protocol/index.js';
import { side, time, type Metric, type Side } from '../harness.js';
import { image, needFlag, needTools, needVerbs, type Fixtures, type Sbxd } from '../fixtures.js';
import { ok, timed, unique } from '../proc.js';
import { SERVE, hostHttpd, podmanPid, ready, wrkRate } from './ports.js';

type Closers = (() => Promise<unknown>)[];
const closeAll = (closers: Closers) => async () => { for (const c of closers) await c(); };

/** A detached sbx container; its name and host PID. */
async function sbxDetached(d: Sbxd, closers: Closers, args: string[]): Promise<{ name: string; pid: number }> {
  const name = unique('bench-net');
  await ok('sbx run -d', d.cli(['run', '-d', '--name', name, ...args]));
  closers.unshift(() => d.cli(['rm', '-f', name]));
  const pid = Number((await ok('sbx inspect', d.cli(['inspect', '-f', '{{.State.Pid}}', name]))).stdout.trim());
  return { name, pid };
}

/** Load from the host's loopback to the same httpd on the host: the row's ceiling. */
async function loopbackSide(closers: Closers): Promise<Side | Error> {
  return side(async () => {
    const port = await hostHttpd(closers);
    return () => wrkRate(`http://127.0.0.1:${port}/index.html`);
  });
}

/** sbx: a default-network container loads the host's httpd through host.docker.internal. */
async function outboundSide(fx: Fixtures, closers: Closers): Promise<Side | Error> {
  return side(async () => {
    needVerbs('run', 'rm', 'exec');
    await needTools('wrk', 'nsenter', 'pasta');
    const d = await fx.sbxd();
    const port = await hostHttpd(closers);
    const client = await sbxDetached(d, closers, [image(d), 'sleep', '3600']);
    const hosts = (await ok('sbx exec', d.cli(['exec', client.name, 'cat', '/etc/hosts']))).stdout;
    const gw = hosts.split('\n').find((l) => /\shost\.docker\.internal\b/.test(l))?.split(/\s+/)[0];
    if (!gw) throw new Error(`no host.docker.internal in the container's /etc/hosts: ${hosts}`);
    const url = `http://${gw}:${port}/index.html`;
    await ready(url, client.pid);
    return () => wrkRate(url, client.pid);
  });
}

const RPS = 'busybox httpd, 1 KiB page (wrk, 8 connections, 3 s)';

export const networkMetrics: Metric<Fixtures>[] = [
  {
    id: 'net.c2c.rps',
    name: `container → container on a user network: ${RPS}`,
    peer: 'the same load over the host\'s loopback',
    unit: 'req/s',
    runs: 3,
    async prepare(fx) {
      const closers: Closers = [];
      const sbx = await side(async () => {
        needVerbs('run', 'rm', 'network');
        await needTools('wrk', 'nsenter');
        const d = await fx.sbxd();
        const net = unique('bench-net');
        await ok('sbx network create', d.cli(['network', 'create', net]));
        closers.push(() => d.cli(['network', 'rm', net]));
        const server = await sbxDetached(d, closers, ['--network', net, image(d), ...SERVE]);
        const client = await sbxDetached(d, closers, ['--network', net, image(d), 'sleep', '3600']);
        const nets = JSON.parse((await ok('sbx inspect', d.cli(['inspect', '-f', '{{json .NetworkSettings.Networks}}', server.name]))).stdout);
        const ip = nets[net]?.IPAddress as string | undefined;
        if (!ip) throw new Error(`no address on ${net}: ${JSON.stringify(nets)}`);
        const url = `http://${ip}:8080/index.html`;
        await ready(url, client.pid);
        return () => wrkRate(url, client.pid);
      });
      return { sbx, peer: await loopbackSide(closers), close: closeAll(closers) };
    },
  },
  {
    id: 'net.outbound.rps',
    name: `container → host through the outbound path (host.docker.internal, pasta): ${RPS}`,
    peer: 'the same load over the host\'s loopback',
    unit: 'req/s',
    runs: 3,
    async prepare(fx) {
      const closers: Closers = [];
      return { sbx: await outboundSide(fx, closers), peer: await loopbackSide(closers), close: closeAll(closers) };
    },
  },
  {
    id: 'net.outbound.rps.podman',
    name: `container → host through the outbound path (host.docker.internal, pasta): ${RPS}`,
    peer: 'podman, slirp4netns with allow_host_loopback (10.0.2.2)',
    unit: 'req/s',
    runs: 3,
    async prepare(fx) {
      const closers: Closers = [];
      const sbx = await outboundSide(fx, closers);
      const peer = await side(async () => {
        await needTools('wrk', 'nsenter', 'slirp4netns');
        const p = await fx.podman();
        const port = await hostHttpd(closers);
        const name = unique('bench-net');
        await ok('podman run -d', p.podman(['run', '-d', '--name', name, '--network', 'slirp4netns:allow_host_loopback=true', p.image, 'sleep', '3600']));
        closers.unshift(() => p.podman(['rm', '-f', '-t', '0', name]));
        const pid = await podmanPid(p, name);
        const url = `http://10.0.2.2:${port}/index.html`;
        await ready(url, pid);
        return () => wrkRate(url, pid, { allowSocketErrors: true });
      });
      return { sbx, peer, close: closeAll(closers) };
    },
  },
  {
    id: 'net.run.api',
    name: 'container start → exit (API) on the default network: create, start, wait, remove `true`',
    peer: 'the same with `--network none` (loopback only)',
    unit: 'ms',
    async prepare(fx) {
      const api = (network?: string) => side(async () => {
        const d = await fx.sbxd();
        const img = image(d);
        return () => time(async () => {
          const { id } = await d.client.call(Containers.create, { image: img, cmd: ['true'], ...(network ? { network } : {}) });
          await d.client.call(Containers.start, { id });
          const w = await d.client.call(Containers.wait, { id });
          await d.client.call(Containers.remove, { id, force: true });
          if (w.StatusCode !== 0) throw new Error(`exit ${w.StatusCode}`);
        });
      });
      return { sbx: await api(), peer: await api('none') };
    },
  },
  {
    id: 'net.run.cli',
    name: 'container start → exit (CLI) on the default network: `run --rm busybox true`',
    peer: 'the same with `--network none` (loopback only)',
    unit: 'ms',
    async prepare(fx) {
      const cli = (extra: string[]) => side(async () => {
        needVerbs('run');
        await needFlag('run', 'network');
        const d = await fx.sbxd();
        const img = image(d);
        return () => timed('sbx run', () => d.cli(['run', '--rm', ...extra, img, 'true']));
      });
      return { sbx: await cli([]), peer: await cli(['--network', 'none']) };
    },
  },
];
