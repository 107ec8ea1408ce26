/** docker's container events and the volume mounts at a start, from a container's records. */
import type { EventSink } from '../events/bus.js';
import type { Container } from './container.js';

/** A container event: its labels, then image (as the user typed it) and name, then `extra`, as docker's attributes. */
export function announceContainer(sink: EventSink | undefined, c: Container, action: string, extra: Record<string, string> = {}): void {
  sink?.emit('container', action, c.config.id, { ...c.config.labels, image: c.config.image, name: c.config.name, ...extra });
}

/** docker's volume `mount` event for each volume the container mounts, at its start. */
export function announceMounts(sink: EventSink | undefined, c: Container): void {
  for (const v of c.config.volumes ?? []) {
    if (v.type !== 'volume') continue;
    sink?.emit('volume', 'mount', v.source, { container: c.config.id, destination: v.target, driver: 'local', propagation: '', 'read/write': String(!v.readonly) });
  }
}
