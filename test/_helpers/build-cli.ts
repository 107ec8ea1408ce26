/** Build tests through the CLI: `sbx build --progress plain` and image IDs, on a buildSuite's daemon and context. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildContext } from './build.js';
import { sbx, type CliResult } from './cli.js';

/** `sbx build --progress plain ARGS` (the Dockerfile written first when given). */
export async function build(c: BuildContext, args: string[], dockerfile?: string, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  if (dockerfile !== undefined) await writeFile(join(c.ctx, 'Dockerfile'), dockerfile);
  return sbx(c.d.root, ['build', '--progress', 'plain', ...args], { timeoutMs: 120000, ...(env ? { env } : {}) });
}

/** The image's ID, or undefined when `ref` names nothing. */
export async function imageId(c: BuildContext, ref: string): Promise<string | undefined> {
  const r = await sbx(c.d.root, ['image', 'inspect', ref]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { Id: string }[])[0]!.Id : undefined;
}
