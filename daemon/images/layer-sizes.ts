/**
 * LayerSizes: the unpacked (uncompressed tar) size of each stored layer, which is what docker
 * shows as an image's size (`docker images`, inspect's Size, `system df`), whatever form the
 * layer travelled in.
 *
 * A layer sbx wrote (commit, import, build) is stored uncompressed: its size is the blob's. A
 * gzip layer (pulled, loaded) is counted by whoever decompresses it anyway — the diffID check
 * of a pull (diffid.ts, layer-checks.ts), a load, an unpack — and recorded here per blob digest
 * ($SBX_ROOT/layer-sizes/<hex>.json). The record is content-addressed, so it is never stale.
 *
 * Contract
 * - of() always answers a number: the record, else (a layer whose trust-but-verify check is still
 *   running) after that check, which records it, else (a store older than these records) by
 *   decompressing the blob once and recording what it counted. A layer in a compression sbx
 *   cannot read (zstd), or one that failed its check (its images are being removed), answers its
 *   stored size: a listing never fails for one layer.
 * - record() is idempotent and cheap (one small atomic file, then memory).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isDigest, type Descriptor, type Digest } from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import { ensureDir, readJSONOr, writeJSON } from '../util/fs.js';
import { isUncompressedLayer } from './transfer.js';

export interface LayerSizes {
  /** Blob `digest` (a compressed layer) decompresses to `size` bytes. */
  record(digest: Digest, size: number): Promise<void>;
  /** The layer's uncompressed size (see the contract). */
  of(layer: Descriptor): Promise<number>;
  /** of() for each layer of a manifest, in order. */
  ofAll(layers: readonly Descriptor[]): Promise<number[]>;
}

/** Bytes a gzip file decompresses to. */
export async function gunzipSize(file: string): Promise<number> {
  let n = 0;
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 20 }), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) n += c.length;
  });
  return n;
}

async function isGzipFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally { await fh.close(); }
}

/**
 * `dir`: where the records live. `content`: the store as readers see it (gated by the layer
 * checks, so a path() of a layer under check waits for its result, and the record it makes).
 */
export function createLayerSizes(dir: string, content: ContentStore): LayerSizes {
  const known = new Map<Digest, number>();
  const computing = new Map<Digest, Promise<number>>();
  const file = (d: Digest): string => join(dir, `${d.slice('sha256:'.length)}.json`);

  async function recorded(d: Digest): Promise<number | undefined> {
    const hit = known.get(d);
    if (hit !== undefined) return hit;
    const rec = await readJSONOr<{ size?: unknown } | null>(file(d), null).catch(() => null);
    if (typeof rec?.size !== 'number' || !Number.isSafeInteger(rec.size) || rec.size < 0) return undefined;
    known.set(d, rec.size);
    return rec.size;
  }

  const self: LayerSizes = {
    async record(d, size) {
      if (!isDigest(d) || known.get(d) === size) return;
      known.set(d, size);
      await ensureDir(dir);
      await writeJSON(file(d), { size });
    },
    async of(layer) {
      if (isUncompressedLayer(layer.mediaType)) return layer.size;
      const hit = await recorded(layer.digest);
      if (hit !== undefined) return hit;
      let p = computing.get(layer.digest);
      if (!p) {
        p = (async () => {
          const path = await content.path(layer.digest); // waits for a pending diffID check
          const after = await recorded(layer.digest);
          if (after !== undefined) return after;
          if (!(await isGzipFile(path))) return layer.size;
          const n = await gunzipSize(path);
          await self.record(layer.digest, n);
          return n;
        })()
          // a layer that failed its check or does not decompress: its images are going (layer-checks.ts); list it as stored
          .catch(() => layer.size)
          .finally(() => computing.delete(layer.digest));
        computing.set(layer.digest, p);
      }
      return p;
    },
    ofAll: (layers) => Promise.all(layers.map((l) => self.of(l))),
  };
  return self;
}
