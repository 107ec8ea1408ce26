/**
 * docker's container verbs beside create/start/stop: restart, pause, unpause, rename, resize,
 * top, update, changes, prune. Each validates docker's query/body, makes the call /v1 makes
 * (containers/lifecycle.ts, top.ts, update.ts, prune.ts, the differ) and shapes docker's answer.
 */
import { SbxError, type UpdateRequest } from '../../../protocol/index.js';
import { pauseContainer, renameContainer, restartContainer, unpauseContainer } from '../../containers/lifecycle.js';
import { pruneContainers } from '../../containers/prune.js';
import { containerTop } from '../../containers/top.js';
import { updateContainer } from '../../containers/update.js';
import type { Services } from '../../services.js';
import { diffOf } from '../changes.js';
import { filterArgs } from './filters.js';
import { isZero } from './create.js';
import type { DockerRouter } from './http.js';
import { resizeQuery } from './streams.js';

/** docker's ChangeType: 0 modified, 1 added, 2 deleted. */
const KIND = { modify: 0, add: 1, delete: 2 } as const;
/** The update fields sbx applies; any other one with a value is refused by name. */
const UPDATE_FIELDS = new Set(['Memory', 'PidsLimit', 'NanoCpus', 'RestartPolicy']);

export function registerDockerLifecycle(r: DockerRouter, s: Services): void {
  const m = s.containers;
  r.on('POST', '/containers/:id/restart', async ({ params, query }) => {
    await restartContainer(m, params.id!, query.has('t') ? timeout(query.get('t')!) : undefined);
    return undefined;
  });
  r.on('POST', '/containers/:id/pause', async ({ params }) => { await pauseContainer(m, params.id!); return undefined; });
  r.on('POST', '/containers/:id/unpause', async ({ params }) => { await unpauseContainer(m, params.id!); return undefined; });

  r.on('POST', '/containers/:id/rename', async ({ params, query }) => {
    const name = query.get('name');
    if (!name) throw new SbxError('invalid_argument', 'rename: a new name is required (?name=)');
    await renameContainer(m, params.id!, name);
    return undefined;
  });

  r.on('POST', '/containers/:id/resize', async ({ params, query }) => {
    const c = m.get(params.id!);
    const size = resizeQuery(query);
    if (c.state.status !== 'running') throw new SbxError('failed_precondition', `Container ${c.config.id} is not running`);
    m.session(c.config.id).resize(size);
    return { status: 200 };
  });

  r.on('GET', '/containers/:id/top', async ({ params, query }) => ({ json: await containerTop(m, params.id!, query.get('ps_args') || undefined) }));

  r.on('POST', '/containers/:id/update', async ({ params, body }) => ({ json: await updateContainer(m, updateRequest(params.id!, body)) }));

  r.on('GET', '/containers/:id/changes', async ({ params }) => {
    const { changes } = await diffOf(s, { from: m.get(params.id!).config.id });
    return { json: changes.map((c) => ({ Path: c.path, Kind: KIND[c.op] })) };
  });

  r.on('POST', '/containers/prune', async ({ query }) => {
    const res = await pruneContainers(m, s.differ, filterArgs(query.get('filters')));
    return { json: { ContainersDeleted: res.deleted, SpaceReclaimed: res.reclaimed } };
  });
}

function timeout(t: string): number {
  const n = Number(t);
  if (!Number.isInteger(n) || n < -1) throw new SbxError('invalid_argument', `invalid timeout ${JSON.stringify(t)}: expected whole seconds`);
  return n < 0 ? 2 ** 31 - 1 : n; // docker: -1 waits for the exit without a kill
}

/** docker's UpdateConfig (the CLI sends every field, unset ones at zero) → sbx's update. */
function updateRequest(id: string, body: Record<string, unknown>): UpdateRequest {
  for (const [k, v] of Object.entries(body)) {
    if (!UPDATE_FIELDS.has(k) && !isZero(v) && !(k === 'MemorySwap' && v === -1)) {
      throw new SbxError('invalid_argument', `update container: ${k} is not supported by sbx`, { detail: { field: k, expected: 'absent or zero' } });
    }
  }
  const req: UpdateRequest = { id };
  const num = (k: string): number | undefined => {
    const v = body[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new SbxError('invalid_argument', `update container: ${k} must be an integer`);
    return v;
  };
  // 0 is "not given" in docker's update body (the CLI sends it for every flag left out)
  const memory = num('Memory');
  if (memory) req.memory = memory;
  const pids = num('PidsLimit');
  if (pids) req.pidsLimit = pids;
  const cpus = num('NanoCpus');
  if (cpus) req.nanoCpus = cpus;
  const rp = body.RestartPolicy as { Name?: unknown; MaximumRetryCount?: unknown } | null | undefined;
  if (rp && typeof rp.Name === 'string' && rp.Name !== '') {
    req.restartPolicy = { Name: rp.Name, ...(typeof rp.MaximumRetryCount === 'number' ? { MaximumRetryCount: rp.MaximumRetryCount } : {}) };
  }
  return req;
}
