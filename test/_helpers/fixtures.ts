/**
 * Test images without the network: layer tars built in memory with tar-stream (including
 * hand-made hostile ones), a busybox layer from the host's busybox-static, and putImage() that
 * stores layers + config + manifest in a content store and tags them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { MediaType, type ContainerConfig, type Descriptor, type Digest, type ImageConfig, type Manifest } from '../../protocol/index.js';
import type { ContentStore } from '../../daemon/content/store.js';
import type { ImageStore } from '../../daemon/images/store.js';

export interface Entry {
  name: string;
  type?: tar.Header['type'];
  data?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  /** PAX records, e.g. { 'SCHILY.xattr.user.k': 'v' } */
  pax?: Record<string, string>;
}

const EPOCH = new Date('2024-01-01T00:00:00Z');

/** A tar of `entries`, in order, exactly as given (no path cleaning: hostile names stay hostile). */
export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? (e.data !== undefined ? 'file' : 'directory');
    const data = e.data === undefined ? undefined : Buffer.from(e.data);
    const header: tar.Header = {
      name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? EPOCH, size: data?.length ?? 0,
      linkname: e.linkname ?? '', uname: '', gname: '', devmajor: e.devmajor ?? 0, devminor: e.devminor ?? 0,
      ...(e.pax ? { pax: e.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function digestOf(b: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

let busybox: Buffer | undefined;

/** One layer: /bin/busybox (the host's busybox-static) with every applet linked in /bin, plus /etc basics. */
export async function busyboxLayer(): Promise<Buffer> {
  if (busybox) return busybox;
  const bin = readFileSync('/bin/busybox');
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  busybox = await tarOf([
    { name: 'bin/' }, { name: 'dev/' }, { name: 'etc/' }, { name: 'proc/' }, { name: 'sys/' },
    { name: 'root/', mode: 0o700 }, { name: 'tmp/', mode: 0o1777 }, { name: 'var/' }, { name: 'usr/' }, { name: 'usr/bin/' },
    { name: 'bin/busybox', data: bin, mode: 0o755 },
    ...applets.sort().map((a): Entry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { name: 'etc/group', data: 'root:x:0:\nnogroup:x:65534:\n' },
  ]);
  return busybox;
}

export interface StoredImage {
  name: string;
  /** The manifest's descriptor (what the image store tags). */
  target: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

/**
 * Store `layers` (uncompressed tars; gzip'd in the blob store when opts.gzip) with a config and a
 * manifest, and tag the result `name` (when an image store is given).
 */
export async function putImage(
  content: ContentStore, images: ImageStore | undefined, name: string, layers: Buffer[],
  opts: { gzip?: boolean; config?: ContainerConfig } = {},
): Promise<StoredImage> {
  const descs: Descriptor[] = [];
  for (const l of layers) {
    const blob = opts.gzip ? gzipSync(l) : l;
    const info = await content.write(blob);
    descs.push({ mediaType: opts.gzip ? MediaType.ociLayerGzip : MediaType.ociLayer, digest: info.digest, size: info.size });
  }
  const config: ImageConfig = {
    created: EPOCH.toISOString(), architecture: 'amd64', os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...opts.config },
    rootfs: { type: 'layers', diff_ids: layers.map(digestOf) },
    history: layers.map(() => ({ created: EPOCH.toISOString(), created_by: 'sbx test fixture' })),
  };
  const cbytes = Buffer.from(JSON.stringify(config));
  const cinfo = await content.write(cbytes);
  const manifest: Manifest = {
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: cinfo.digest, size: cinfo.size },
    layers: descs,
  };
  const mbytes = Buffer.from(JSON.stringify(manifest));
  const minfo = await content.write(mbytes);
  const target: Descriptor = { mediaType: MediaType.ociManifest, digest: minfo.digest, size: minfo.size };
  if (images) await images.put(name, target);
  return { name, target, manifest, config };
}
