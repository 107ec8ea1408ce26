/**
 * The /v1 API refuses malformed input with 400 naming the field (never 500, never a coercion):
 * bodies, query parameters and upload queries, each route against its schema in protocol/.
 */
import { request } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Changes, Commit, Containers, Images, Registry, Sessions, System, type ErrorBody, type Route,
} from '../protocol/index.js';
import { startBusyboxDaemon } from './_helpers/containers.js';
import type { TestDaemon } from './_helpers/daemon.js';
import { freePort } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';

interface Answer { status: number; body: unknown }

/** One raw HTTP request over the daemon's socket (what a hand-written client would send). */
function raw(d: TestDaemon, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request({ socketPath: d.client.socket, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (d: TestDaemon, path: string, body: unknown): Promise<Answer> => raw(d, 'POST', path, JSON.stringify(body));

function refused(a: Answer, field: string, what: string): void {
  assert.is(a.status, 400, `${what}: status (body ${JSON.stringify(a.body)})`);
  const e = a.body as ErrorBody;
  assert.is(e.code, 'invalid_argument', what);
  assert.is((e.detail as { field?: string } | undefined)?.field, field, `${what}: detail.field`);
  assert.ok(e.message.includes(field), `${what}: the message names ${field}: ${e.message}`);
}

interface Ctx { d: TestDaemon; id: string }
const api = suite<Ctx>('api: input checks', {} as Ctx);
api.before(async (ctx) => { ctx.d = await startBusyboxDaemon(); });
api.after(async (ctx) => { await ctx.d?.close(); });

const GOOD = { image: 'busybox', cmd: ['true'] };

api('create: each malformed body is 400 naming its field, and creates nothing', async ({ d }) => {
  const table: [string, Record<string, unknown>, string][] = [
    ['env as an object', { ...GOOD, env: { a: 1 } }, 'env'],
    ['cmd as a string', { image: 'busybox', cmd: 'true' }, 'cmd'],
    ['cmd with a number', { image: 'busybox', cmd: ['sleep', 1] }, 'cmd'],
    ['entrypoint as a string', { ...GOOD, entrypoint: 'sh' }, 'entrypoint'],
    ['memory as a string', { ...GOOD, memory: '64m' }, 'memory'],
    ['memory as a fraction', { ...GOOD, memory: 1.5e7 + 0.5 }, 'memory'],
    ['pidsLimit as a string', { ...GOOD, pidsLimit: '64' }, 'pidsLimit'],
    ['ports as docker text', { ...GOOD, ports: '8080:80' }, 'ports'],
    ['a port as a string', { ...GOOD, ports: [{ hostIp: '127.0.0.1', hostPort: '8080', containerPort: 80 }] }, 'ports[0].hostPort'],
    ['a port out of range', { ...GOOD, ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 70000 }] }, 'ports[0].containerPort'],
    ['a port mapping with a stray field', { ...GOOD, ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, proto: 'udp' }] }, 'ports[0].proto'],
    ['a port mapping missing its host ip', { ...GOOD, ports: [{ hostPort: 8080, containerPort: 80 }] }, 'ports[0].hostIp'],
    ['tty as "yes"', { ...GOOD, tty: 'yes' }, 'tty'],
    ['tty as "true"', { ...GOOD, tty: 'true' }, 'tty'],
    ['openStdin as 1', { ...GOOD, openStdin: 1 }, 'openStdin'],
    ['network as a number', { ...GOOD, network: 7 }, 'network'],
    ['consoleSize cols as a string', { ...GOOD, consoleSize: { cols: '80', rows: 24 } }, 'consoleSize.cols'],
    ['name as a number', { ...GOOD, name: 7 }, 'name'],
    ['an unknown field', { ...GOOD, privilegd: true }, 'privilegd'],
    ['no image', { cmd: ['true'] }, 'image'],
    ['image as null', { image: null }, 'image'],
  ];
  for (const [what, body, field] of table) refused(await post(d, '/v1/containers', body), field, what);
  const notObject = await raw(d, 'POST', '/v1/containers', '["busybox"]');
  assert.is(notObject.status, 400, 'a body that is not an object');
  const list = await raw(d, 'GET', '/v1/containers?all=1');
  assert.equal(list.body, [], 'no container was created by a refused request');
});

