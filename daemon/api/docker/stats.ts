/**
 * `GET /containers/{id}/stats`: containers/stats.ts samples in docker's StatsJSON shape. docker's
 * CLI computes CPU % from the difference between cpu_stats and precpu_stats, so each answer
 * carries the sample before it: a stream sends one line per second, each with the previous
 * sample as precpu; stream=false takes two samples a second apart (docker's collection
 * interval) and one-shot=1 answers one sample at once with an empty precpu.
 */
import type { StatsSample } from '../../../protocol/index.js';
import { containerStats } from '../../containers/stats.js';
import type { Services } from '../../services.js';
import { qbool, type DockerRouter } from './http.js';

const INTERVAL_MS = 1000;
const ZERO_TIME = '0001-01-01T00:00:00Z';
const NO_BLKIO = Object.fromEntries(['io_serviced_recursive', 'io_queue_recursive', 'io_service_time_recursive', 'io_wait_time_recursive',
  'io_merged_recursive', 'io_time_recursive', 'sectors_recursive'].map((k) => [k, null]));

export function registerDockerStats(r: DockerRouter, s: Services): void {
  r.on('GET', '/containers/:id/stats', async ({ params, query, res, signal }) => {
    const id = s.containers.get(params.id!).config.id;
    const sample = async (): Promise<{ at: string; v: StatsSample }> => ({ at: new Date().toISOString(), v: await containerStats(s.containers, id) });
    const stream = query.get('stream') === null || qbool(query, 'stream');
    if (!stream) {
      const first = await sample();
      if (qbool(query, 'one-shot') || !first.v.running) return { json: statsJson(first) };
      await tick(signal);
      return { json: statsJson(await sample(), first) };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    let prev: { at: string; v: StatsSample } | undefined;
    while (!signal.aborted && !res.destroyed) {
      const cur = await sample();
      res.write(`${JSON.stringify(statsJson(cur, prev))}\n`);
      prev = cur;
      await tick(signal);
    }
    res.end();
    return 'handled';
  });
}

function tick(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, INTERVAL_MS);
    function done(): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done);
  });
}

/** docker's StatsJSON (types.StatsJSON) for a sample and the one before it. */
export function statsJson(cur: { at: string; v: StatsSample }, prev?: { at: string; v: StatsSample }): Record<string, unknown> {
  const v = cur.v;
  const cpu = (x?: StatsSample): Record<string, unknown> => ({
    cpu_usage: { total_usage: x?.cpuNs ?? 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: x?.systemNs ?? 0, online_cpus: x?.onlineCpus ?? 0,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  const io = (x: StatsSample): unknown[] => [{ major: 0, minor: 0, op: 'read', value: x.blockRead }, { major: 0, minor: 0, op: 'write', value: x.blockWrite }];
  return {
    read: v.running ? cur.at : ZERO_TIME, preread: prev?.v.running ? prev.at : ZERO_TIME,
    name: `/${v.name}`, id: v.id,
    pids_stats: v.running ? { current: v.pids } : {},
    // docker marshals every blkio list; cgroup v2 fills only the first (nil slices are null)
    blkio_stats: { io_service_bytes_recursive: v.running ? io(v) : null, ...NO_BLKIO },
    num_procs: 0, storage_stats: {},
    cpu_stats: cpu(v.running ? v : undefined),
    precpu_stats: cpu(prev?.v.running ? prev.v : undefined),
    // usage is already without the inactive page cache: no stats entry for the CLI to subtract
    memory_stats: v.running ? { usage: v.memoryUsage, stats: {}, limit: v.memoryLimit } : {},
    ...(v.running ? { networks: { eth0: { rx_bytes: v.netRx, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: v.netTx, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } } } : {}),
  };
}
