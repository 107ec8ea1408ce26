/**
 * `sbx save`: images → one tar stream.
 * - format 'oci': an OCI image layout (oci-layout, index.json, blobs/sha256/…); each name is an
 *   index entry annotated with org.opencontainers.image.ref.name and io.containerd.image.name
 *   (the full reference, as docker 25+ writes it); an image saved by ID has no name.
 * - format 'docker': the same layout plus manifest.json and repositories, i.e. what `docker save`
 *   writes since docker 25, readable by older docker-archive readers (podman, skopeo) too.
 * Blobs are read verified; each appears once even when several images share it.
 */
import { Readable } from 'node:stream';
import tar, { type Pack } from 'tar-stream';
import {
  MediaType, REF_NAME_ANNOTATION, SbxError, familiarName, familiarString, parseReference,
  type Descriptor, type Digest, type Index,
} from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import { listStoredImages, resolveImage, type ImageStores, type LoadedImage } from './resolve.js';

export type SaveFormat = 'oci' | 'docker';

interface Picked { img: LoadedImage; names: string[] }

/** Resolve every input first (errors before any byte is sent), then stream. */
export async function saveImages(s: ImageStores, inputs: string[], format: SaveFormat): Promise<Readable> {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new SbxError('invalid_argument', 'save: name at least one image');
  if (format !== 'oci' && format !== 'docker') throw new SbxError('invalid_argument', `save: unknown format "${String(format)}" (oci or docker)`);
  const picked: Picked[] = [];
  const stored = await listStoredImages(s);
  for (const input of inputs) {
    const r = await resolveImage(s, String(input));
    // By tag: that tag; by ID or digest: every tag of the image (as docker save does).
    const names = r.name ? [r.name] : stored.find((i) => i.target.digest === r.target.digest)?.names ?? [];
    const same = picked.find((p) => p.img.descriptor.digest === r.descriptor.digest);
    if (same) { for (const n of names) if (!same.names.includes(n)) same.names.push(n); } else picked.push({ img: r, names: [...names] });
  }
  // A layer still under its diffID check (layer-checks.ts) is waited for here, and one that failed
  // it fails the save now, before any byte is sent (the gated store's path() waits and throws).
  for (const p of picked) for (const l of p.img.manifest.layers) await s.content.path(l.digest);
  const pack = tar.pack();
  const out = Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
  write(pack, s.content, picked, format).then(() => pack.finalize(), (e: unknown) => {
    const err = e instanceof SbxError ? e : SbxError.wrap(e, 'save');
    out.destroy(err);
    pack.destroy(err);
  });
  return out;
}

const MTIME = new Date(0);

function addBuffer(pack: Pack, name: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, size: data.length, mode: 0o644, mtime: MTIME, type: 'file' }, data, (err) => (err ? reject(err) : resolve()));
  });
}

async function addBlob(pack: Pack, content: ContentStore, d: Descriptor): Promise<void> {
  const { size } = await content.info(d.digest);
  if (d.size !== undefined && size !== d.size) throw new SbxError('digest_mismatch', `save: blob ${d.digest} has ${size} bytes, its descriptor says ${d.size}`);
  // Opened before the entry: a layer still under its diffID check waits here, and a failed check
  // throws before any entry exists. The entry's own errors (pack.destroy on failure) go to `done`:
  // an 'error' event nobody listens to would take the whole daemon down.
  const src = await content.read(d.digest);
  let sink!: ReturnType<Pack['entry']>;
  const done = new Promise<void>((resolve, reject) => {
    sink = pack.entry({ name: `blobs/sha256/${d.digest.slice(7)}`, size, mode: 0o644, mtime: MTIME, type: 'file' }, (err) => (err ? reject(err) : resolve()));
    sink.on('error', reject);
  });
  done.catch(() => undefined);
  for await (const chunk of src) {
    if (!sink.write(chunk as Buffer)) await new Promise<void>((r) => sink.once('drain', () => r()));
  }
  (sink as unknown as { end(): void }).end();
  await done;
}

async function write(pack: Pack, content: ContentStore, picked: Picked[], format: SaveFormat): Promise<void> {
  await addBuffer(pack, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const seen = new Set<Digest>();
  const blob = async (d: Descriptor): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    await addBlob(pack, content, d);
  };
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  for (const { img, names } of picked) {
    for (const l of img.manifest.layers) await blob(l);
    await blob(img.manifest.config);
    await blob(img.descriptor);
    const base = { mediaType: img.descriptor.mediaType, digest: img.descriptor.digest, size: img.descriptor.size };
    if (names.length === 0) index.manifests.push(base);
    for (const n of names) {
      const ref = parseReference(n);
      index.manifests.push({ ...base, annotations: { [CONTAINERD_NAME]: n, [REF_NAME_ANNOTATION]: ref.tag ?? 'latest' } });
    }
  }
  await addBuffer(pack, 'index.json', Buffer.from(JSON.stringify(index)));
  if (format === 'docker') {
    const manifest = picked.map(({ img, names }) => ({
      Config: `blobs/sha256/${img.configDigest.slice(7)}`,
      RepoTags: names.length ? names.map((n) => familiarString(parseReference(n))) : null,
      Layers: img.manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
    }));
    const repositories: Record<string, Record<string, string>> = {};
    for (const { img, names } of picked) {
      for (const n of names) {
        const ref = parseReference(n);
        (repositories[familiarName(ref)] ??= {})[ref.tag ?? 'latest'] = img.configDigest.slice(7);
      }
    }
    await addBuffer(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
    await addBuffer(pack, 'repositories', Buffer.from(JSON.stringify(repositories)));
  }
}

const CONTAINERD_NAME = 'io.containerd.image.name';
