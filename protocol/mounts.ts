/**
 * Mounts a container asks for: docker's `-v` strings (HostConfig.Binds) and `--mount` values
 * (HostConfig.Mounts), parsed the same way by the CLI (flag errors before any request) and by the
 * daemon (the API's own check). Pure functions; every failure is invalid_argument naming the value.
 */
import { SbxError } from './errors.js';
import { arrayOf, bool, object, oneOf, opt, str } from './validate.js';

export type MountType = 'bind' | 'volume' | 'tmpfs';

/**
 * One mount as the daemon records it. bind: `source` is a host path (absolute); volume: `source`
 * is a volume name, or '' for an anonymous volume (named by the daemon at create); tmpfs: ''.
 */
export interface MountRequest {
  type: MountType;
  source: string;
  /** Absolute path inside the container (resolved inside its root by the runtime). */
  target: string;
  readonly: boolean;
  /** tmpfs only: checked tmpfs options (size=, mode=, uid=, gid=, nr_inodes=, exec, noexec, nosuid). */
  options?: string[];
}

export const mountRequest = object<MountRequest>(
  { type: oneOf('bind', 'volume', 'tmpfs'), source: str, target: str, readonly: bool, options: opt(arrayOf(str)) },
  'a mount {type, source, target, readonly, options?}', 'mounts');
export const mountRequests = opt(arrayOf(mountRequest));

/** docker's volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at least two characters). */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const bad = (flag: string, v: string, why: string): SbxError => new SbxError('invalid_argument', `invalid argument "${v}" for "${flag}" flag: ${why}`);

function checkTarget(flag: string, v: string, target: string): void {
  if (!target) throw bad(flag, v, 'the container path is empty');
  if (!target.startsWith('/')) throw bad(flag, v, `invalid mount path: '${target}' mount path must be absolute`);
  if (target.replace(/\/+$/, '') === '') throw bad(flag, v, 'invalid specification: destination can\'t be \'/\'');
}

/**
 * `-v SRC:DST[:MODE]` (docker's Binds): SRC absolute = a host path (created when missing, as
 * docker's -v does), else a volume name; `-v DST` alone = an anonymous volume. MODE: ro, rw.
 */
export function parseBind(v: string): MountRequest {
  const flag = '-v, --volume';
  const parts = v.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw bad(flag, v, 'invalid volume specification (want SOURCE:TARGET[:ro|rw], no empty parts)');
  if (parts.length === 1) {
    checkTarget(flag, v, parts[0]!);
    return { type: 'volume', source: '', target: parts[0]!, readonly: false };
  }
  const [src, target, mode] = parts as [string, string, string | undefined];
  checkTarget(flag, v, target);
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw bad(flag, v, `invalid mode: ${mode}`);
  const readonly = mode === 'ro';
  if (src.startsWith('/')) return { type: 'bind', source: src, target, readonly };
  if (src.startsWith('.') || src.includes('/')) throw bad(flag, v, `"${src}" includes invalid characters for a local volume name; if you intended to pass a host directory, use absolute path`);
  if (!VOLUME_NAME_RE.test(src)) throw bad(flag, v, `"${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
  return { type: 'volume', source: src, target, readonly };
}

const TMPFS_OPTION = /^(?:size=\d+[kmgKMG%]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|nr_inodes=\d+[kmgKMG]?|exec|noexec|nosuid)$/;

/** Checked tmpfs options (ro/rw are not among them: they are `readonly`). @throws invalid_argument */
export function checkTmpfsOptions(flag: string, v: string, opts: string[]): string[] {
  for (const o of opts) if (!TMPFS_OPTION.test(o)) throw bad(flag, v, `invalid tmpfs option "${o}" (sbx takes size=, mode=, uid=, gid=, nr_inodes=, exec, noexec, nosuid, ro, rw)`);
  return opts;
}

/** `--tmpfs /path[:opts]`, docker's comma-separated mount options. */
export function parseTmpfs(v: string): MountRequest {
  const flag = '--tmpfs';
  const i = v.indexOf(':');
  const target = i < 0 ? v : v.slice(0, i);
  checkTarget(flag, v, target);
  const opts = i < 0 ? [] : v.slice(i + 1).split(',');
  if (opts.some((o) => o === '')) throw bad(flag, v, 'empty option');
  const readonly = opts.includes('ro') && opts.lastIndexOf('ro') > opts.lastIndexOf('rw');
  return { type: 'tmpfs', source: '', target, readonly, options: checkTmpfsOptions(flag, v, opts.filter((o) => o !== 'ro' && o !== 'rw')) };
}

/** `--mount type=bind|volume|tmpfs,source=,target=[,readonly][,tmpfs-size=][,tmpfs-mode=]` (src, dst, destination, ro aliases as docker). */
export function parseMountFlag(v: string): MountRequest {
  const flag = '--mount';
  let type: string = 'volume', source = '', target = '', readonly = false;
  const options: string[] = [];
  for (const field of v.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    switch (key) {
      case 'type': type = val ?? ''; break;
      case 'source': case 'src': source = val ?? ''; break;
      case 'target': case 'dst': case 'destination': target = val ?? ''; break;
      case 'readonly': case 'ro':
        if (val === undefined || val === 'true' || val === '1') readonly = true;
        else if (val === 'false' || val === '0') readonly = false;
        else throw bad(flag, v, `invalid value for ${key}: ${val}`);
        break;
      case 'tmpfs-size':
        if (!val || !/^\d+[kmgKMG]?$/.test(val)) throw bad(flag, v, `invalid value for tmpfs-size: ${val ?? ''}`);
        options.push(`size=${val}`);
        break;
      case 'tmpfs-mode':
        if (!val || !/^[0-7]{3,4}$/.test(val)) throw bad(flag, v, `invalid value for tmpfs-mode: ${val ?? ''}`);
        options.push(`mode=${val}`);
        break;
      default: throw bad(flag, v, `unexpected key '${key}' in '${field}'`);
    }
  }
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw bad(flag, v, `invalid mount type "${type}" (sbx supports bind, volume and tmpfs)`);
  checkTarget(flag, v, target);
  if (options.length && type !== 'tmpfs') throw bad(flag, v, `cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (type === 'tmpfs') {
    if (source) throw bad(flag, v, 'invalid mount config for type "tmpfs": source must not be specified');
    return { type, source, target, readonly, options };
  }
  if (type === 'bind') {
    if (!source) throw bad(flag, v, 'source is required when specifying a bind mount');
    if (!source.startsWith('/')) throw bad(flag, v, `invalid mount config for type "bind": invalid mount path: '${source}' mount path must be absolute`);
  } else if (source && !VOLUME_NAME_RE.test(source)) {
    throw bad(flag, v, `"${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
  }
  return { type, source, target, readonly };
}
