/** GET /v1/events: the daemon's event stream as NDJSON (protocol/events.ts), from the event bus. */
import { Events } from '../../protocol/index.js';
import { eventFilter } from '../events/filter.js';
import { eventStream } from '../events/stream.js';
import type { Services } from '../services.js';
import { timeParam } from '../util/clock.js';
import type { ApiServer } from './server.js';

export function registerEvents(api: ApiServer, s: Services): void {
  api.router.on(Events.stream, async (req, ctx) => {
    const filter = eventFilter(req.filters ?? []);
    ctx.download(eventStream(s.events, { since: timeParam('since', req.since), until: timeParam('until', req.until), filter }), 'application/x-ndjson');
  });
}
