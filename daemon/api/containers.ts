/** Container routes: create/start/stop/kill/wait/rm/list/inspect/logs, exec, session info. */
import { Containers, SbxError, Sessions } from '../../protocol/index.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

export function registerContainers(api: ApiServer, s: Services): void {
  const m = s.containers;
  api.router
    .on(Containers.create, async (req) => m.create(req))
    .on(Containers.list, async (req) => m.list(!!req.all))
    .on(Containers.inspect, async (req) => m.inspect(req.id))
    .on(Containers.start, async (req) => m.start(req.id))
    .on(Containers.stop, async (req) => {
      const t = req.timeout === undefined ? 10 : Number(req.timeout);
      if (!Number.isFinite(t) || t < 0) throw new SbxError('invalid_argument', `stop container ${req.id}: invalid timeout ${String(req.timeout)}`);
      await m.stop(req.id, t);
    })
    .on(Containers.kill, async (req) => m.kill(req.id, req.signal ?? 'SIGKILL'))
    .on(Containers.wait, async (req) => m.wait(req.id))
    .on(Containers.remove, async (req) => m.remove(req.id, req.force === true || String(req.force) === 'true'))
    .on(Containers.logs, async (req, ctx) => {
      const tail = req.tail === undefined ? -1 : Number(req.tail);
      if (!Number.isInteger(tail)) throw new SbxError('invalid_argument', `logs: invalid tail ${String(req.tail)}`);
      ctx.download(m.logs(req.id, { follow: req.follow === true || String(req.follow) === 'true', tail }), 'application/vnd.sbx.log');
    })
    .on(Containers.exec, async (req) => m.exec(req))
    .on(Sessions.inspect, async (req) => m.session(req.session).info())
    .on(Sessions.resize, async (req) => {
      const se = m.session(req.session);
      const cols = Number(req.cols);
      const rows = Number(req.rows);
      if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 1000 || rows > 1000) {
        throw new SbxError('invalid_argument', 'resize: cols and rows must be 1..1000');
      }
      se.resize({ cols, rows });
    })
    .on(Sessions.wait, async (req) => m.session(req.session).waitExit());
}
