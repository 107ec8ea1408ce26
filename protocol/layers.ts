/**
 * An image's layers, file by file (the page's layer explorer; what `dive` shows): per layer, what
 * it adds, changes and deletes relative to the layers below it, read from the layer tars themselves.
 */
import { route } from './api.js';
import type { Change } from './changes.js';
import type { Digest } from './oci.js';
import { str } from './validate.js';

export interface LayerFiles {
  /** The layer blob's digest, and the layer's unpacked size (as docker counts it). */
  digest: Digest;
  size: number;
  /** The history entry that made it ("created by"), when the config has one. */
  createdBy?: string;
  /** Sorted by path; at most MAX_LAYER_CHANGES, then `truncated`. A whiteout is a `delete`. */
  changes: Change[];
  truncated?: boolean;
}

export const MAX_LAYER_CHANGES = 5000;

export const Layers = {
  list: route<{ ref: string }, LayerFiles[]>('GET', '/v1/images/:ref/layers', 'json', { ref: str }),
} as const;
