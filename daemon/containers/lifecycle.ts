/**
 * restart, rename, pause and unpause over the manager's public surface (its locks, its runtime,
 * the records): docker's rules and messages, written in protocol/lifecycle.ts.
 */
import { SbxError, type WaitResult } from '../../protocol/index.js';
import type { ContainerManager } from './manager.js';
import { NAME_RE } from './names.js';
import { writeConfig, writeState, type ContainerStateRecord } from './records.js';

/** docker's wait: the exit code once the main process has exited (now, when it has already). */
export async function waitContainer(m: ContainerManager, ref: string): Promise<WaitResult> {
  const c = m.get(ref);
  // an exit still being recorded (its journal's last rescan, the restart decision) is waited for
  const st = c.state.status === 'exited' && !c.recording ? c.state : await new Promise<ContainerStateRecord>((r) => c.exited.push(r));
  const res: WaitResult = { StatusCode: st.exitCode };
  if (st.error) res.Error = { Message: st.error };
  return res;
}

/** stop, then start once the exit is recorded (its cgroups gone): a new StartedAt, the same id and name. */
export async function restartContainer(m: ContainerManager, ref: string, timeout?: number): Promise<void> {
  const c = m.get(ref);
  if (c.state.status === 'running') {
    const recorded = new Promise<unknown>((r) => c.exited.push(r));
    await m.stop(c.config.id, timeout);
    await recorded;
  }
  await m.start(c.config.id);
  m.announce(c, 'restart');
}

export async function pauseContainer(m: ContainerManager, ref: string): Promise<void> {
  const c = m.get(ref);
  await m.locked(c.config.id, async () => {
    if (c.state.status !== 'running') throw new SbxError('failed_precondition', `Container ${c.config.id} is not running`);
    if (c.state.paused) throw new SbxError('failed_precondition', `Container ${c.config.id} is already paused`);
    await m.runtime.freeze(c.config.id);
    c.state.paused = true;
    await writeState(c.dir, c.state);
  });
  m.announce(c, 'pause');
}

export async function unpauseContainer(m: ContainerManager, ref: string): Promise<void> {
  const c = m.get(ref);
  await m.locked(c.config.id, async () => {
    if (c.state.status !== 'running' || !c.state.paused) throw new SbxError('failed_precondition', `Container ${c.config.id} is not paused`);
    await m.runtime.thaw(c.config.id);
    c.state.paused = false;
    await writeState(c.dir, c.state);
  });
  m.announce(c, 'unpause');
}

/** The old name is free once this resolves; the new one must be (docker's Conflict message). */
export async function renameContainer(m: ContainerManager, ref: string, name: string): Promise<void> {
  const c = m.get(ref);
  const to = name.replace(/^\//, '');
  if (!NAME_RE.test(to)) throw new SbxError('invalid_argument', `rename container: invalid container name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (to === c.config.name) throw new SbxError('invalid_argument', 'Renaming a container with the same name as its current name');
  await m.locked('names', async () => {
    const other = m.ids().map((id) => m.get(id)).find((o) => o.config.name === to);
    if (other) {
      throw new SbxError('already_exists', `Conflict. The container name "/${to}" is already in use by container "${other.config.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    await writeConfig(c.dir, { ...c.config, name: to });
    const oldName = c.config.name;
    c.config.name = to;
    m.announce(c, 'rename', { oldName: `/${oldName}` });
  });
}
