/**
 * An image's layers as file changes (protocol/layers.ts): each layer tar is read once, bottom up;
 * an entry is an `add` unless a lower layer had the path (then `modify`), `.wh.NAME` deletes NAME
 * (and everything below it), `.wh..wh..opq` makes its directory a `modify` whose old children are
 * gone.
 */
import { posix } from 'node:path';
import { comparePaths, type Change, type EntryKind, type LayerFiles, MAX_LAYER_CHANGES } from '../../protocol/index.js';
import { decompress } from '../archive/check.js';
import { extractor } from '../archive/tar-stream-patches.js';
import type { ContentStore } from '../content/store.js';
import type { Sized } from './describe.js';

const KINDS: Record<string, EntryKind> = {
  file: 'file', 'contiguous-file': 'file', link: 'file', directory: 'dir', symlink: 'symlink',
  'character-device': 'char', 'block-device': 'block', fifo: 'fifo',
};

export async function layerFiles(content: ContentStore, img: Sized): Promise<LayerFiles[]> {
  const made = (img.config.history ?? []).filter((h) => !h.empty_layer);
  const below = new Map<string, EntryKind>();
  const out: LayerFiles[] = [];
  for (const [i, desc] of img.manifest.layers.entries()) {
    const changes = new Map<string, Change>();
    const { stream } = await decompress(await content.read(desc.digest), `layer ${desc.digest}`);
    const ex = extractor();
    stream.pipe(ex);
    stream.on('error', (e) => ex.destroy(e));
    for await (const entry of ex) {
      const h = entry.header;
      const path = `/${posix.normalize(h.name.replace(/^(\.\/)+/, '')).replace(/\/$/, '')}`;
      entry.resume();
      if (path === '/' || path === '/.') continue;
      const base = posix.basename(path);
      const dir = posix.dirname(path);
      if (base === '.wh..wh..opq') {
        for (const p of [...below.keys()]) if (p.startsWith(`${dir}/`)) below.delete(p);
        changes.set(dir, { op: 'modify', path: dir, kind: 'dir' });
      } else if (base.startsWith('.wh.')) {
        const gone = posix.join(dir, base.slice(4));
        const kind = below.get(gone) ?? 'file';
        below.delete(gone);
        if (kind === 'dir') for (const p of [...below.keys()]) if (p.startsWith(`${gone}/`)) below.delete(p);
        changes.set(gone, { op: 'delete', path: gone, kind });
      } else {
        const kind = KINDS[h.type ?? 'file'] ?? 'file';
        changes.set(path, { op: below.has(path) ? 'modify' : 'add', path, kind, ...(kind === 'file' ? { size: h.size ?? 0 } : {}) });
      }
    }
    for (const c of changes.values()) if (c.op !== 'delete') below.set(c.path, c.kind);
    const sorted = [...changes.values()].sort((a, b) => comparePaths(a.path, b.path));
    const createdBy = made[i]?.created_by;
    out.push({
      digest: desc.digest, size: img.layerSizes[i] ?? desc.size, changes: sorted.slice(0, MAX_LAYER_CHANGES),
      ...(createdBy ? { createdBy } : {}), ...(sorted.length > MAX_LAYER_CHANGES ? { truncated: true } : {}),
    });
  }
  return out;
}
