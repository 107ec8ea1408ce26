/**
 * Pulling for `pull`, `run` and `create`: docker's progress lines, and the create that pulls a
 * missing image as docker's does (`--pull missing|always|never`).
 */
import {
  Containers, Images, Registry, SbxError, familiarString, parseReference,
  type CreateContainerRequest, type CreateContainerResponse, type PullResult,
} from '../protocol/index.js';
import type { Client } from './client.js';
import { UsageError } from './command.js';
import { progressPrinter } from './progress.js';

export type PullPolicy = 'missing' | 'always' | 'never';

/** docker's --pull value; undefined → missing. */
export function pullPolicy(value: string | undefined): PullPolicy {
  if (value === undefined || value === 'missing' || value === 'always' || value === 'never') return value ?? 'missing';
  throw new UsageError(`invalid argument "${value}" for "--pull" flag: must be one of "always", "missing" or "never"`);
}

export interface PullOptions { platform?: string; insecure?: boolean; quiet?: boolean }

/** Pull `reference` with docker's progress and "Digest:"/"Status:" lines on `out`. */
export async function pullImage(client: Client, reference: string, out: NodeJS.WriteStream, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(reference);
  const r = await client.progress(Registry.pull, {
    reference, ...(opts.platform ? { platform: opts.platform } : {}), ...(opts.insecure ? { insecure: true } : {}),
  }, opts.quiet ? undefined : progressPrinter(out));
  if (!opts.quiet) {
    out.write(`Digest: ${r.digest}\n`);
    out.write(r.changed ? `Status: Downloaded newer image for ${familiarString(ref)}\n` : `Status: Image is up to date for ${familiarString(ref)}\n`);
  }
  return r;
}

/**
 * Containers.create under a pull policy, as docker's `run`/`create`: `always` pulls first;
 * `missing` pulls only when the create failed because the image is not here ("Unable to find
 * image 'x:latest' locally" on `err`, then the pull's progress on `err`); `never` never pulls.
 */
export async function createPulling(client: Client, req: CreateContainerRequest, policy: PullPolicy, err: NodeJS.WriteStream, platform?: string): Promise<CreateContainerResponse> {
  const opts = platform ? { platform } : {};
  if (policy === 'always') await pullOrHint(client, req.image, err, opts);
  try {
    return await client.call(Containers.create, req);
  } catch (e) {
    if (policy !== 'missing' || !(e instanceof SbxError) || e.code !== 'not_found' || !(await isMissing(client, req.image))) throw e;
    err.write(`Unable to find image '${familiarString(parseReference(req.image))}' locally\n`);
    await pullOrHint(client, req.image, err, opts);
    return client.call(Containers.create, req);
  }
}

/** The image is not here and its name is one a registry could serve (an ID is never pulled). */
async function isMissing(client: Client, image: string): Promise<boolean> {
  try { parseReference(image); } catch { return false; }
  try {
    await client.call(Images.inspect, { ref: image });
    return false;
  } catch (e) {
    return e instanceof SbxError && e.code === 'not_found';
  }
}

/** A pull whose failure, on a store with no image at all, says how to get a base image offline. */
async function pullOrHint(client: Client, image: string, out: NodeJS.WriteStream, opts: PullOptions): Promise<void> {
  try {
    await pullImage(client, image, out, opts);
  } catch (e) {
    if (!(e instanceof SbxError) || e.code === 'cancelled') throw e;
    const images = await client.call(Images.list, {}).catch(() => [undefined]);
    if (images.length > 0) throw e;
    throw new SbxError(e.code, `${e.message}\nThere are no images here yet. To get a base image without network: sbx import --busybox`, { cause: e });
  }
}
