/** Volumes: docker's local volumes (`sbx volume create|ls|inspect|rm|prune`), in docker's JSON shapes. */
import { route } from './api.js';
import { arrayOf, bool, opt, str } from './validate.js';

/** docker volume inspect, field for field. */
export interface Volume {
  Name: string;
  Driver: 'local';
  /** The host directory holding the content ($SBX_ROOT/volumes/NAME/_data). */
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: null;
}

export interface VolumePruneResult { VolumesDeleted: string[]; SpaceReclaimed: number }

export const Volumes = {
  /** name '' (or absent): an anonymous volume. labels: KEY=VALUE. An existing name is answered as is. */
  create: route<{ name?: string; labels?: string[] }, Volume>('POST', '/v1/volumes', 'json', { name: opt(str), labels: opt(arrayOf(str)) }),
  /** dangling: only the volumes no container mounts (true) or only those one does (false). */
  list: route<{ dangling?: boolean }, Volume[]>('GET', '/v1/volumes', 'json', { dangling: opt(bool) }),
  inspect: route<{ name: string }, Volume>('GET', '/v1/volumes/:name', 'json', { name: str }),
  /** Refused (failed_precondition) while a container mounts it; force: a missing volume is no error. */
  remove: route<{ name: string; force?: boolean }, void>('DELETE', '/v1/volumes/:name', 'json', { name: str, force: opt(bool) }),
  /** Unused anonymous volumes; every unused one with all. */
  prune: route<{ all?: boolean }, VolumePruneResult>('POST', '/v1/volumes/prune', 'json', { all: opt(bool) }),
} as const;
