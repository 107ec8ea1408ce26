/**
 * The "run options" flags of `run` and `create` (protocol/run-options.ts), as one group:
 * --env-file, --label/--label-file, --cidfile, --stop-signal, --stop-timeout, --read-only, --shm-size,
 * --group-add, --platform, --ulimit. Files are read here,
 * as docker's CLI reads them; a missing or malformed one is an error before anything is created
 * (exit 125). The daemon checks the values again (signals, label names).
 */
import { open, readFile, rm } from 'node:fs/promises';
import { SbxError, type CreateContainerRequest, type CreateContainerResponse } from '../protocol/index.js';
import { UsageError, str, strs, type Parsed } from './command.js';
import { parseBytes } from './containers.js';

export const RUN_OPTIONS = {
  'env-file': { type: 'string', multiple: true },
  label: { type: 'string', short: 'l', multiple: true },
  'label-file': { type: 'string', multiple: true },
  cidfile: { type: 'string' },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
  'read-only': { type: 'boolean' },
  'shm-size': { type: 'string' },
  'group-add': { type: 'string', multiple: true },
  platform: { type: 'string' },
  ulimit: { type: 'string', multiple: true },
} as const;

/** Add the group's fields to `req`; the env files' variables go before -e's (which win, as docker's). */
export async function applyRunOptions(req: CreateContainerRequest, values: Parsed['values'], env: NodeJS.ProcessEnv): Promise<void> {
  const fileEnv: string[] = [];
  for (const f of strs(values['env-file'])) fileEnv.push(...await readKeyValueFile(f, (k) => env[k]));
  if (fileEnv.length) req.env = [...fileEnv, ...req.env ?? []];

  const labels: string[] = [];
  for (const f of strs(values['label-file'])) labels.push(...await readKeyValueFile(f, () => undefined));
  for (const l of strs(values.label)) {
    const key = l.split('=')[0]!.trim();
    if (!key) throw new UsageError(`invalid argument "${l}" for "-l, --label" flag: invalid label '${l}': empty name`);
    if (/\s/.test(key)) throw new UsageError(`invalid argument "${l}" for "-l, --label" flag: label '${key}' contains whitespaces`);
    labels.push(l);
  }
  if (labels.length) req.labels = labels;

  const sig = str(values['stop-signal']);
  if (sig !== undefined) req.stopSignal = sig;
  const t = str(values['stop-timeout']);
  if (t !== undefined) {
    if (!/^-?\d+$/.test(t)) throw new UsageError(`invalid argument "${t}" for "--stop-timeout" flag: strconv.ParseInt: parsing "${t}": invalid syntax`);
    req.stopTimeout = Number(t);
  }
  if (values['read-only']) req.readonlyRootfs = true;
  const shm = str(values['shm-size']);
  if (shm !== undefined) req.shmSize = parseBytes(shm, '--shm-size');
  const groups = strs(values['group-add']);
  if (groups.length) req.groupAdd = groups;
  const platform = str(values.platform);
  if (platform) req.platform = platform;
  const ulimits = strs(values.ulimit);
  if (ulimits.length) req.ulimits = ulimits;
}

/**
 * docker's env/label file: one KEY=VALUE a line (the value as is), blank lines and lines starting
 * with # skipped, leading white space and a UTF-8 BOM dropped; a bare KEY takes `bare(KEY)` and is
 * left out when that is undefined.
 */
export async function readKeyValueFile(path: string, bare: (key: string) => string | undefined): Promise<string[]> {
  let buf: Buffer;
  try { buf = await readFile(path); } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new SbxError('invalid_argument', `open ${path}: ${why}`);
  }
  const out: string[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let n = 0;
  for (let at = 0; at < buf.length; n++) {
    const nl = buf.indexOf(10, at);
    const bytes = buf.subarray(at, nl < 0 ? buf.length : nl);
    at = nl < 0 ? buf.length : nl + 1;
    let raw: string;
    try { raw = utf8.decode(bytes); } catch { throw new SbxError('invalid_argument', `env file ${path} contains invalid utf8 bytes at line ${n + 1}`); }
    const line = (n === 0 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '').trimStart();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    const key = i < 0 ? line.trimEnd() : line.slice(0, i);
    if (/\s/.test(key)) throw new SbxError('invalid_argument', `poorly formatted environment: variable '${key}' contains whitespaces`);
    if (!key) throw new SbxError('invalid_argument', `poorly formatted environment: no variable name on line '${line}'`);
    if (i >= 0) { out.push(line); continue; }
    const v = bare(key);
    if (v !== undefined) out.push(`${key}=${v}`);
  }
  return out;
}

/**
 * docker's --cidfile: refused when the file exists (before anything is created); made empty now,
 * given the container's ID once it is created, removed when the create fails.
 */
export async function withCidFile(path: string | undefined, create: () => Promise<CreateContainerResponse>): Promise<CreateContainerResponse> {
  if (path === undefined) return create();
  let fh;
  try { fh = await open(path, 'wx', 0o644); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SbxError('invalid_argument', `Container ID file found, make sure the other container isn't running or delete ${path}`);
    }
    throw new SbxError('invalid_argument', `failed to create the container ID file: ${(e as Error).message}`);
  }
  try {
    const r = await create();
    await fh.writeFile(r.id);
    return r;
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  } finally { await fh.close(); }
}
