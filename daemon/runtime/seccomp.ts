/**
 * Seccomp profiles in docker's JSON format: parse and validate one (parseProfile), resolve it for
 * this host into the line format of seccomp.c (compileProfile), and have sbx-init compile that into
 * BPF with libseccomp once per profile (seccompFile), which every start then only loads. The default profile is seccomp-default.ts.
 *
 * Semantics follow docker/runc: a syscalls entry applies when its `includes` all hold and none of
 * its `excludes` does (caps against the container's capability set, arches against this
 * host's, minKernel against the running kernel); its `args` are AND-ed in one rule, unless two
 * name the same argument index, which libseccomp cannot express: then each becomes a rule of
 * its own (OR), as runc does. ERRNO without errnoRet returns EPERM.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CAPABILITIES, SbxError } from '../../protocol/index.js';
import { DEFAULT_PROFILE } from './seccomp-default.js';

export type SeccompAction = typeof ACTIONS[number];
export type SeccompOp = keyof typeof OPS;

export interface SeccompArg { index: number; value: number; valueTwo?: number; op: SeccompOp }
export interface SeccompFilter { caps?: string[]; arches?: string[]; minKernel?: string }
export interface SeccompSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}
export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] }[];
  syscalls: SeccompSyscall[];
}

const ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG'] as const;
const OPS = { SCMP_CMP_NE: 'NE', SCMP_CMP_LT: 'LT', SCMP_CMP_LE: 'LE', SCMP_CMP_EQ: 'EQ', SCMP_CMP_GE: 'GE', SCMP_CMP_GT: 'GT', SCMP_CMP_MASKED_EQ: 'MASKED_EQ' } as const;
/** docker's SCMP_ARCH_* → libseccomp's names */
const ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86', SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_ARM: 'arm', SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips', SCMP_ARCH_MIPS64: 'mips64', SCMP_ARCH_MIPS64N32: 'mips64n32', SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64', SCMP_ARCH_MIPSEL64N32: 'mipsel64n32', SCMP_ARCH_PPC: 'ppc', SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le', SCMP_ARCH_S390: 's390', SCMP_ARCH_S390X: 's390x', SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64', SCMP_ARCH_RISCV64: 'riscv64', SCMP_ARCH_LOONGARCH64: 'loongarch64',
};
/** Node's process.arch → [docker's SCMP_ARCH_*, the names docker's `includes.arches` uses] */
const NATIVE: Record<string, [string, string[]]> = {
  x64: ['SCMP_ARCH_X86_64', ['amd64']], ia32: ['SCMP_ARCH_X86', ['386', 'x86']], arm64: ['SCMP_ARCH_AARCH64', ['arm64']],
  arm: ['SCMP_ARCH_ARM', ['arm']], ppc64: ['SCMP_ARCH_PPC64LE', ['ppc64le']], s390x: ['SCMP_ARCH_S390X', ['s390x']],
  riscv64: ['SCMP_ARCH_RISCV64', ['riscv64']], loong64: ['SCMP_ARCH_LOONGARCH64', ['loong64']],
};
const TOP_KEYS = ['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'syscalls', 'flags', 'listenerPath', 'listenerMetadata'];
const CALL_KEYS = ['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes'];
const ARG_KEYS = ['index', 'value', 'valueTwo', 'op'];
const FILTER_KEYS = ['caps', 'arches', 'minKernel'];
const EPERM = 1;
const MAX_PROFILE = 1 << 20;

/** docker's default capabilities: what a container has unless --cap-add/--cap-drop change it. */
export const DEFAULT_CAP_NAMES: readonly string[] = DEFAULT_CAPABILITIES;

const bad = (where: string, what: string): SbxError => new SbxError('invalid_argument', `seccomp profile: ${where ? `${where}: ` : ''}${what}`);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;

function keys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(where, `unknown field ${JSON.stringify(k)} (docker's format has ${allowed.join(', ')} here)`);
}

function strings(v: unknown, where: string, check?: (s: string) => string | undefined): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !s)) throw bad(where, 'want an array of non-empty strings');
  for (const s of v as string[]) { const e = check?.(s); if (e) throw bad(where, e); }
  return v as string[];
}

