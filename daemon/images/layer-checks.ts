/**
 * LayerChecks: trust-but-verify for the diffIDs of large pulled layers.
 *
 * A pulled layer is stored once its compressed bytes hash to the manifest's digest (the content
 * store checks that as it writes). Whether they also decompress to the diffID the image config
 * lists is checked afterwards, in the background, so a pull ends when its bytes are in (as
 * skopeo's does) rather than after a second pass of gunzip and sha256 over every layer.
 *
 * Contract
 * - defer() records the check on disk ($SBX_ROOT/checks/<hex>.json) before it returns, so a
 *   daemon stopped or killed meanwhile checks the layer again when it starts (recover()).
 * - Nothing that depends on the layer's content sees it unchecked: the content store returned by
 *   gate() makes read() and path() of a layer under check wait for its result (push, save,
 *   unpack for run/create/build, the embedded registry all read through it).
 * - A failed check is loud: an error in the daemon's log, every image whose manifest lists the
 *   layer removed (onFailed; the blob then goes with garbage collection), and every later read of
 *   it (or settled()) fails with digest_mismatch naming both digests, until a pull stores the
 *   layer again.
 * - Checks run one at a time, gunzip on libuv's pool and the hash on the daemon's thread in
 *   1 MiB steps, so requests go on being served meanwhile.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SbxError, isDigest, type Descriptor, type Digest } from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import { ensureDir, readJSONOr, writeJSON } from '../util/fs.js';
import type { Logger } from '../util/log.js';
import type { ImageDeps } from './deps.js';
import { collectGarbage } from './gc.js';
import { listStoredImages } from './resolve.js';
import { pruneLayers } from './unpack.js';

export interface LayerChecks {
  /**
   * Check later that stored `layer` (gzip) decompresses to `diffId`; recorded on disk first.
   * `stored`: the layer is being stored now; readers wait for the check from this call on, which
   * runs once `stored` resolves (nothing is checked if it rejects). The caller makes the blob
   * visible only after this call resolved (the record is then on disk for a restart).
   */
  defer(layer: Descriptor, diffId: Digest, stored?: Promise<unknown>): Promise<void>;
  /** Resolves when no check of `digest` is pending; rejects with digest_mismatch if its check failed. */
  settled(digest: Digest): Promise<void>;
  /** Did the last check of `digest` fail? (A pull stores such a layer again rather than reuse it.) */
  failed(digest: Digest): boolean;
  /** `content` with read() and path() of a layer under check waiting for its result. */
  gate(content: ContentStore): ContentStore;
  /** Check again what a previous run recorded and did not finish. */
  recover(): Promise<void>;
  /** Stop the running check (its record stays for the next start). */
  close(): Promise<void>;
}

export interface LayerChecksDeps {
  /** Where the records live ($SBX_ROOT/checks). */
  dir: string;
  /** The store the layers are in (ungated: the check itself reads through it). */
  content: ContentStore;
  log: Logger;
  /** Remove what stands on a layer that failed its check (the images listing it). */
  onFailed: (layer: Digest, error: SbxError) => Promise<void>;
  /** A layer passed its check: it decompresses to `size` bytes (LayerSizes records it). */
  onVerified?: (layer: Digest, size: number) => Promise<void>;
}

interface Record { diffId: Digest; mediaType: string; size: number }

