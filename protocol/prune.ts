/**
 * Prune: docker's POST /containers/prune and /images/prune. `sbx system prune` is the CLI calling
 * both and Build.prune in turn (as docker's CLI does).
 * - containers: every stopped container (created or exited) passing `filters` (docker's
 *   `--filter` text, protocol/filters.ts: until=, label=, label!=) is removed; `reclaimed` sums
 *   their writable layers (the bytes `system df` counts for them).
 * - images: dangling images (no tag) no container uses; with `all`, every image no container
 *   (running or stopped) uses. `untagged`/`deleted` as rmi reports them; `reclaimed` is the bytes
 *   of content and unpacked layers that went.
 * Errors: invalid_argument (a bad filter: "invalid filter 'x'").
 */
import { route } from './api.js';
import { arrayOf, bool, opt, str } from './validate.js';

export interface ContainersPruneResult { deleted: string[]; reclaimed: number }
export interface ImagesPruneResult { untagged: string[]; deleted: string[]; reclaimed: number }

export const Prune = {
  containers: route<{ filters?: string[] }, ContainersPruneResult>('POST', '/v1/containers/prune', 'json', { filters: opt(arrayOf(str)) }),
  images: route<{ all?: boolean }, ImagesPruneResult>('POST', '/v1/images/prune', 'json', { all: opt(bool) }),
} as const;