function action(v: unknown, where: string): SeccompAction {
  if (v === 'SCMP_ACT_NOTIFY') throw bad(where, 'SCMP_ACT_NOTIFY needs a listener, which sbx does not run');
  if (!ACTIONS.includes(v as SeccompAction)) throw bad(where, `unknown action ${JSON.stringify(v)} (want one of ${ACTIONS.join(', ')})`);
  return v as SeccompAction;
}

const archCheck = (s: string): string | undefined => ARCHES[s] ? undefined : `unknown architecture ${JSON.stringify(s)} (want SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, ...)`;

function filter(v: unknown, where: string): SeccompFilter {
  if (!isObj(v)) throw bad(where, 'want an object with caps, arches or minKernel');
  keys(v, FILTER_KEYS, where);
  const f: SeccompFilter = {};
  if (v.caps !== undefined) f.caps = strings(v.caps, `${where}.caps`, (s) => /^CAP_[A-Z_]+$/.test(s) ? undefined : `${JSON.stringify(s)} is not a capability name (want CAP_SYS_ADMIN, ...)`);
  if (v.arches !== undefined) f.arches = strings(v.arches, `${where}.arches`);
  if (v.minKernel !== undefined) {
    if (typeof v.minKernel !== 'string' || !/^\d+\.\d+$/.test(v.minKernel)) throw bad(`${where}.minKernel`, `want MAJOR.MINOR, got ${JSON.stringify(v.minKernel)}`);
    f.minKernel = v.minKernel;
  }
  return f;
}

/**
 * Parse and validate a profile in docker's JSON format (text or already parsed).
 * @throws invalid_argument naming the field that is wrong and what it should be
 */
export function parseProfile(input: string | unknown): SeccompProfile {
  let raw: unknown = input;
  if (typeof input === 'string') {
    if (input.length > MAX_PROFILE) throw bad('', `larger than ${MAX_PROFILE} bytes`);
    try { raw = JSON.parse(input); } catch (e) { throw bad('', `not valid JSON: ${(e as Error).message}`); }
  }
  if (!isObj(raw)) throw bad('', 'want a JSON object with defaultAction and syscalls');
  keys(raw, TOP_KEYS, '');
  const p: SeccompProfile = { defaultAction: action(raw.defaultAction, 'defaultAction'), syscalls: [] };
  if (raw.defaultErrnoRet !== undefined) {
    if (!isUint(raw.defaultErrnoRet, 0xffff)) throw bad('defaultErrnoRet', 'want an errno number (1 is EPERM)');
    p.defaultErrnoRet = raw.defaultErrnoRet;
  }
  if (raw.architectures !== undefined) p.architectures = strings(raw.architectures, 'architectures', archCheck);
  if (raw.archMap !== undefined) {
    if (!Array.isArray(raw.archMap)) throw bad('archMap', 'want an array of {architecture, subArchitectures}');
    p.archMap = raw.archMap.map((m, i) => {
      const w = `archMap[${i}]`;
      if (!isObj(m) || typeof m.architecture !== 'string') throw bad(w, 'want {architecture, subArchitectures}');
      const e = archCheck(m.architecture);
      if (e) throw bad(`${w}.architecture`, e);
      return { architecture: m.architecture, subArchitectures: m.subArchitectures == null ? [] : strings(m.subArchitectures, `${w}.subArchitectures`, archCheck) };
    });
  }
  if (Array.isArray(raw.flags) ? raw.flags.length : raw.flags != null) throw bad('flags', 'filter flags are not supported by sbx; remove them');
  if (raw.listenerPath) throw bad('listenerPath', 'seccomp notify listeners are not supported by sbx; remove it');
  if (raw.syscalls !== undefined && raw.syscalls !== null) {
    if (!Array.isArray(raw.syscalls)) throw bad('syscalls', 'want an array of {names, action, ...}');
    p.syscalls = raw.syscalls.map((c, i) => syscall(c, `syscalls[${i}]`));
  }
  return p;
}

