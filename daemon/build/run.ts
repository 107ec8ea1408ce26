/**
 * RUN: the step's command in a container made by the container manager from the parent image
 * (the same runtime, isolation and defaults as `sbx run`), its output passed on line by line as
 * it comes, then its writable layer committed as one layer with docker's history text. The
 * container is removed afterwards, also when the command fails or the build is cancelled; its
 * snapshot is kept as the new layer's (keepSnapshot), so the next step does not unpack the layer.
 *
 * network: 'none' → its own namespace with loopback only; 'default' and 'host' → the host's
 * (sbx has no bridge network: a RUN that installs packages needs to reach the network).
 */
import { SbxError, type ContainerConfig } from '../../protocol/index.js';
import type { ContainerManager } from '../containers/manager.js';
import { containerLogs } from '../containers/logs.js';
import { waitContainer } from '../containers/lifecycle.js';
import { commitImage, type CommitDeps } from '../images/commit.js';
import type { LoadedImage } from '../images/resolve.js';
import type { Step } from '../dockerfile/types.js';
import type { BindMount } from '../runtime/runtime.js';
import { runArgv } from './pipes.js';

export interface RunDeps extends CommitDeps { containers: ContainerManager }

export interface RunStepOptions {
  config: ContainerConfig;
  /** RUN --mount: host paths bound into the container (mounts.ts), never part of the layer. */
  mounts?: BindMount[];
  /** Called with the container's writable tree after a successful run, before the commit. */
  beforeCommit?: (upperdir: string) => Promise<void>;
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  onOutput: (stream: 'stdout' | 'stderr', data: string) => void;
  fail: (why: string) => SbxError;
}

/** Returns the committed image's manifest digest and image ID. */
export async function runStep(deps: RunDeps, parent: LoadedImage, step: Extract<Step, { kind: 'run' }>, o: RunStepOptions) {
  const m = deps.containers;
  const { id } = await m.create({
    image: parent.configDigest,
    entrypoint: [],
    cmd: runArgv(step, o.fail),
    env: step.env,
    ...(step.workdir ? { workdir: step.workdir } : {}),
    ...(step.user ? { user: step.user } : {}),
    network: step.network === 'none' ? 'none' : 'host',
  }, o.mounts?.length ? { mounts: o.mounts } : {});
  const kill = (): void => { void m.kill(id).catch(() => undefined); };
  o.signal?.addEventListener('abort', kill, { once: true });
  try {
    // aborted while the container was being made: the listener above came too late to see it
    o.signal?.throwIfAborted();
    try {
      await m.start(id);
    } catch (e) {
      const err = SbxError.wrap(e, 'RUN');
      throw o.fail(`${err.message}`);
    }
    if (o.signal?.aborted) kill(); // aborted while starting: the kill then found it not running yet
    await relayLogs(m, id, o.onOutput);
    const w = await waitContainer(m, id);
    o.signal?.throwIfAborted();
    if (w.StatusCode !== 0) {
      throw o.fail(`process "${step.createdBy}" did not complete successfully: exit code: ${w.StatusCode}`);
    }
    const rootfs = await m.rootfs(id);
    await o.beforeCommit?.(rootfs.upperdir);
    return await commitImage(deps, { id, rootfs, image: parent, config: o.config, keepSnapshot: true }, {
      createdBy: step.createdBy,
      ...(o.sourceDateEpoch !== undefined ? { sourceDateEpoch: o.sourceDateEpoch } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } finally {
    o.signal?.removeEventListener('abort', kill);
    await m.remove(id, true).catch(() => undefined);
  }
}

/** The container's log records (channel byte, 4-byte length, payload) as text, until it exits. */
async function relayLogs(m: ContainerManager, id: string, out: RunStepOptions['onOutput']): Promise<void> {
  let buf = Buffer.alloc(0);
  for await (const chunk of containerLogs(m, id, { follow: true })) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      out(buf[0] === 2 ? 'stderr' : 'stdout', buf.subarray(5, 5 + len).toString('utf8'));
      buf = buf.subarray(5 + len);
    }
  }
}
