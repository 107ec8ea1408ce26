/**
 * docker's event filters (daemon/events/filter.go): KEY=VALUE strings, values of one key are
 * alternatives, every key given must match. container/network/volume match the actor's ID or
 * name attribute by prefix (docker's FuzzyMatch) and so keep only events of that type; image
 * matches an image event's ID or name, or a container event's image, with or without tag; event
 * matches the action (exec_create/exec_start/health_status also before the colon); label matches
 * an attribute `k` or `k=v`. @throws invalid_argument for an unknown key or a missing '='.
 */
import { EVENT_FILTER_KEYS, SbxError, type EventMessage } from '../../protocol/index.js';

export type EventFilter = (e: EventMessage) => boolean;

export function eventFilter(args: string[]): EventFilter {
  const by = new Map<string, string[]>();
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw new SbxError('invalid_argument', `bad format of filter (expected name=value): ${JSON.stringify(a)}`);
    const k = a.slice(0, i).toLowerCase();
    if (!(EVENT_FILTER_KEYS as readonly string[]).includes(k)) throw new SbxError('invalid_argument', `invalid filter '${k}'`);
    by.set(k, [...by.get(k) ?? [], a.slice(i + 1)]);
  }
  const exact = (k: string, v: string | undefined): boolean => !by.has(k) || (v !== undefined && by.get(k)!.includes(v));
  const fuzzy = (k: string, v: string | undefined): boolean => !by.has(k) || (v !== undefined && v !== '' && by.get(k)!.some((p) => v.startsWith(p)));
  const named = (k: string, e: EventMessage): boolean => !by.has(k) || (e.Type === k && (fuzzy(k, e.Actor.ID) || fuzzy(k, e.Actor.Attributes.name)));
  return (e) => {
    const attrs = e.Actor.Attributes;
    const fuzzyEvent = (by.get('event') ?? []).some((v) => ['exec_create', 'exec_start', 'health_status'].includes(v));
    if (!(fuzzyEvent ? fuzzy('event', e.Action) : exact('event', e.Action))) return false;
    if (!exact('type', e.Type) || !exact('scope', e.scope) || (by.has('daemon') && e.Type !== 'daemon')) return false;
    if (!named('container', e) || !named('network', e) || !named('volume', e)) return false;
    if (by.has('image')) {
      const name = e.Type === 'image' ? attrs.name : attrs.image;
      const cands = [e.Actor.ID, name, stripTag(e.Actor.ID), name === undefined ? undefined : stripTag(name)];
      if (!cands.some((c) => c !== undefined && exact('image', c))) return false;
    }
    return (by.get('label') ?? []).every((l) => {
      const j = l.indexOf('=');
      return j < 0 ? l in attrs : attrs[l.slice(0, j)] === l.slice(j + 1);
    });
  };
}

/** busybox:latest → busybox; host:5000/a:b → host:5000/a; digests kept. */
function stripTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}
