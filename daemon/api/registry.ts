/** pull, push, login, logout: the registry client behind the API. */
import { join } from 'node:path';
import { Registry, SbxError, parseReference } from '../../protocol/index.js';
import { pullImage } from '../images/pull.js';
import { pushImage } from '../images/push.js';
import { parsePlatform } from '../images/transfer.js';
import { CredentialStore } from '../remotes/auth.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

function checkHost(host: string): string {
  if (!/^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$/.test(host)) {
    throw new SbxError('invalid_argument', `registry "${host}": expected HOST[:PORT]`);
  }
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export function registerRegistry(api: ApiServer, s: Services): void {
  const credentials = new CredentialStore(join(s.config.root, 'auth.json'));

  api.router.on(Registry.pull, (req, ctx) => pullImage(s, parseReference(req.reference), {
    ...(req.platform ? { platform: parsePlatform(req.platform) } : {}),
    insecure: req.insecure ?? false, signal: ctx.signal, onProgress: ctx.emit,
  }));

  api.router.on(Registry.push, (req, ctx) => pushImage(s, parseReference(req.reference), {
    insecure: req.insecure ?? false, signal: ctx.signal, onProgress: ctx.emit,
  }));

  api.router.on(Registry.login, async (req, ctx) => {
    const registry = checkHost(req.registry);
    if (!req.username) throw new SbxError('invalid_argument', `login to ${registry}: a user name is required`);
    if (!req.password) throw new SbxError('invalid_argument', `login to ${registry}: a password is required`);
    const creds = { username: req.username, password: req.password };
    await s.registry.checkLogin(registry, creds, { insecure: req.insecure ?? false, signal: ctx.signal });
    await credentials.set(registry, creds);
    return { registry };
  });

  api.router.on(Registry.logout, async (req) => {
    const registry = checkHost(req.registry);
    return { removed: await credentials.delete(registry) };
  });
}
