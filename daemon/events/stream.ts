/**
 * One client's view of the event bus as NDJSON (one docker Message per line): the ring's events
 * from `since` on, then live ones; ends at `until` (at once when it is already past). The replay runs in the
 * same tick as the subscription (emit is synchronous), so no event is lost or sent twice between them.
 */
import { Readable } from 'node:stream';
import { nowNano } from '../util/clock.js';
import type { EventBus, Stamped } from './bus.js';
import type { EventFilter } from './filter.js';

export function eventStream(bus: EventBus, opts: { since?: bigint | undefined; until?: bigint | undefined; filter: EventFilter }): Readable {
  const { since, until, filter } = opts;
  const out = new Readable({ read() { /* pushed */ } });
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const send = (e: Stamped): void => {
    if (ended || (until !== undefined && e.ns > until) || !filter(e.message)) return;
    out.push(JSON.stringify(e.message) + '\n');
  };
  const end = (): void => {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    unsubscribe();
    out.push(null);
  };
  const unsubscribe = bus.subscribe(send);
  if (since !== undefined) for (const e of bus.recent(since)) send(e);
  out.on('close', end);
  if (until !== undefined) {
    const ms = Number((until - nowNano()) / 1_000_000n);
    if (ms <= 0) setImmediate(end);
    else timer = setTimeout(end, ms + 1);
  }
  return out;
}
