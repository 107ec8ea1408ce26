/**
 * The daemon's event stream (`sbx events`, docker's GET /events): what happened to containers,
 * images, networks and volumes, in docker's Message shape so one encoder serves both APIs.
 *
 * GET /v1/events streams NDJSON, one EventMessage per line, oldest first: with `since`, the
 * events still in the daemon's ring (the last EVENT_RING_SIZE) from that time on, then live ones;
 * with `until`, the stream ends at that time (at once when it is past). Neither: live events only.
 * filters are docker's `--filter` strings (container=, image=, event=, type=, label=, network=,
 * volume=, daemon=, scope=): values of one key are alternatives, keys all must match.
 */
import { route } from './api.js';
import { formatNanoTime } from './time.js';
import { arrayOf, opt, str } from './validate.js';

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon';

/** docker's events.Message (status/id/from: the pre-1.22 fields docker still sends for containers and images). */
export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  /** start, die, pull, ...; exec events carry the command (`exec_start: sh -c ls`), as docker's. */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** Seconds and nanoseconds since the epoch. */
  time: number;
  timeNano: number;
}

export const EVENT_RING_SIZE = 1024;

export const EVENT_FILTER_KEYS = ['container', 'image', 'event', 'type', 'label', 'network', 'volume', 'daemon', 'scope'] as const;

export const Events = {
  stream: route<{ since?: string; until?: string; filters?: string[] }, void>('GET', '/v1/events', 'download',
    { since: opt(str), until: opt(str), filters: opt(arrayOf(str)) }),
} as const;

/** docker's default line: `TIME TYPE ACTION ID (k=v, ...)`, attributes sorted by key. */
export function formatEventLine(e: EventMessage): string {
  const when = e.timeNano ? formatNanoTime(BigInt(e.timeNano)) : formatNanoTime(BigInt(e.time) * 1_000_000_000n);
  const keys = Object.keys(e.Actor.Attributes).sort();
  const attrs = keys.length ? ` (${keys.map((k) => `${k}=${e.Actor.Attributes[k]}`).join(', ')})` : '';
  return `${when} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs}`;
}
