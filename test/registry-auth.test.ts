/** Credentials file, docker config fallback, challenge parsing, plain-HTTP rule. */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { CredentialStore, parseChallenge } from '../daemon/remotes/auth.js';
import { Transport } from '../daemon/remotes/transport.js';
import { Authenticator } from '../daemon/remotes/auth.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const s = suite<{ dir: string }>('credential store', { dir: '' });
s.before.each(async (ctx) => { ctx.dir = await tmpdir('sbx-auth-'); });
s.after.each(async (ctx) => { await rmrf(ctx.dir); });

s('login writes a 0600 file in docker config.json shape; logout removes the entry', async ({ dir }) => {
  const file = join(dir, 'auth.json');
  const store = new CredentialStore(file, { HOME: join(dir, 'home') });
  await store.set('127.0.0.1:5000', { username: 'me', password: 'p:w' });
  assert.is((await stat(file)).mode & 0o777, 0o600);
  const saved = JSON.parse(await readFile(file, 'utf8'));
  assert.is(Buffer.from(saved.auths['127.0.0.1:5000'].auth, 'base64').toString(), 'me:p:w');
  assert.equal(await store.get('127.0.0.1:5000'), { username: 'me', password: 'p:w' });
  assert.ok(await store.delete('127.0.0.1:5000'));
  assert.not.ok(await store.delete('127.0.0.1:5000'));
  assert.is(await store.get('127.0.0.1:5000'), undefined);
});

s("docker's ~/.docker/config.json auths are read as a fallback (Docker Hub under its v1 URL)", async ({ dir }) => {
  const home = join(dir, 'home');
  await mkdir(join(home, '.docker'), { recursive: true });
  await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: {
    'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hubpass').toString('base64') },
    'ghcr.io': { auth: Buffer.from('gh:tok').toString('base64') },
  } }));
  const store = new CredentialStore(join(dir, 'auth.json'), { HOME: home });
  assert.equal(await store.get('docker.io'), { username: 'hubuser', password: 'hubpass' });
  assert.equal(await store.get('ghcr.io'), { username: 'gh', password: 'tok' });
  await store.set('ghcr.io', { username: 'mine', password: 'x' });
  assert.equal(await store.get('ghcr.io'), { username: 'mine', password: 'x' }, "sbx's own file wins");
  const viaEnv = new CredentialStore(join(dir, 'none.json'), { DOCKER_CONFIG: join(home, '.docker') });
  assert.equal(await viaEnv.get('ghcr.io'), { username: 'gh', password: 'tok' });
});

s.run();

// ---

test('WWW-Authenticate challenges: Bearer with quoted commas, Basic', () => {
  assert.equal(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push"'), {
    scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull,push' },
  });
  assert.equal(parseChallenge('Basic realm="sbx-test"'), { scheme: 'basic', params: { realm: 'sbx-test' } });
  assert.is(parseChallenge(null), undefined);
});

test('plain HTTP only for loopback hosts or registries named insecure', () => {
  const auth = new Authenticator(async () => undefined);
  const cases: [string, string[], string][] = [
    ['127.0.0.1:5000', [], 'http://127.0.0.1:5000'],
    ['localhost:5000', [], 'http://localhost:5000'],
    ['[::1]:5000', [], 'http://[::1]:5000'],
    ['registry.example:5000', [], 'https://registry.example:5000'],
    ['registry.example:5000', ['registry.example:5000'], 'http://registry.example:5000'],
    ['127.0.0.2.example', [], 'https://127.0.0.2.example'],
    ['docker.io', [], 'https://registry-1.docker.io'],
  ];
  for (const [host, insecure, base] of cases) assert.is(new Transport(host, { auth, insecure }).base, base, host);
});

test.run();
