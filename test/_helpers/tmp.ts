import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir as osTmp } from 'node:os';
import { join } from 'node:path';

/** A fresh temp directory; every suite makes its own in before.each. */
export async function tmpdir(prefix = 'sbx-test-'): Promise<string> {
  return mkdtemp(join(process.env.SBX_TEST_TMP ?? osTmp(), prefix));
}

export async function rmrf(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}
