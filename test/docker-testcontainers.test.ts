/**
 * testcontainers (npm) against sbxd's socket, unchanged: a GenericContainer('busybox') with a
 * command and an exposed port starts, its mapped port answers from the host, and stop removes
 * it. Ryuk (testcontainers' reaper) needs the testcontainers/ryuk image from Docker Hub, which a
 * test may not reach: it is disabled (TESTCONTAINERS_RYUK_DISABLED=true) and the test stops the
 * container itself. The default wait strategy (listening ports) probes inside through exec.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { docker } from './_helpers/docker-cli.js';
import { privileged } from './_helpers/root.js';

interface Ctx { d: TestDaemon; sock: string }
const test = suite<Ctx>('testcontainers against sbxd', {} as Ctx);
test.before(async (ctx) => {
  if (process.getuid?.() !== 0) return;
  ctx.d = await startBusyboxDaemon();
  ctx.sock = ctx.d.daemon.services.config.socket;
  // testcontainers reads its settings from the environment once, when it first looks for a runtime
  process.env.DOCKER_HOST = `unix://${ctx.sock}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
});
test.after(async (ctx) => { await ctx.d?.close(); });

test('GenericContainer(busybox) with a command and an exposed port: started, reachable, stopped and removed', privileged<Ctx>(async ({ sock }) => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const c = await new GenericContainer('busybox')
    .withCommand(['sh', '-c', 'mkdir -p /www && echo hello-testcontainers > /www/index.html && exec httpd -f -p 8080 -h /www'])
    .withExposedPorts(8080)
    // testcontainers' own default: the host port and, inside the container through exec, the listener
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(120_000)
    .start();
  try {
    const port = c.getMappedPort(8080);
    assert.ok(port > 0, `a host port is mapped: ${port}`);
    const res = await fetch(`http://${c.getHost()}:${port}/`);
    assert.is(await res.text(), 'hello-testcontainers\n');
    const ps = await docker(sock, ['ps', '--format', '{{.Image}} {{.Status}}']);
    assert.match(ps.stdout, /^\S*busybox\S* Up/, ps.stdout);
  } finally {
    await c.stop();
  }
  const left = await docker(sock, ['ps', '-aq']);
  assert.is(left.stdout, '', 'stop removed the container');
}));

test.run();
