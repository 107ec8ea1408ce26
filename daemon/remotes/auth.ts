/**
 * Registry credentials and the auth challenge dance.
 *
 * CredentialStore: `sbx login` writes `{auths: {HOST: {auth: base64(user:pass)}}}` (docker's
 * config.json shape) to a file of mode 0600 ($SBX_ROOT/auth.json); reads fall back to docker's
 * `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` `auths`, where Docker Hub is keyed
 * "https://index.docker.io/v1/".
 *
 * Authenticator: answers a 401's `WWW-Authenticate` challenge. `Basic` → the stored credentials;
 * `Bearer realm=…,service=…,scope=…` → a token from the realm (anonymous, or with the stored
 * credentials), cached per host and scope until it expires.
 */
import { chmod, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SbxError } from '../../protocol/index.js';
import { atomicWriteFile } from '../util/fs.js';

export interface Credentials { username: string; password: string }

interface AuthFile { auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }> }

const HUB_KEYS = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'https://index.docker.io/v1'];

function keysFor(host: string): string[] {
  if (HUB_KEYS.includes(host)) return HUB_KEYS;
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
}

function decode(entry: NonNullable<AuthFile['auths']>[string] | undefined): Credentials | undefined {
  if (!entry) return undefined;
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
  const i = plain.indexOf(':');
  return i > 0 ? { username: plain.slice(0, i), password: plain.slice(i + 1) } : undefined;
}

async function readAuthFile(path: string): Promise<AuthFile> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as AuthFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new SbxError('invalid_argument', `read credentials ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export class CredentialStore {
  constructor(private readonly file: string, private readonly env: NodeJS.ProcessEnv = process.env) {}

  private dockerConfig(): string {
    return join(this.env.DOCKER_CONFIG || join(this.env.HOME || homedir(), '.docker'), 'config.json');
  }

  async get(host: string): Promise<Credentials | undefined> {
    for (const path of [this.file, this.dockerConfig()]) {
      const f = await readAuthFile(path).catch(() => ({} as AuthFile));
      for (const k of keysFor(host)) {
        const c = decode(f.auths?.[k]);
        if (c) return c;
      }
    }
    return undefined;
  }

  async set(host: string, creds: Credentials): Promise<void> {
    const f = await readAuthFile(this.file);
    f.auths ??= {};
    f.auths[host] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
    await atomicWriteFile(this.file, JSON.stringify(f, null, 2) + '\n', 0o600);
    await chmod(this.file, 0o600);
  }

  /** @returns false when nothing was stored for `host`. */
  async delete(host: string): Promise<boolean> {
    const f = await readAuthFile(this.file);
    if (!f.auths?.[host]) return false;
    delete f.auths[host];
    await atomicWriteFile(this.file, JSON.stringify(f, null, 2) + '\n', 0o600);
    return true;
  }
}

export interface Challenge { scheme: string; params: Record<string, string> }

/** Parse `Bearer realm="https://…",service="…",scope="a,b"` (quoted values may hold commas). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

interface Token { value: string; expires: number }

/** Per-host answer to auth challenges, with a token cache keyed by scope. */
export class Authenticator {
  private readonly tokens = new Map<string, Token>();
  private readonly schemes = new Map<string, Challenge>();

  constructor(private readonly creds: (host: string) => Promise<Credentials | undefined>,
    private readonly fetchFn?: typeof fetch) {}

  /** The Authorization header to send to `host` for `scope`, if we already know how. */
  async header(host: string, scope: string): Promise<string | undefined> {
    const ch = this.schemes.get(host);
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const c = await this.creds(host);
      return c ? basicHeader(c) : undefined;
    }
    const t = this.tokens.get(`${host} ${scope}`);
    return t && t.expires > Date.now() ? `Bearer ${t.value}` : undefined;
  }

  /**
   * Learn from a 401 and obtain credentials for a retry. Returns the header to retry with, or
   * undefined when there is nothing more to try.
   */
  async challenge(host: string, scope: string, wwwAuthenticate: string | null, signal?: AbortSignal): Promise<string | undefined> {
    const ch = parseChallenge(wwwAuthenticate);
    if (!ch) return undefined;
    this.schemes.set(host, ch);
    const c = await this.creds(host);
    if (ch.scheme === 'basic') return c ? basicHeader(c) : undefined;
    if (ch.scheme !== 'bearer' || !ch.params.realm) return undefined;
    const url = new URL(ch.params.realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    const scopes = (scope || ch.params.scope || '').split(' ').filter(Boolean);
    for (const s of scopes) url.searchParams.append('scope', s);
    // Token services only: the global fetch is loaded on first use (undici costs ~40 ms to load).
    const res = await (this.fetchFn ?? fetch)(url, { headers: c ? { authorization: basicHeader(c) } : {}, signal }).catch((e: unknown) => {
      throw new SbxError('unavailable', `get a token for ${host} from ${url.host}: ${(e as Error).message}`, { cause: e });
    });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new SbxError('unauthorized', `${host}: the token service ${url.host} refused ${c ? `the credentials of ${c.username}` : 'anonymous access'} (run "sbx login ${host}")`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new SbxError('unavailable', `get a token for ${host} from ${url.host}: HTTP ${res.status}`);
    }
    const body = await res.json() as { token?: string; access_token?: string; expires_in?: number };
    const value = body.token ?? body.access_token;
    if (!value) throw new SbxError('unavailable', `get a token for ${host} from ${url.host}: the answer has no token`);
    this.tokens.set(`${host} ${scope}`, { value, expires: Date.now() + Math.max(30, (body.expires_in ?? 60) - 10) * 1000 });
    return `Bearer ${value}`;
  }
}
