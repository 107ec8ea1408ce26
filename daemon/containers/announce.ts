/** The attributes of docker's container and volume-mount events, from a container's records. */
import type { Container } from './container.js';
import type { MountRecord } from './mounts.js';

/** A container event's: its labels, then image (as the user typed it) and name, then `extra`. */
export function containerAttributes(c: Container, extra: Record<string, string> = {}): Record<string, string> {
  return { ...c.config.labels, image: c.config.image, name: c.config.name, ...extra };
}

/** A volume's `mount` event at the container's start (docker's attribute names). */
export function volumeMount(c: Container, v: MountRecord): Record<string, string> {
  return { container: c.config.id, destination: v.target, driver: 'local', propagation: '', 'read/write': String(!v.readonly) };
}
