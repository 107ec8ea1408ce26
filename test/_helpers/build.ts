/** Build tests through the CLI: a fresh daemon with `busybox` imported and an empty context dir per test. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx, type CliResult } from './cli.js';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { rmrf, tmpdir } from './tmp.js';

export interface BuildCtx { d: TestDaemon; ctx: string }

export function buildSuite(name: string): Test<BuildCtx> {
  const s = suite<BuildCtx>(name, {} as BuildCtx);
  s.before.each(async (c) => {
    c.d = await startTestDaemon();
    c.ctx = await tmpdir();
    if (process.getuid?.() !== 0) return;
    const r = await sbx(c.d.root, ['import', '--busybox', 'busybox']);
    assert.is(r.code, 0, r.stderr);
  });
  s.after.each(async (c) => {
    await c.d.close();
    await rmrf(c.ctx);
  });
  return s;
}

/** `sbx build --progress plain ARGS` (the Dockerfile written first when given). */
export async function build(c: BuildCtx, args: string[], dockerfile?: string, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  if (dockerfile !== undefined) await writeFile(join(c.ctx, 'Dockerfile'), dockerfile);
  return sbx(c.d.root, ['build', '--progress', 'plain', ...args], { timeoutMs: 120000, ...(env ? { env } : {}) });
}

/** The image's ID, or undefined when `ref` names nothing. */
export async function imageId(c: BuildCtx, ref: string): Promise<string | undefined> {
  const r = await sbx(c.d.root, ['image', 'inspect', ref]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { Id: string }[])[0]!.Id : undefined;
}
