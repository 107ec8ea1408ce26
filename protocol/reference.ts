/**
 * Image references, parsed and normalised as docker does (distribution/reference):
 *   busybox                 → docker.io/library/busybox:latest
 *   me/app:1                → docker.io/me/app:1
 *   localhost:5000/app      → localhost:5000/app:latest
 *   ghcr.io/o/r@sha256:…    → ghcr.io/o/r@sha256:…
 * `familiar()` turns a normalised reference back into the short form docker prints.
 */
import { SbxError } from './errors.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface Reference {
  /** Registry host, with port if any: "docker.io", "127.0.0.1:5000". */
  registry: string;
  /** Repository path inside the registry: "library/busybox", "me/app". */
  repository: string;
  tag?: string;
  digest?: string;
}

// Grammar from distribution/reference (regexp.go), anchored.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const HOST = `(?:${DOMAIN_NAME}|${IPV6})`;
const DOMAIN_RE = new RegExp(`^${HOST}(?::[0-9]+)?$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const NAME_MAX = 255;

function bad(input: string, why: string): SbxError {
  return new SbxError('invalid_argument', `invalid reference format "${input}": ${why}`);
}

/** Parse and normalise; throws invalid_argument with the reason. */
export function parseReference(input: string): Reference {
  if (typeof input !== 'string' || input.length === 0) throw bad(String(input), 'empty reference');
  if (input !== input.trim()) throw bad(input, 'surrounding whitespace');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad(input, `malformed digest "${digest}"`);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
      throw bad(input, 'a sha256 digest is 64 lowercase hex characters');
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(input, `malformed tag "${tag}" (letters, digits, _ . -, at most 128)`);
  }
  if (rest.length === 0) throw bad(input, 'missing repository name');
  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(slash + 1);
      if (!DOMAIN_RE.test(registry)) throw bad(input, `malformed registry host "${registry}"`);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (repository !== repository.toLowerCase()) throw bad(input, 'repository name must be lowercase');
  if (!PATH_RE.test(repository)) throw bad(input, `malformed repository "${repository}"`);
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > NAME_MAX) throw bad(input, `name longer than ${NAME_MAX} characters`);
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** "docker.io/library/busybox:latest", "host:5000/a/b@sha256:…" */
export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}

/** The repository without tag or digest, in docker's short form: "busybox", "me/app", "host:5000/app". */
export function familiarName(ref: Reference): string {
  if (ref.registry === DEFAULT_REGISTRY) {
    return ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  return `${ref.registry}/${ref.repository}`;
}

/** Docker's short form with tag/digest: "busybox:latest", "me/app:1". */
export function familiarString(ref: Reference): string {
  let s = familiarName(ref);
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** A short hex id prefix or a full digest: things `sbx` accepts where docker accepts an image ID. */
export function looksLikeImageId(input: string): boolean {
  return /^(sha256:)?[a-f0-9]{4,64}$/.test(input);
}
