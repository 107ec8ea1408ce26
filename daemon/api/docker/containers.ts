/**
 * docker's container routes: json (list), create, start, stop, kill, wait, delete, inspect, logs.
 * Each calls the container manager (or the describe/logs helpers /v1 uses) and shapes docker's answer.
 */
import { parseFilters, SbxError, type ContainerSummary } from '../../../protocol/index.js';
import { commitContainer } from '../../containers/commit.js';
import { inspectContainer, listContainers } from '../../containers/describe.js';
import { waitContainer } from '../../containers/lifecycle.js';
import { describeMounts } from '../../containers/mounts.js';
import { containerLogs } from '../../containers/logs.js';
import { withSizes } from '../../containers/usage.js';
import { dockerLogTimes } from './times.js';
import type { Services } from '../../services.js';
import { createRequest } from './create.js';
import { filterArgs } from './filters.js';
import { qbool, type DockerRouter } from './http.js';
import { dockerFrames } from './frames.js';

const LIST_FILTERS = ['status', 'name', 'id', 'ancestor', 'exited', 'label'];

export function registerDockerContainers(r: DockerRouter, s: Services): void {
  const m = s.containers;
  r.on('GET', '/containers/json', async ({ query }) => {
    const args = filterArgs(query.get('filters'));
    const filters = parseFilters(args, LIST_FILTERS);
    // a status filter looks beyond running containers, as docker's; labels are matched on the records
    let rows = listContainers(m, qbool(query, 'all') || filters.has('status') || filters.has('exited'), args);
    const limit = Number(query.get('limit') ?? -1);
    if (limit > 0) rows = rows.slice(0, limit);
    // size=1 (docker ps -s, or a --format that uses .Size): SizeRw and SizeRootFs
    if (qbool(query, 'size')) rows = await withSizes(s, rows);
    return {
      json: rows.map((row) => {
        const { config } = m.get(row.id);
        // docker ps's Mounts ({{.Mounts}}, {{.LocalVolumes}}) are the container's mount points
        return { ...summary(row, config.labels), Mounts: describeMounts(config.volumes, config.binds, s.volumes).mounts };
      }),
    };
  });

  r.on('POST', '/containers/create', async ({ body, query }) => {
    const res = await m.create(createRequest(body, query.get('name')));
    return { status: 201, json: { Id: res.id, Warnings: res.warnings } };
  });

  r.on('GET', '/containers/:id/json', async ({ params }) => ({ json: await inspectContainer(m, params.id!) }));

  r.on('POST', '/containers/:id/start', async ({ params }) => {
    if (m.get(params.id!).state.status === 'running') return { status: 304 };
    await m.start(params.id!);
    return undefined;
  });

  r.on('POST', '/containers/:id/stop', async ({ params, query }) => {
    if (m.get(params.id!).state.status !== 'running') return { status: 304 };
    await m.stop(params.id!, query.has('t') ? Number(query.get('t')) : 10);
    return undefined;
  });

  r.on('POST', '/containers/:id/kill', async ({ params, query }) => {
    await m.kill(params.id!, query.get('signal') || 'SIGKILL');
    return undefined;
  });

  r.on('POST', '/containers/:id/wait', async ({ params, query, res }) => {
    const c = m.get(params.id!);
    const condition = query.get('condition') || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new SbxError('invalid_argument', `wait: invalid condition ${JSON.stringify(condition)}`);
    const id = c.config.id;
    if (condition === 'not-running' && c.state.status !== 'running') return { json: { StatusCode: c.state.exitCode ?? 0, Error: null } };
    // docker answers the headers at once and the body at the exit (`docker run` waits before it starts)
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    const w = await waitContainer(m, id);
    if (condition === 'removed') await removed(s, id);
    res.end(JSON.stringify({ StatusCode: w.StatusCode, Error: w.Error ?? null }));
    return 'handled';
  });

  r.on('DELETE', '/containers/:id', async ({ params, query }) => {
    if (qbool(query, 'link')) throw new SbxError('invalid_argument', 'remove container: link is not supported by sbx');
    await m.remove(params.id!, qbool(query, 'force'), qbool(query, 'v'));
    return undefined;
  });

  // docker commit: the container's changes as a new image; -c arrives as repeated `changes`
  r.on('POST', '/commit', async ({ query, body, signal }) => {
    const id = query.get('container');
    if (!id) throw new SbxError('invalid_argument', 'commit: a container is required');
    // dockerode also sends its query options as the body: those keys are echoes, not a config
    if (Object.entries(body).some(([k, v]) => !query.has(k) && v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v as object).length === 0))) {
      throw new SbxError('invalid_argument', 'commit: a config in the body is not supported by sbx (use changes)');
    }
    const repo = query.get('repo') ?? '';
    const tag = query.get('tag') ?? '';
    const r = await commitContainer(s, id, {
      ...(repo ? { reference: tag ? `${repo}:${tag}` : repo } : {}),
      ...(query.get('author') ? { author: query.get('author')! } : {}),
      ...(query.get('comment') ? { message: query.get('comment')! } : {}),
      ...(query.getAll('changes').filter(Boolean).length ? { changes: query.getAll('changes').filter(Boolean) } : {}),
      pause: query.get('pause') === null ? true : qbool(query, 'pause'),
      signal,
    });
    return { status: 201, json: { Id: r.id } };
  });

  r.on('GET', '/containers/:id/logs', async ({ params, query, res }) => {
    const c = m.get(params.id!);
    const stdout = qbool(query, 'stdout');
    const stderr = qbool(query, 'stderr');
    if (!stdout && !stderr) throw new SbxError('invalid_argument', 'logs: you must choose at least one stream');
    const t = query.get('tail');
    const tail = t === null || t === 'all' || t === '' ? -1 : Number(t);
    if (!Number.isInteger(tail)) throw new SbxError('invalid_argument', `logs: invalid tail ${JSON.stringify(t)}`);
    const stream = containerLogs(m, c.config.id, { follow: qbool(query, 'follow'), tail, ...dockerLogTimes(query) });
    const tty = c.config.tty;
    res.writeHead(200, { 'content-type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    res.flushHeaders();
    stream.pipe(dockerFrames({ stdout, stderr, raw: tty })).pipe(res);
    res.on('close', () => stream.destroy());
    return 'handled';
  });
}

/** A network's entry in docker's ps answer (the addresses are in inspect). */
const PS_ENDPOINT = {
  IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0,
  IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null,
};

/** One row of docker's GET /containers/json; SizeRw and SizeRootFs when the row has sizes and they are not 0 (omitempty). */
export function summary(c: ContainerSummary, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: c.imageId, Command: c.command,
    Created: Math.floor(Date.parse(c.created) / 1000), State: c.state, Status: c.status,
    Ports: (c.ports ?? []).map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol ?? 'tcp' })),
    Labels: labels, ...(c.sizeRw ? { SizeRw: c.sizeRw } : {}), ...(c.sizeRootFs ? { SizeRootFs: c.sizeRootFs } : {}), HostConfig: { NetworkMode: 'default' },
    NetworkSettings: { Networks: Object.fromEntries((c.networks ?? []).map((n) => [n, { ...PS_ENDPOINT }])) }, Mounts: [],
  };
}

/** Until the container record is gone (auto-remove runs just after the exit's waiters hear of it). */
async function removed(s: Services, id: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (s.containers.ids().includes(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
