/**
 * The build context on the daemon side: the client's tar stream extracted into a private temp
 * directory under $SBX_ROOT/build/tmp, with archive/apply.ts's checks (no entry escapes the
 * directory, no symlink is followed), with its `.dockerignore` matcher (the front's loadIgnore:
 * `<Dockerfile>.dockerignore` next to the Dockerfile wins) that COPY/ADD obey.
 * The directory is removed by dispose(), also after a failure or a cancelled build.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { SbxError } from '../../protocol/index.js';
import { applyLayer } from '../archive/apply.js';
import { loadIgnore, type IgnoreMatcher } from '../dockerfile/context.js';
import { tmpRoot } from './tmp.js';

export interface BuildContext {
  dir: string;
  /** The Dockerfile's text and its name as the user gave it. */
  dockerfile: { text: string; name: string };
  /** `.dockerignore` (or `<Dockerfile>.dockerignore`): COPY leaves out what it excludes. */
  ignore: IgnoreMatcher;
  dispose(): Promise<void>;
}

export { cleanTmp, tmpRoot } from './tmp.js';

export async function receiveContext(root: string, body: Readable, dockerfile: string, signal?: AbortSignal): Promise<BuildContext> {
  const name = posix.normalize(dockerfile || 'Dockerfile');
  if (name.startsWith('../') || name === '..' || posix.isAbsolute(name)) {
    throw new SbxError('invalid_argument', `Dockerfile ${dockerfile}: must be a path inside the build context`);
  }
  await mkdir(tmpRoot(root), { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(tmpRoot(root), 'ctx-'));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    await applyLayer(dir, body, { whiteouts: 'remove', ...(signal ? { signal } : {}) }).catch((e: unknown) => {
      // an empty body (no context at all) is an empty context
      if (e instanceof SbxError && /empty/i.test(e.message)) return undefined;
      throw SbxError.wrap(e, 'read the build context', 'invalid_argument');
    });
    const text = await readFile(join(dir, name), 'utf8').catch(() => {
      throw new SbxError('invalid_argument', `failed to read dockerfile: open ${name}: no such file or directory`);
    });
    return { dir, dockerfile: { text, name }, ignore: await loadIgnore(dir, name), dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}
