/**
 * docker's registry routes: POST /images/create (pull), POST /images/{name}/push, POST /auth
 * (`docker login`), GET /images/search (refused: sbx does not search registries). Pull and push
 * call the same services as /v1 and stream docker's progress lines. A client's X-Registry-Auth
 * (base64 JSON {username, password} or {auth}) is used for that one request, in place of the
 * daemon's stored credentials.
 */
import { SbxError, familiarString, parseReference, type ProgressEvent, type Reference } from '../../../protocol/index.js';
import { pullImage } from '../../images/pull.js';
import { pushImage } from '../../images/push.js';
import { parsePlatform } from '../../images/transfer.js';
import { CredentialStore, RegistryClient } from '../../remotes/client.js';
import type { Credentials } from '../../remotes/auth.js';
import type { Services } from '../../services.js';
import type { DockerReq, DockerRouter } from './http.js';
import { streamJson } from './progress.js';

/** The credentials an X-Registry-Auth header carries; undefined when it carries none (`e30=`, `{}`). */
export function registryAuth(header: string | string[] | undefined): Credentials | undefined {
  if (typeof header !== 'string' || !header.trim()) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(Buffer.from(header.trim(), 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SbxError('invalid_argument', 'X-Registry-Auth: expected base64url-encoded JSON ({"username","password","serveraddress"})');
  }
  if (!v || typeof v !== 'object') throw new SbxError('invalid_argument', 'X-Registry-Auth: expected a JSON object');
  if (typeof v.username === 'string' && v.username && typeof v.password === 'string') return { username: v.username, password: v.password };
  if (typeof v.auth === 'string' && v.auth) {
    const plain = Buffer.from(v.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1) };
    throw new SbxError('invalid_argument', 'X-Registry-Auth: auth is not base64 of USER:PASSWORD');
  }
  if (v.identitytoken || v.registrytoken) throw new SbxError('invalid_argument', 'X-Registry-Auth: identity and registry tokens are not supported by sbx (log in with a user name and password)');
  return undefined;
}

/** Only the request's credentials, for every host that request reaches. */
class RequestCredentials extends CredentialStore {
  constructor(private readonly creds: Credentials) { super('/nonexistent'); }
  override async get(): Promise<Credentials | undefined> { return this.creds; }
}

/** The services with a registry client that uses the request's credentials, when it brings some. */
function withAuth(s: Services, r: DockerReq): Services {
  const creds = registryAuth(r.req.headers['x-registry-auth']);
  if (!creds) return s;
  return { ...s, registry: new RegistryClient({ credentials: new RequestCredentials(creds), insecure: s.config.insecureRegistries }) };
}

/** fromImage plus tag (a tag or a digest); no tag means latest (docker's `pull -a`, every tag, is not done). */
function pullReference(fromImage: string, tag: string | null): Reference {
  const base = parseReference(fromImage);
  if (!tag) return base;
  if (base.digest || /[:@]/.test(fromImage.slice(fromImage.lastIndexOf('/') + 1))) {
    throw new SbxError('invalid_argument', `pull: fromImage ${JSON.stringify(fromImage)} already names a tag or digest, and tag ${JSON.stringify(tag)} is given too`);
  }
  const { tag: _latest, ...repo } = base;
  return tag.startsWith('sha256:') ? { ...repo, digest: tag as NonNullable<Reference['digest']> } : { ...repo, tag };
}

export function registerDockerRegistry(r: DockerRouter, s: Services): void {
  r.on('POST', '/images/create', async (req) => {
    const { query } = req;
    if (query.get('fromSrc')) throw new SbxError('not_implemented', 'docker import (fromSrc) is not supported on the docker API by sbx (use sbx import)');
    const from = query.get('fromImage');
    if (!from) throw new SbxError('invalid_argument', 'pull: fromImage is required');
    if (query.get('repo') || query.get('changes')) throw new SbxError('invalid_argument', 'pull: repo and changes go with fromSrc (import), not fromImage');
    const ref = pullReference(from, query.get('tag'));
    const deps = withAuth(s, req);
    const platform = query.get('platform');
    return streamJson(req, async (out) => {
      // "Pulling from" waits for the manifest (the next event): a missing image is docker's error answer, not a stream
      let held: ProgressEvent | undefined;
      const onProgress = (e: ProgressEvent): void => {
        if (e.type === 'log' && !held && !out.started()) { held = e; return; }
        if (held) { out.progress(held); held = undefined; }
        out.progress(e);
      };
      const p = await pullImage(deps, ref, { ...(platform ? { platform: parsePlatform(platform) } : {}), signal: req.signal, onProgress });
      if (held) out.progress(held);
      out.write({ status: `Digest: ${p.digest}` });
      out.write({ status: `Status: ${p.changed ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarString(ref)}` });
    });
  });

  r.onImage('POST', 'push', async (name, query, req) => {
    const tag = query.get('tag');
    const ref = parseReference(tag ? `${name}:${tag}` : name);
    const deps = withAuth(s, req);
    return streamJson(req, async (out) => {
      const p = await pushImage(deps, ref, { signal: req.signal, onProgress: (e) => out.progress(e) });
      const label = ref.tag ?? 'latest';
      out.write({ status: `${label}: digest: ${p.digest} size: ${p.size}` });
      out.write({ progressDetail: {}, aux: { Tag: label, Digest: p.digest, Size: p.size } });
    });
  });

  // docker login: checks the credentials against the registry; the CLI keeps them (sbxd stores nothing)
  r.on('POST', '/auth', async ({ body, signal }) => {
    const username = typeof body.username === 'string' ? body.username : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!username || !password) throw new SbxError('invalid_argument', 'login: a user name and a password are required (identity tokens are not supported by sbx)');
    const server = typeof body.serveraddress === 'string' && body.serveraddress ? body.serveraddress : 'docker.io';
    const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    await s.registry.checkLogin(host === 'index.docker.io' ? 'docker.io' : host, { username, password }, { signal });
    return { json: { Status: 'Login Succeeded', IdentityToken: '' } };
  });

  r.on('GET', '/images/search', async () => {
    throw new SbxError('not_implemented', 'search: sbx does not search registries (browse the registry\'s web page, or list tags with skopeo list-tags)');
  });
}