function syscall(c: unknown, w: string): SeccompSyscall {
  if (!isObj(c)) throw bad(w, 'want an object with names and action');
  keys(c, CALL_KEYS, w);
  let names: string[];
  if (c.names !== undefined) names = strings(c.names, `${w}.names`, (s) => /^[a-z0-9_]+$/.test(s) ? undefined : `${JSON.stringify(s)} is not a syscall name`);
  else if (typeof c.name === 'string' && /^[a-z0-9_]+$/.test(c.name)) names = [c.name];
  else throw bad(w, 'want names: an array of syscall names');
  const s: SeccompSyscall = { names, action: action(c.action, `${w}.action`) };
  if (c.errnoRet !== undefined) {
    if (!isUint(c.errnoRet, 0xffff)) throw bad(`${w}.errnoRet`, 'want an errno number (1 is EPERM)');
    s.errnoRet = c.errnoRet;
  }
  if (c.args !== undefined && c.args !== null) {
    if (!Array.isArray(c.args) || c.args.length > 6) throw bad(`${w}.args`, 'want an array of at most 6 {index, value, valueTwo, op}');
    s.args = c.args.map((a, j) => {
      const aw = `${w}.args[${j}]`;
      if (!isObj(a)) throw bad(aw, 'want {index, value, valueTwo, op}');
      keys(a, ARG_KEYS, aw);
      if (!isUint(a.index, 5)) throw bad(`${aw}.index`, 'want an argument index 0-5');
      if (!isUint(a.value)) throw bad(`${aw}.value`, 'want a non-negative integer');
      if (a.valueTwo !== undefined && !isUint(a.valueTwo)) throw bad(`${aw}.valueTwo`, 'want a non-negative integer');
      if (!(typeof a.op === 'string' && a.op in OPS)) throw bad(`${aw}.op`, `unknown operator ${JSON.stringify(a.op)} (want one of ${Object.keys(OPS).join(', ')})`);
      return { index: a.index, value: a.value, valueTwo: (a.valueTwo as number | undefined) ?? 0, op: a.op as SeccompOp };
    });
  }
  if (typeof c.comment === 'string') s.comment = c.comment;
  if (c.includes !== undefined && c.includes !== null) s.includes = filter(c.includes, `${w}.includes`);
  if (c.excludes !== undefined && c.excludes !== null) s.excludes = filter(c.excludes, `${w}.excludes`);
  return s;
}

