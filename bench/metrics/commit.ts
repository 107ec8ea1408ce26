/**
 * Commit: a container that wrote 1 file, 1,000 files or 100 MB becomes an image, `sbx commit` vs
 * `podman commit` (both storing the layer uncompressed in their local store). Each sample commits
 * a fresh container (made untimed: `run` without --rm, the command writes and exits) and removes
 * the container and the image afterwards (untimed).
 */
import { Commit, Containers, Images } from '../../protocol/index.js';
import { side, time, type Metric, type Side } from '../harness.js';
import { image, needVerbs, type Fixtures, type Sbxd } from '../fixtures.js';
import { ok, timed, unique } from '../proc.js';
import { needContainersApi, podmanApi } from './api.js';
import { ok2xx } from '../podman-api.js';

export interface Workload { id: string; label: string; script: string }

export const WORKLOADS: Workload[] = [
  { id: '1', label: '1 file', script: 'echo hello > /hello.txt' },
  { id: '1000', label: '1,000 files', script: 'mkdir /many && cd /many && i=0; while [ $i -lt 1000 ]; do echo $i > f$i; i=$((i+1)); done' },
  { id: '100mb', label: '100 MB', script: 'head -c 100000000 /dev/urandom > /big.bin' },
];

function cliMetric(w: Workload): Metric<Fixtures> {
  return {
    id: `commit.${w.id}.cli`,
    name: `commit ${w.label} (CLI): \`sbx commit C IMG\``,
    peer: '`podman commit`',
    unit: 'ms',
    runs: 3,
    timeoutMs: 300_000,
    async prepare(fx) {
      return {
        sbx: await side(async () => {
          needVerbs('run', 'commit', 'rm', 'rmi');
          const d = await fx.sbxd();
          const img = image(d);
          return async () => {
            const name = unique('bench-commit');
            const target = `${name}:v1`;
            try {
              await ok('sbx run', d.cli(['run', '--name', name, img, 'sh', '-c', w.script], { timeoutMs: 120_000 }));
              return await timed('sbx commit', () => d.cli(['commit', name, target], { timeoutMs: 300_000 }));
            } finally {
              await d.cli(['rm', '-f', name]);
              await d.cli(['rmi', '-f', target]);
            }
          };
        }),
        peer: await side(async () => {
          const p = await fx.podman();
          return async () => {
            const name = unique('bench-commit');
            const target = `localhost/${name}:v1`;
            try {
              await ok('podman run', p.podman(['run', '--name', name, p.image, 'sh', '-c', w.script], { timeoutMs: 120_000 }));
              return await timed('podman commit', () => p.podman(['commit', '-q', name, target], { timeoutMs: 300_000 }));
            } finally {
              await p.podman(['rm', '-f', '-t', '0', name]);
              await p.podman(['rmi', '-f', target]);
            }
          };
        }),
      };
    },
  };
}

function apiMetric(w: Workload): Metric<Fixtures> {
  return {
    id: `commit.${w.id}.api`,
    name: `commit ${w.label} (API)`,
    peer: 'podman REST API (libpod /commit)',
    unit: 'ms',
    runs: 3,
    timeoutMs: 300_000,
    async prepare(fx) {
      return {
        sbx: await side(async (): Promise<Side> => {
          const d: Sbxd = await fx.sbxd();
          await needContainersApi(d.client);
          const img = image(d);
          const c = d.client;
          return async () => {
            const { id } = await c.call(Containers.create, { image: img, cmd: ['sh', '-c', w.script] });
            const target = `${unique('bench-commit')}:v1`;
            try {
              await c.call(Containers.start, { id });
              const st = await c.call(Containers.wait, { id });
              if (st.StatusCode !== 0) throw new Error(`workload exited ${st.StatusCode}`);
              return await time(() => c.call(Commit.commit, { id, reference: target }));
            } finally {
              await c.call(Containers.remove, { id, force: true }).catch(() => undefined);
              await c.call(Images.remove, { ref: target, force: true }).catch(() => undefined);
            }
          };
        }),
        peer: await side(async () => {
          const { api, p } = await podmanApi(fx);
          return async () => {
            const { Id } = await ok2xx(api, 'POST', '/containers/create', { image: p.image, command: ['sh', '-c', w.script] });
            const name = unique('bench-commit');
            try {
              await ok2xx(api, 'POST', `/containers/${Id}/start`);
              const code = await ok2xx(api, 'POST', `/containers/${Id}/wait`);
              if (Number(code) !== 0) throw new Error(`workload exited ${code}`);
              return await time(() => ok2xx(api, 'POST', `/commit?container=${Id}&repo=localhost/${name}&tag=v1`));
            } finally {
              await api.call('DELETE', `/containers/${Id}?force=true&timeout=0`);
              await api.call('DELETE', `/images/localhost/${name}:v1?force=true`);
            }
          };
        }),
      };
    },
  };
}

export const commitMetrics: Metric<Fixtures>[] = [...WORKLOADS.map(cliMetric), ...WORKLOADS.map(apiMetric)];
