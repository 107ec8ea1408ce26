/**
 * Container routes: create/start/stop/kill/wait/rm/list/inspect/logs, exec, session info, and
 * restart/rename/pause/unpause/top/update/stats. Inputs arrive checked against their schemas in
 * protocol/containers.ts and protocol/lifecycle.ts (the router does it).
 */
import { ContainerLifecycle, Containers, Sessions } from '../../protocol/index.js';
import { inspectContainer, psContainers } from '../containers/describe.js';
import { pauseContainer, renameContainer, restartContainer, unpauseContainer, waitContainer } from '../containers/lifecycle.js';
import { containerLogs } from '../containers/logs.js';
import { containerTop } from '../containers/top.js';
import { containerStats } from '../containers/stats.js';
import { withSizes } from '../containers/usage.js';
import { updateContainer } from '../containers/update.js';
import type { Services } from '../services.js';
import { timeParam } from '../util/clock.js';
import type { ApiServer } from './server.js';

export function registerContainers(api: ApiServer, s: Services): void {
  const m = s.containers;
  api.router
    .on(Containers.create, async (req) => m.create(req))
    .on(Containers.list, async (req) => {
      const rows = await psContainers(m, s, !!req.all, req.filters ?? []);
      return req.size ? withSizes(s, rows) : rows;
    })
    .on(Containers.inspect, async (req) => inspectContainer(m, req.id))
    .on(Containers.start, async (req) => m.start(req.id))
    .on(Containers.stop, async (req) => m.stop(req.id, req.timeout))
    .on(Containers.kill, async (req) => m.kill(req.id, req.signal ?? 'SIGKILL'))
    .on(Containers.wait, async (req) => waitContainer(m, req.id))
    .on(Containers.remove, async (req) => m.remove(req.id, req.force ?? false, req.volumes ?? false))
    .on(Containers.logs, async (req, ctx) => {
      ctx.download(containerLogs(m, req.id, {
        follow: req.follow ?? false, tail: req.tail ?? -1, timestamps: req.timestamps ?? false, details: req.details ?? false,
        since: timeParam('since', req.since), until: timeParam('until', req.until),
      }), 'application/vnd.sbx.log');
    })
    .on(Containers.exec, async (req) => m.exec(req))
    .on(ContainerLifecycle.restart, async (req) => restartContainer(m, req.id, req.timeout))
    .on(ContainerLifecycle.rename, async (req) => renameContainer(m, req.id, req.name))
    .on(ContainerLifecycle.pause, async (req) => pauseContainer(m, req.id))
    .on(ContainerLifecycle.unpause, async (req) => unpauseContainer(m, req.id))
    .on(ContainerLifecycle.top, async (req) => containerTop(m, req.id, req.psArgs || undefined))
    .on(ContainerLifecycle.update, async (req) => updateContainer(m, req))
    .on(ContainerLifecycle.stats, async (req) => containerStats(m, req.id))
    .on(Sessions.inspect, async (req) => m.session(req.session).info())
    .on(Sessions.resize, async (req) => m.session(req.session).resize({ cols: req.cols, rows: req.rows }))
    .on(Sessions.wait, async (req) => m.session(req.session).waitExit());
}
