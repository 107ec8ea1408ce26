/** docker's GET /events (since, until, filters as JSON) streaming one JSON Message per event. */
import { eventFilter } from '../../events/filter.js';
import { eventStream } from '../../events/stream.js';
import type { Services } from '../../services.js';
import { filterArgs } from './filters.js';
import type { DockerRouter } from './http.js';
import { dockerTimes } from './times.js';

export function registerDockerEvents(r: DockerRouter, s: Services): void {
  r.on('GET', '/events', async ({ query, res }) => {
    const stream = eventStream(s.events, { ...dockerTimes(query), filter: eventFilter(filterArgs(query.get('filters'))) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    stream.pipe(res);
    res.on('close', () => stream.destroy());
    return 'handled';
  });
}
