/**
 * Typed HTTP endpoints shared by the daemon router and the CLI client (vscode-languageserver
 * style: a route is a constant whose phantom `_types` carries Req/Res for the compiler).
 *
 * Transport rules, the same for every route:
 * - Path parameters (`:id`, `:ref`) are taken from the request object's field of that name and
 *   URI-encoded; GET/DELETE send the remaining fields as query parameters (strings as they are,
 *   other values JSON-encoded; booleans may also be 1/0 as docker's), POST/PUT send them as a
 *   JSON body.
 * - Every request is checked against its route's `input` schema (protocol/validate.ts) before a
 *   handler runs: a wrong type, an unknown or a missing field is 400 invalid_argument naming it.
 * - kind 'json': the response is the JSON result (204 for void).
 * - kind 'upload': the request body is a raw byte stream (a tar), all fields go in the query.
 * - kind 'download': the response body is a raw byte stream.
 * - kind 'progress': the response is NDJSON, zero or more `{type:'progress'|'log'|'build'}` events
 *   then exactly one `{type:'result', value}` or `{type:'error', error}` line. Long operations use
 *   it so a client sees work as it happens and a failure after headers are sent still arrives.
 * - kind 'upload-progress': an 'upload' request (raw body, fields in the query) answered as
 *   'progress' (POST /v1/build: the context tar in, build events out).
 * - Errors (before any byte of a stream is sent) are `ErrorBody` with status HTTP_STATUS[code].
 */
import type { BuildEvent } from './build.js';
import type { ErrorBody } from './errors.js';
import { bool, object, opt, type Fields, type ObjectType } from './validate.js';

export const API_VERSION = 'v1';
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type RouteKind = 'json' | 'upload' | 'download' | 'progress' | 'upload-progress';

export interface Route<Req, Res> {
  readonly method: Method;
  readonly path: string;
  readonly kind: RouteKind;
  /** The request's schema (protocol/validate.ts); the daemon checks every request against it. */
  readonly input?: ObjectType<Req>;
  /** Phantom: never set; carries the request and response types. */
  readonly _types?: [Req, Res];
}

/** `input`: every field of Req with its type, path parameters included (see protocol/validate.ts). */
export function route<Req, Res>(method: Method, path: string, kind: RouteKind = 'json', input?: Fields<Req>): Route<Req, Res> {
  return input ? { method, path, kind, input: object<Req>(input) } : { method, path, kind };
}

/** A typed WebSocket endpoint; params travel in the query string. */
export interface Channel<Params> {
  readonly path: string;
  readonly subprotocol: string;
  /** The params' schema (path and query), checked by the daemon like a route's input. */
  readonly input?: ObjectType<Params>;
  readonly _params?: Params;
}

export function channel<P>(path: string, subprotocol: string, input?: Fields<P>): Channel<P> {
  return input ? { path, subprotocol, input: object<P>(input) } : { path, subprotocol };
}

export type RouteReq<R> = R extends Route<infer Q, unknown> ? Q : never;
export type RouteRes<R> = R extends Route<unknown, infer S> ? S : never;

/** One line of a 'progress' response. */
export type ProgressLine<Res> =
  | { type: 'progress'; id: string; status: string; current?: number; total?: number }
  | { type: 'log'; message: string; stream?: 'stdout' | 'stderr' }
  | { type: 'build'; event: BuildEvent }
  | { type: 'result'; value: Res }
  | { type: 'error'; error: ErrorBody };

export type ProgressEvent = Extract<ProgressLine<unknown>, { type: 'progress' | 'log' | 'build' }>;

/** Fill `:name` path parameters from `req`; returns the path and the fields left over. */
export function fillPath(path: string, req: Record<string, unknown> | undefined): { path: string; rest: Record<string, unknown> } {
  const rest: Record<string, unknown> = { ...(req ?? {}) };
  const filled = path.replace(/:([a-zA-Z]+)/g, (_m, name: string) => {
    const v = rest[name];
    delete rest[name];
    if (v === undefined || v === null || v === '') throw new TypeError(`route ${path}: missing path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
  return { path: filled, rest };
}

/** Match a concrete path against a route path; returns the decoded parameters or undefined. */
export function matchPath(pattern: string, actual: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const a = actual.split('/');
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (seg.startsWith(':')) {
      try { params[seg.slice(1)] = decodeURIComponent(a[i]!); } catch { return undefined; }
    } else if (seg !== a[i]) {
      return undefined;
    }
  }
  return params;
}

/** The request of a route that takes no fields. */
export type NoInput = Record<string, never>;

// ---------------------------------------------------------------------------------------------
// System

export interface VersionInfo { version: string; api: string; node: string; pid: number; root: string; snapshotter?: string }

/**
 * One row of `sbx system df` (docker's /system/df summed): how many there are, how many are in use
 * (images: by a container; containers: running; build cache: not removable by `builder prune -a`),
 * their bytes on disk (shared blobs counted once) and the bytes removing the unused ones would free.
 */
export interface UsageRow { total: number; active: number; size: number; reclaimable: number }

/** `sbx system df`: docker's four rows; with `verbose`, the items docker's `system df -v` lists. */
export interface DiskUsage { images: UsageRow; containers: UsageRow; volumes: UsageRow; buildCache: UsageRow; items?: DiskUsageItems }

/** `system df -v`: each image (size unpacked; sharedSize: of blobs another image has too), container (its writable layer), volume. */
export interface DiskUsageItems {
  images: { id: string; repoTags: string[]; created: string; size: number; sharedSize: number; containers: number }[];
  containers: { id: string; name: string; image: string; command: string; localVolumes: number; size: number; created: string; status: string }[];
  volumes: { name: string; links: number; size: number }[];
}

/**
 * `sbx info`: docker's GET /info fields that sbx has, by docker's names (Driver: the snapshotter,
 * "overlay" or "native"; CgroupDriver: always "cgroupfs"; CgroupVersion "1" or "2"; MemTotal in
 * bytes), plus SbxRootDir (docker's DockerRootDir).
 */
export interface SystemInfo {
  Containers: number; ContainersRunning: number; ContainersPaused: number; ContainersStopped: number;
  Images: number; ServerVersion: string; Driver: string; CgroupDriver: string; CgroupVersion: string;
  KernelVersion: string; OperatingSystem: string; OSType: string; Architecture: string; NCPU: number;
  MemTotal: number; Name: string; SbxRootDir: string;
}

export const System = {
  version: route<NoInput, VersionInfo>('GET', '/v1/version', 'json', {}),
  info: route<NoInput, SystemInfo>('GET', '/v1/info', 'json', {}),
  df: route<{ verbose?: boolean }, DiskUsage>('GET', '/v1/system/df', 'json', { verbose: opt(bool) }),
} as const;