/** The sha256 and the length of a stored gzip blob's decompressed bytes. */
export async function gunzipDigest(file: string, signal?: AbortSignal): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 20 }), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) { hash.update(c); size += c.length; }
  }, signal ? { signal } : {});
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export function createLayerChecks(deps: LayerChecksDeps): LayerChecks {
  const { dir, content, log } = deps;
  const pending = new Map<Digest, Promise<void>>();
  const failures = new Map<Digest, SbxError>();
  const stop = new AbortController();
  let queue: Promise<unknown> = Promise.resolve();
  const recordFile = (d: Digest): string => join(dir, `${d.slice('sha256:'.length)}.json`);

  async function check(digest: Digest, rec: Record): Promise<void> {
    let got: Digest;
    let size: number;
    try {
      ({ digest: got, size } = await gunzipDigest(await content.path(digest), stop.signal));
    } catch (e) {
      if (stop.signal.aborted) throw new SbxError('cancelled', `check of layer ${digest}: the daemon is stopping`);
      // Removed meanwhile (rmi, gc): nothing left to check.
      if ((e instanceof SbxError && e.code === 'not_found') || (e as NodeJS.ErrnoException).code === 'ENOENT') { await rm(recordFile(digest), { force: true }); return; }
      return fail(digest, new SbxError('digest_mismatch', `layer ${digest}: cannot decompress (${(e as Error).message})`, { cause: e }));
    }
    if (got !== rec.diffId) return fail(digest, new SbxError('digest_mismatch', `layer ${digest}: uncompressed content hashes to ${got}, the image config says ${rec.diffId}`));
    // recorded before the check settles: a reader waiting for it finds the size
    await deps.onVerified?.(digest, size).catch((e) => log.warn('record a layer size', { layer: digest, error: String(e) }));
    await rm(recordFile(digest), { force: true });
    log.debug('layer diffID verified', { layer: digest, diffId: got, size });
  }

  // The check settles first (readers waiting on it get the error at once, and may hold locks the
  // removal needs), then the removal runs on its own.
  function fail(digest: Digest, error: SbxError): never {
    failures.set(digest, error);
    log.error('pulled layer failed its diffID check: removing the images that list it', { layer: digest, error: error.message });
    void rm(recordFile(digest), { force: true })
      .then(() => deps.onFailed(digest, error))
      .catch((e) => log.error('remove images after a failed layer check', { layer: digest, error: String(e) }));
    throw error;
  }

  function start(digest: Digest, rec: Record, stored?: Promise<unknown>): void {
    failures.delete(digest);
    const enqueue = (): Promise<void> => {
      const run = queue.then(() => check(digest, rec));
      queue = run.catch(() => undefined);
      return run;
    };
    // Not stored after all: nothing to check, and the record goes unless the blob is there anyway.
    const notStored = async (): Promise<void> => {
      if (await content.has(digest).catch(() => false)) return enqueue();
      await rm(recordFile(digest), { force: true });
    };
    const run = stored ? stored.then(enqueue, notStored) : enqueue();
    const p = run.finally(() => { if (pending.get(digest) === p) pending.delete(digest); });
    p.catch(() => undefined);
    pending.set(digest, p);
  }

  const settled = async (digest: Digest): Promise<void> => {
    await pending.get(digest);
    const e = failures.get(digest);
    if (e) throw e;
  };

  return {
    async defer(layer, diffId, stored) {
      const rec: Record = { diffId, mediaType: layer.mediaType, size: layer.size };
      // While it is being stored, readers wait from now on (the record is written meanwhile).
      if (stored) start(layer.digest, rec, stored);
      await ensureDir(dir);
      await writeJSON(recordFile(layer.digest), rec);
      if (!stored) start(layer.digest, rec);
    },
    settled,
    failed: (d) => failures.has(d),
    gate(inner) {
      return {
        info: (d) => inner.info(d), has: (d) => inner.has(d), readBytes: (d) => inner.readBytes(d),
        write: (data, expect, signal) => inner.write(data, expect, signal), ingest: (ref) => inner.ingest(ref),
        delete: (d) => inner.delete(d), list: () => inner.list(),
        read: async (d) => { await settled(d); return inner.read(d); },
        path: async (d) => { await settled(d); return inner.path(d); },
      };
    },
    async recover() {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const digest = `sha256:${name.replace(/\.json$/, '')}`;
        const rec = await readJSONOr<Record | null>(join(dir, name), null).catch(() => null);
        if (!isDigest(digest) || !rec || !isDigest(rec.diffId) || !(await content.has(digest))) { await rm(join(dir, name), { force: true }); continue; }
        log.info('checking a pulled layer an earlier run had not checked', { layer: digest });
        start(digest, rec);
      }
    },
    async close() {
      stop.abort();
      await queue;
    },
  };
}

/**
 * LayerChecksDeps.onFailed for the daemon: every image (tagged or not) whose manifest lists
 * `layer` is removed, then unreferenced blobs and layer snapshots are collected. Under gcLock
 * exclusive, so a pull still writing the image has tagged it by then and it goes too.
 */
export async function removeImagesWithLayer(s: ImageDeps, layer: Digest): Promise<void> {
  await s.gcLock.withExclusive(async () => {
    const bad = (await listStoredImages(s)).filter((i) => i.manifest.layers.some((l) => l.digest === layer));
    const targets = new Set(bad.map((i) => i.target.digest));
    if (!targets.size) return;
    await s.images.update((tags, untagged) => {
      for (const [name, t] of tags) if (targets.has(t.target.digest)) tags.delete(name);
      for (let i = untagged.length - 1; i >= 0; i--) if (targets.has(untagged[i]!.digest)) untagged.splice(i, 1);
    });
    s.log.error('removed images whose layer failed its diffID check', { layer, images: bad.flatMap((i) => i.names.length ? i.names : [i.target.digest]) });
  });
  await collectGarbage(s);
  await pruneLayers(s);
}
