/**
 * Containers at the API: one long-running process drives sbxd through cli/client.ts (and the
 * shell through sbx.stream.v1), as a platform would, against podman driven through its own REST
 * API (`podman system service`). No CLI start is paid on either side.
 */
import type { Client } from '../../cli/client.js';
import { Containers, SbxError, Sessions } from '../../protocol/index.js';
import { side, NotAvailable, type Metric, type Side } from '../harness.js';
import { image, type Fixtures, type PodmanWorld, type Sbxd } from '../fixtures.js';
import { ok2xx, startPodmanApi, type PodmanApi } from '../podman-api.js';
import { time } from '../harness.js';
import { PtySession, timeToPrompt } from '../pty.js';
import { StreamTerminal } from '../stream.js';

/** Throw NotAvailable when this sbxd has no containers API yet. */
export async function needContainersApi(client: Client): Promise<void> {
  try {
    await client.call(Containers.list, {});
  } catch (e) {
    if (e instanceof SbxError && e.code === 'not_found') throw new NotAvailable('sbxd has no containers API yet');
    throw e;
  }
}

async function sbxApiSide(fx: Fixtures, make: (d: Sbxd, img: string) => Promise<Side>): Promise<Side | Error> {
  return side(async () => {
    const d = await fx.sbxd();
    await needContainersApi(d.client);
    return make(d, image(d));
  });
}

export function podmanApi(fx: Fixtures): Promise<{ api: PodmanApi; p: PodmanWorld }> {
  return fx.once('podman-api', async () => {
    const p = await fx.podman();
    return { api: await startPodmanApi(p), p };
  }, (x) => x.api.close());
}

/** Create, start, wait and remove one container; returns its exit status. */
export async function sbxRunApi(c: Client, img: string, cmd: string[]): Promise<number> {
  const { id } = await c.call(Containers.create, { image: img, cmd });
  await c.call(Containers.start, { id });
  const w = await c.call(Containers.wait, { id });
  await c.call(Containers.remove, { id, force: true });
  return w.StatusCode;
}

export async function podmanRunApi(api: PodmanApi, img: string, cmd: string[]): Promise<number> {
  const { Id } = await ok2xx(api, 'POST', '/containers/create', { image: img, command: cmd });
  await ok2xx(api, 'POST', `/containers/${Id}/start`);
  const code = await ok2xx(api, 'POST', `/containers/${Id}/wait`);
  await ok2xx(api, 'DELETE', `/containers/${Id}?force=true`);
  return Number(code);
}

function check(what: string, status: number): void {
  if (status !== 0) throw new Error(`${what}: exit status ${status}`);
}

export const apiMetrics: Metric<Fixtures>[] = [
  {
    id: 'container.run.api',
    name: 'container start → exit (API): create, start, wait, remove `true`',
    peer: 'podman REST API (libpod)',
    unit: 'ms',
    async prepare(fx) {
      return {
        sbx: await sbxApiSide(fx, async (d, img) => () => time(async () => check('sbx', await sbxRunApi(d.client, img, ['true'])))),
        peer: await side(async () => {
          const { api, p } = await podmanApi(fx);
          return () => time(async () => check('podman', await podmanRunApi(api, p.image, ['true'])));
        }),
      };
    },
  },
  {
    id: 'container.exec.api',
    name: '`exec` into a running container (API): exec `true`, wait for its exit',
    peer: 'podman REST API (libpod)',
    unit: 'ms',
    async prepare(fx) {
      const cleanups: (() => Promise<unknown>)[] = [];
      const sbx = await sbxApiSide(fx, async (d, img) => {
        const c = d.client;
        const { id } = await c.call(Containers.create, { image: img, cmd: ['sleep', '3600'] });
        cleanups.push(() => c.call(Containers.remove, { id, force: true }));
        await c.call(Containers.start, { id });
        return () => time(async () => {
          const { session } = await c.call(Containers.exec, { id, cmd: ['true'] });
          check('sbx exec', (await c.call(Sessions.wait, { session })).status);
        });
      });
      const peer = await side(async () => {
        const { api, p } = await podmanApi(fx);
        const { Id } = await ok2xx(api, 'POST', '/containers/create', { image: p.image, command: ['sleep', '3600'] });
        cleanups.push(() => api.call('DELETE', `/containers/${Id}?force=true&timeout=0`));
        await ok2xx(api, 'POST', `/containers/${Id}/start`);
        return () => time(async () => {
          const ex = await ok2xx(api, 'POST', `/containers/${Id}/exec`, { Cmd: ['true'], AttachStdout: true, AttachStderr: true });
          const r = await api.call('POST', `/exec/${ex.Id}/start`, { Detach: false, Tty: false });
          if (r.status !== 200) throw new Error(`podman exec start: HTTP ${r.status}`);
          check('podman exec', (await ok2xx(api, 'GET', `/exec/${ex.Id}/json`)).ExitCode);
        });
      });
      return { sbx, peer, close: async () => { for (const c of cleanups) await c().catch(() => undefined); } };
    },
  },
  {
    id: 'container.shell.api',
    name: 'shell start → first prompt (API): create tty `sh`, attach WebSocket, start',
    peer: '`podman run -it --rm` (CLI, PTY)',
    unit: 'ms',
    async prepare(fx) {
      return {
        sbx: await sbxApiSide(fx, async (d, img) => async () => {
          const c = d.client;
          let id: string | undefined;
          const { ms, session } = await timeToPrompt(async () => {
            id = (await c.call(Containers.create, { image: img, cmd: ['sh'], tty: true, openStdin: true })).id;
            const t = await StreamTerminal.attach(c, id);
            await c.call(Containers.start, { id });
            return t;
          }).catch(async (e) => { if (id) await c.call(Containers.remove, { id, force: true }).catch(() => undefined); throw e; });
          await session.close();
          await c.call(Containers.remove, { id: id!, force: true });
          return ms;
        }),
        peer: await side(async () => {
          const p = await fx.podman();
          return async () => {
            const { ms, session } = await timeToPrompt(() => new PtySession('podman run -it', 'podman', ['run', '-it', '--rm', p.image, 'sh'], p.env));
            await session.close();
            return ms;
          };
        }),
      };
    },
  },
];
