/**
 * A small runnable image built straight into a store: one uncompressed layer (as sbx commits
 * them) holding the host's static busybox, `sh`/`echo`/`cat` links, /etc/passwd and any extra
 * files given, plus an OCI config and manifest; tagged `name`.
 */
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MediaType, type Descriptor, type Digest } from '../../protocol/index.js';
import { packToStore } from '../../daemon/archive/pack.js';
import type { ContentStore } from '../../daemon/content/store.js';
import type { ImageStore } from '../../daemon/images/store.js';
import { writeImage } from '../../daemon/images/write.js';
import { rmrf, tmpdir } from './tmp.js';

export interface TestImage { manifest: Descriptor; configDigest: Digest; diffId: Digest }

export async function makeBusyboxImage(s: { content: ContentStore; images: ImageStore }, name: string,
  files: Record<string, string | Buffer> = {}): Promise<TestImage> {
  const dir = await tmpdir('sbx-img-');
  try {
    await mkdir(join(dir, 'bin'), { recursive: true });
    await mkdir(join(dir, 'etc'), { recursive: true });
    await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
    for (const a of ['sh', 'echo', 'cat', 'ls']) await symlink('busybox', join(dir, 'bin', a));
    await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    for (const [p, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, p)), { recursive: true });
      await writeFile(join(dir, p), text);
    }
    const layer = await packToStore(s.content, dir, { sourceDateEpoch: 0 });
    const { manifest, configDigest } = await writeImage(s.content, [layer.descriptor], {
      architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: '2026-01-01T00:00:00Z', created_by: 'sbx test image' }],
    });
    await s.images.put(name, manifest);
    return { manifest, configDigest, diffId: layer.diffId };
  } finally {
    await rmrf(dir);
  }
}

export const isUncompressed = (mediaType: string): boolean => mediaType === MediaType.ociLayer;
