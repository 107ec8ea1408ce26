/** build/tmp: where a build's context and work directories live while it runs (apart so start-up need not load the builder). */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

export function tmpRoot(root: string): string { return join(root, 'build', 'tmp'); }

/** Remove what a crashed daemon left in build/tmp. */
export async function cleanTmp(root: string): Promise<void> {
  await rm(tmpRoot(root), { recursive: true, force: true });
}