api('every other JSON route: a table of bad bodies, each 400 naming the field', async ({ d }) => {
  const table: [string, string, Record<string, unknown>, string][] = [
    ['exec cmd as a string', '/v1/containers/nope/exec', { cmd: 'ls' }, 'cmd'],
    ['exec tty as "yes"', '/v1/containers/nope/exec', { cmd: ['ls'], tty: 'yes' }, 'tty'],
    ['stop timeout as a string', '/v1/containers/nope/stop', { timeout: '10' }, 'timeout'],
    ['stop timeout negative', '/v1/containers/nope/stop', { timeout: -1 }, 'timeout'],
    ['kill signal as a number', '/v1/containers/nope/kill', { signal: 9 }, 'signal'],
    ['resize cols as a string', '/v1/sessions/nope/resize', { cols: '80', rows: 24 }, 'cols'],
    ['resize rows missing', '/v1/sessions/nope/resize', { cols: 80 }, 'rows'],
    ['commit changes as a string', '/v1/containers/nope/commit', { changes: 'CMD ["sh"]' }, 'changes'],
    ['commit pause as "no"', '/v1/containers/nope/commit', { pause: 'no' }, 'pause'],
    ['commit sourceDateEpoch as a string', '/v1/containers/nope/commit', { sourceDateEpoch: '0' }, 'sourceDateEpoch'],
    ['tag source as a number', '/v1/images/tag', { source: 1, target: 'x:1' }, 'source'],
    ['tag without target', '/v1/images/tag', { source: 'busybox' }, 'target'],
    ['pull reference as an array', '/v1/images/pull', { reference: ['busybox'] }, 'reference'],
    ['pull insecure as "true"', '/v1/images/pull', { reference: 'busybox', insecure: 'true' }, 'insecure'],
    ['push with an unknown field', '/v1/images/push', { reference: 'busybox', all: true }, 'all'],
    ['login without password', '/v1/auth/login', { registry: '127.0.0.1:5000', username: 'u' }, 'password'],
    ['logout registry as an object', '/v1/auth/logout', { registry: {} }, 'registry'],
    ['wait with a body field', '/v1/containers/nope/wait', { condition: 'next-exit' }, 'condition'],
  ];
  for (const [what, path, body, field] of table) refused(await post(d, path, body), field, what);
});

api('query parameters: booleans as docker reads them (1/true/0/false), anything else 400; unknown ones 400', async ({ d }) => {
  for (const v of ['1', 'true', '0', 'false']) assert.is((await raw(d, 'GET', `/v1/containers?all=${v}`)).status, 200, `all=${v}`);
  const table: [string, string, string, string][] = [
    ['all=yes', 'GET', '/v1/containers?all=yes', 'all'],
    ['all=', 'GET', '/v1/containers?all=', 'all'],
    ['force=maybe', 'DELETE', '/v1/containers/nope?force=maybe', 'force'],
    ['force=2', 'DELETE', '/v1/images/nope?force=2', 'force'],
    ['tail=ten', 'GET', '/v1/containers/nope/logs?tail=ten', 'tail'],
    ['follow=on', 'GET', '/v1/containers/nope/logs?follow=on', 'follow'],
    ['since=x', 'GET', '/v1/containers/nope/changes?since=x', 'since'],
    ['since=-1', 'GET', '/v1/containers/nope/changes?since=-1', 'since'],
    ['patch=yes', 'GET', '/v1/diff?from=a&patch=yes', 'patch'],
    ['diff without from', 'GET', '/v1/diff?to=a', 'from'],
    ['save format=zip', 'GET', '/v1/images/save?refs=busybox&format=zip', 'format'],
    ['save refs with a number', 'GET', '/v1/images/save?refs=[1]', 'refs'],
    ['an unknown parameter', 'GET', '/v1/images?dangling=true', 'dangling'],
    ['import busybox=yes', 'POST', '/v1/images/import?busybox=yes', 'busybox'],
    ['load with a parameter', 'POST', '/v1/images/load?quiet=1', 'quiet'],
  ];
  for (const [what, method, path, field] of table) refused(await raw(d, method, path), field, what);
});

api('good bodies still work: cmd "true" stays one argument, env a list, query booleans as 1/true', privileged<Ctx>(async (ctx) => {
  const { d } = ctx;
  const made = await post(d, '/v1/containers', { ...GOOD, env: ['A=1'], tty: false, memory: 64 * 1024 * 1024, ports: [{ hostIp: '127.0.0.1', hostPort: await freePort(), containerPort: 80 }], name: null });
  assert.is(made.status, 200, JSON.stringify(made.body));
  const id = (made.body as { id: string }).id;
  const seen = await raw(d, 'GET', `/v1/containers/${id}/json`);
  const cfg = (seen.body as { Config: { Cmd: string[]; Env: string[] } }).Config;
  assert.equal(cfg.Cmd, ['true']);
  assert.ok(cfg.Env.includes('A=1'), cfg.Env.join(' '));
  const listed = await raw(d, 'GET', '/v1/containers?all=true');
  assert.is((listed.body as unknown[]).length, 1);
  assert.is((await raw(d, 'DELETE', `/v1/containers/${id}?force=1`)).status, 204);
  assert.equal((await raw(d, 'GET', '/v1/containers?all=1')).body, []);
  // The CLI's own encodings (plain strings, JSON arrays) pass.
  assert.is((await raw(d, 'GET', `/v1/images?all=1&reference=busybox`)).status, 200);
  assert.is((await raw(d, 'GET', `/v1/images/save?refs=${encodeURIComponent('["busybox"]')}&format=oci`)).status, 200);
}));

api('every route in protocol/ has an input schema (so the router checks it)', () => {
  const tables = { Changes, Commit, Containers, Images, Registry, Sessions, System } as unknown as Record<string, Record<string, Route<unknown, unknown>>>;
  for (const [table, routes] of Object.entries(tables)) {
    for (const [name, r] of Object.entries(routes)) {
      if (!('method' in r)) continue; // a WebSocket channel
      assert.ok(r.input, `${table}.${name} (${r.method} ${r.path}) has no input schema: list its fields next to its request type`);
      for (const p of r.path.matchAll(/:([a-zA-Z]+)/g)) assert.ok(r.input!.fields[p[1]!], `${table}.${name}: path parameter ${p[1]} is in its schema`);
    }
  }
});

api.run();
