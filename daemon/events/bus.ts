/**
 * EventBus: the daemon's event stream (protocol/events.ts). Domain services emit through the
 * narrow EventSink; the API rooms read through subscribe()/recent().
 *
 * Contract
 * - emit() stamps the event with the wall clock (ns; rounded to what a JSON number carries, so the
 *   time a client reads back is the time since/until compare) and hands it to every subscriber
 *   synchronously, in emission order; a subscriber that throws is dropped, not the others.
 * - The last EVENT_RING_SIZE events stay in memory for `since` (docker keeps 256); nothing is
 *   written to disk: a restarted sbxd starts an empty ring.
 * - Container and image events carry docker's legacy status/id/from fields.
 */
import { EVENT_RING_SIZE, type EventMessage, type EventType } from '../../protocol/index.js';
import { nowNano } from '../util/clock.js';

/** What a domain service needs to announce something. */
export interface EventSink {
  emit(type: EventType, action: string, id: string, attributes?: Record<string, string>): void;
}

/** An event and its time as a bigint (ns), for since/until. */
export interface Stamped { ns: bigint; message: EventMessage }

export class EventBus implements EventSink {
  private readonly ring: Stamped[] = [];
  private readonly subscribers = new Set<(e: Stamped) => void>();

  constructor(private readonly size = EVENT_RING_SIZE) {}

  emit(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    const timeNano = Number(nowNano());
    const ns = BigInt(timeNano);
    const message: EventMessage = {
      ...(type === 'container' || type === 'image' ? { status: action, id, ...(attributes.image ? { from: attributes.image } : {}) } : {}),
      Type: type, Action: action, Actor: { ID: id, Attributes: { ...attributes } }, scope: 'local',
      time: Number(ns / 1_000_000_000n), timeNano,
    };
    const e = { ns, message };
    this.ring.push(e);
    if (this.ring.length > this.size) this.ring.shift();
    for (const s of [...this.subscribers]) {
      try { s(e); } catch { this.subscribers.delete(s); }
    }
  }

  /** Events in the ring at or after `since` (ns), oldest first. */
  recent(since: bigint): Stamped[] { return this.ring.filter((e) => e.ns >= since); }

  subscribe(fn: (e: Stamped) => void): () => void {
    this.subscribers.add(fn);
    return () => { this.subscribers.delete(fn); };
  }
}
