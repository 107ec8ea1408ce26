/**
 * Debian's docker-compose (1.29, docker-py) against sbxd's socket: a two-service file on a user
 * network where the client reaches the web service by its name; up -d, ps, logs, down leaves no
 * container and no network behind.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker } from './_helpers/docker-cli.js';
import { run, type RunResult } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

const COMPOSE = '/usr/bin/docker-compose';

interface Ctx { d: TestDaemon; sock: string; dir: string }
const test = suite<Ctx>('docker-compose against sbxd', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
  ctx.dir = await tmpdir('sbx-compose-');
});
test.after(async (ctx) => { await ctx.d?.close(); if (ctx.dir) await rmrf(ctx.dir); });

const FILE = `version: "3.7"
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks: [front]
  client:
    image: busybox
    command: ["sh", "-c", "until wget -qO- http://web/ ; do sleep 0.2; done; exec sleep 300"]
    networks: [front]
    depends_on: [web]
networks:
  front: {}
`;

function compose(ctx: Ctx, args: string[]): Promise<RunResult> {
  return run(COMPOSE, ['-p', 'demo', ...args], { cwd: ctx.dir, env: { PATH: process.env.PATH, HOME: ctx.dir, DOCKER_HOST: `unix://${ctx.sock}` }, timeoutMs: 180000 });
}

test('docker-compose up -d, ps, the client reaches web by name, down leaves nothing', privileged<Ctx>(async (ctx) => {
  assert.ok(existsSync(COMPOSE), `${COMPOSE}: missing (setup.sh installs Debian's docker-compose)`);
  await writeFile(join(ctx.dir, 'docker-compose.yml'), FILE);
  const up = await compose(ctx, ['up', '-d']);
  assert.is(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stderr, /Creating network "demo_front"/);
  const ps = await compose(ctx, ['ps']);
  assert.is(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /demo_client_1 .* Up/);
  assert.match(ps.stdout, /demo_web_1 .* Up/);
  const label = await docker(ctx.sock, ['ps', '-q', '--filter', 'label=com.docker.compose.service=web']);
  assert.is(label.stdout.trim().length, 12, `compose's labels are kept and filterable: ${label.stdout}`);
  await eventually('the client fetched web\'s page by its service name', async () => {
    const logs = await docker(ctx.sock, ['logs', 'demo_client_1']);
    return logs.stdout.includes('hello-from-web');
  }, 60_000, 200);

  const down = await compose(ctx, ['down', '-t', '1']);
  assert.is(down.code, 0, down.stdout + down.stderr);
  assert.match(down.stderr, /Removing network demo_front/);
  assert.is((await docker(ctx.sock, ['ps', '-aq'])).stdout, '', 'no container left');
  const nets = await docker(ctx.sock, ['network', 'ls', '--format', '{{.Name}}']);
  assert.equal(nets.stdout.trim().split('\n').sort(), ['bridge', 'host', 'none'], 'no network left');
}));

test.run();