/** libseccomp's 32-bit value of an action. */
function actionValue(a: SeccompAction, errnoRet: number | undefined): number {
  switch (a) {
    case 'SCMP_ACT_ALLOW': return 0x7fff0000;
    case 'SCMP_ACT_ERRNO': return (0x00050000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_KILL': case 'SCMP_ACT_KILL_THREAD': return 0;
    case 'SCMP_ACT_KILL_PROCESS': return 0x80000000;
    case 'SCMP_ACT_TRAP': return 0x00030000;
    case 'SCMP_ACT_TRACE': return (0x7ff00000 | ((errnoRet ?? 0) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG': return 0x7ffc0000;
  }
}

function kernelAtLeast(min: string, rel = release()): boolean {
  const [a = 0, b = 0] = rel.split(/[.-]/).map(Number);
  const [x = 0, y = 0] = min.split('.').map(Number);
  return a > x || (a === x && b >= y);
}

export interface HostFacts { arch: string; caps: string[]; kernel: string }

/** Resolve a profile for this host and container into sbx-init's line format. */
export function compileProfile(p: SeccompProfile, host: Partial<HostFacts> = {}): string {
  const arch = host.arch ?? process.arch;
  const caps = new Set(host.caps ?? DEFAULT_CAP_NAMES);
  const kernel = host.kernel ?? release();
  const [native, goArches] = NATIVE[arch] ?? ['', [arch]];
  const lines = [`default ${actionValue(p.defaultAction, p.defaultErrnoRet)}`];
  const arches = new Set<string>();
  for (const a of p.architectures ?? []) arches.add(a);
  for (const m of p.archMap ?? []) if (m.architecture === native) { arches.add(m.architecture); for (const s of m.subArchitectures) arches.add(s); }
  for (const a of arches) lines.push(`arch ${ARCHES[a]}`);
  const holds = (f: SeccompFilter | undefined, all: boolean): boolean => {
    if (!f) return all;
    const tests: boolean[] = [];
    if (f.caps?.length) tests.push(all ? f.caps.every((c) => caps.has(c)) : f.caps.some((c) => caps.has(c)));
    if (f.arches?.length) tests.push(f.arches.some((a) => goArches.includes(a)));
    if (f.minKernel) tests.push(kernelAtLeast(f.minKernel, kernel));
    return all ? tests.every(Boolean) : tests.some(Boolean);
  };
  const seen = new Set<string>();
  const defaultValue = actionValue(p.defaultAction, p.defaultErrnoRet);
  for (const c of p.syscalls) {
    if (!holds(c.includes, true) || holds(c.excludes, false)) continue;
    const act = actionValue(c.action, c.errnoRet);
    if (act === defaultValue && !c.args?.length) continue;
    const cond = (a: SeccompArg): string => `${a.index} ${OPS[a.op]} ${a.value} ${a.valueTwo ?? 0}`;
    const args = c.args ?? [];
    const split = new Set(args.map((a) => a.index)).size < args.length;
    const groups = split ? args.map((a) => [a]) : [args];
    for (const name of c.names) {
      for (const g of groups) {
        const line = ['rule', act, name, ...g.map(cond)].join(' ');
        if (!seen.has(line)) { seen.add(line); lines.push(line); }
      }
    }
  }
  return lines.join('\n') + '\n';
}

let defaultText: string | undefined;
/** hash of the line format → its compiled file, made once per host and profile (libseccomp takes ~20 ms) */
const compiling = new Map<string, Promise<string>>();

/**
 * Compiled filters, named by the hash of what they were compiled from, so daemons can share them
 * and a start only checks that the file is there (writing one per container cost ~1 ms here).
 * Root-only: whoever could write here could loosen every container's filter.
 */
export const SECCOMP_CACHE = '/run/sbx/seccomp';

function compileBpf(initBinary: string, text: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(initBinary, ['seccomp-compile', '-'], { encoding: 'buffer', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new SbxError('invalid_argument', `seccomp profile: ${stderr.toString().trim().replace(/^sbx-init: /, '') || err.message}`));
      else resolve(stdout);
    });
    child.stdin!.end(text);
  });
}

function cacheDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) {
    throw new SbxError('unavailable', `seccomp filter cache ${dir}: must be a directory owned by the daemon's user and writable by no one else; remove it and retry`);
  }
}

/**
 * The compiled filter for a container's processes, for `sbx-init --seccomp FILE`: undefined =
 * the default profile, null = none (no file).
 * @throws invalid_argument when libseccomp refuses the profile; unavailable when the cache is unsafe
 */
export async function seccompFile(profile: SeccompProfile | null | undefined, initBinary: string, caps: readonly string[] = DEFAULT_CAP_NAMES, dir = SECCOMP_CACHE): Promise<string | undefined> {
  if (profile === null) return undefined;
  // a rule gated on a capability (mount with CAP_SYS_ADMIN, ...) follows --cap-add/--cap-drop
  const usual = caps.length === DEFAULT_CAP_NAMES.length && DEFAULT_CAP_NAMES.every((c) => caps.includes(c));
  const text = profile === undefined && usual ? (defaultText ??= compileProfile(DEFAULT_PROFILE)) : compileProfile(profile ?? DEFAULT_PROFILE, { caps: [...caps] });
  // the binary's identity too: a rebuilt sbx-init (another libseccomp) compiles afresh
  const bin = statSync(initBinary);
  const file = join(dir, `${createHash('sha256').update(`${initBinary}\0${bin.size}\0${bin.mtimeMs}\0`).update(text).digest('hex')}.bpf`);
  if (existsSync(file)) return file;
  let done = compiling.get(file);
  if (!done) {
    done = (async () => {
      cacheDir(dir);
      const bpf = await compileBpf(initBinary, text);
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(tmp, bpf, { mode: 0o600 });
      renameSync(tmp, file);
      return file;
    })();
    compiling.set(file, done);
    void done.then(() => compiling.delete(file), () => compiling.delete(file));
  }
  return done;
}
