/**
 * The create request's security fields, checked before anything is created; each bad value is
 * an invalid_argument (HTTP 400) naming the field and the value, as docker's daemon refuses them.
 *
 * Loosening (validateSecurity): privileged, capAdd, capDrop, devices, returned normalized for
 * the container's record.
 *
 * docker's --security-opt (securityChoice): what sbx supports and the clear refusal of the rest.
 * - seccomp=unconfined: no filter. seccomp=PROFILE.json: the CLI reads the file and sends its JSON
 *   text in `seccompProfile` (as docker's CLI does); an API caller may also put the JSON itself
 *   after "seccomp=", as docker's API takes it. The profile is validated here (parseProfile).
 * - no-new-privileges, no-new-privileges=true: what sbx always does; =false is refused.
 * - anything else (apparmor=, label=, systempaths=, unknown keys): refused, naming the value.
 * docker's older KEY:VALUE spelling is read too.
 */
import { statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { SbxError, normalizeCapability, type CreateContainerRequest, type DeviceMapping } from '../../protocol/index.js';
import { parseProfile, type SeccompProfile } from '../runtime/seccomp.js';

const bad = (msg: string): SbxError => new SbxError('invalid_argument', `create container: ${msg}`);

export interface SecurityOptions { privileged: boolean; capAdd: string[]; capDrop: string[]; devices: DeviceMapping[] }

export function validateSecurity(req: CreateContainerRequest): SecurityOptions {
  if (req.privileged !== undefined && typeof req.privileged !== 'boolean') throw bad(`invalid privileged ${JSON.stringify(req.privileged)}: want true or false`);
  const caps = (field: 'capAdd' | 'capDrop'): string[] => {
    const v = req[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw bad(`invalid ${field} ${JSON.stringify(v)}: want a list of capability names`);
    return [...new Set(v.map((n) => {
      try { return normalizeCapability(n, field); } catch (e) { throw bad((e as Error).message); }
    }))];
  };
  const devices = req.devices ?? [];
  if (!Array.isArray(devices)) throw bad(`invalid devices ${JSON.stringify(devices)}: want a list of {pathOnHost, pathInContainer, cgroupPermissions}`);
  return { privileged: !!req.privileged, capAdd: caps('capAdd'), capDrop: caps('capDrop'), devices: devices.map(checkDevice) };
}

function checkDevice(d: DeviceMapping): DeviceMapping {
  const field = `devices entry ${JSON.stringify(d)}`;
  if (!d || typeof d !== 'object' || typeof d.pathOnHost !== 'string' || !isAbsolute(d.pathOnHost)) throw bad(`invalid ${field}: pathOnHost must be an absolute path`);
  const inside = d.pathInContainer ?? d.pathOnHost;
  if (typeof inside !== 'string' || !isAbsolute(inside) || normalize(inside) === '/') throw bad(`invalid ${field}: pathInContainer must be an absolute path below /`);
  const perms = d.cgroupPermissions ?? 'rwm';
  if (typeof perms !== 'string' || !/^(?!.*(.).*\1)[rwm]{1,3}$/.test(perms)) throw bad(`invalid ${field}: cgroupPermissions ${JSON.stringify(perms)} must be made of r, w and m`);
  let st;
  try { st = statSync(d.pathOnHost); } catch (e) {
    throw bad(`error gathering device information while adding custom device "${d.pathOnHost}": ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) throw bad(`error gathering device information while adding custom device "${d.pathOnHost}": not a device node`);
  return { pathOnHost: d.pathOnHost, pathInContainer: normalize(inside), cgroupPermissions: perms };
}

export interface SecurityChoice {
  /** As given: what inspect shows in HostConfig.SecurityOpt. */
  securityOpt?: string[];
  /** The custom profile's JSON text; null = unconfined; absent = sbx's default profile. */
  seccompProfile?: string | null;
}

const SUPPORTED = 'sbx supports seccomp=unconfined, seccomp=PROFILE.json and no-new-privileges';

/** @throws invalid_argument naming the field (securityOpt[i] or seccompProfile) and the value */
export function securityChoice(req: Pick<CreateContainerRequest, 'securityOpt' | 'seccompProfile'>): SecurityChoice {
  const opts = req.securityOpt ?? [];
  if (!Array.isArray(opts) || opts.some((o) => typeof o !== 'string')) throw bad('securityOpt: want an array of strings such as "seccomp=unconfined"');
  if (req.seccompProfile !== undefined && typeof req.seccompProfile !== 'string') throw bad('seccompProfile: want the profile\'s JSON text (a string)');
  const out: SecurityChoice = {};
  let seccomp: string | undefined;
  opts.forEach((opt, i) => {
    const field = `securityOpt[${i}] ${JSON.stringify(opt.length > 80 ? `${opt.slice(0, 80)}...` : opt)}`;
    let eq = opt.indexOf('=');
    if (eq < 0 && opt !== 'no-new-privileges') eq = opt.indexOf(':');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? undefined : opt.slice(eq + 1);
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') return;
      if (value === 'false') throw bad(`${field}: sbx always sets no-new-privileges (a setuid binary never gains privileges in a container); remove the option`);
      throw bad(`${field}: invalid value, want no-new-privileges or no-new-privileges=true`);
    }
    if (key === 'seccomp') {
      if (!value) throw bad(`${field}: want seccomp=unconfined or seccomp=PROFILE.json`);
      if (seccomp !== undefined) throw bad(`${field}: seccomp is given twice`);
      seccomp = value;
      return;
    }
    if (['apparmor', 'label', 'systempaths', 'proc-opts', 'mask', 'unmask'].includes(key)) {
      throw bad(`${field}: sbx does not support ${key}= (${SUPPORTED})`);
    }
    throw bad(`${field}: unknown security option (${SUPPORTED})`);
  });
  if (opts.length) out.securityOpt = [...opts];
  if (seccomp === 'unconfined') {
    if (req.seccompProfile !== undefined) throw bad('seccompProfile: a profile was sent with seccomp=unconfined; send one or the other');
    out.seccompProfile = null;
    return out;
  }
  const inline = seccomp?.trimStart().startsWith('{');
  const text = inline ? seccomp : req.seccompProfile;
  if (seccomp !== undefined && text === undefined) {
    throw bad(`securityOpt seccomp=${seccomp}: the daemon does not read profile files; send the profile's JSON text in seccompProfile (the sbx CLI does this) or as seccomp={...}`);
  }
  if (text !== undefined) {
    // name what the user gave: the file (CLI), the inline JSON, or the API field
    const field = seccomp === undefined ? 'seccompProfile' : `securityOpt seccomp=${inline ? `${seccomp.slice(0, 40)}...` : seccomp}`;
    try { parseProfile(text); } catch (e) { throw bad(`${field}: ${(e as Error).message}`); }
    out.seccompProfile = text;
  }
  return out;
}

/** What the runtime gets (ContainerSpec.seccomp) for a recorded choice. */
export function seccompOf(c: SecurityChoice): SeccompProfile | null | undefined {
  if (c.seccompProfile === null) return null;
  return c.seccompProfile === undefined ? undefined : parseProfile(c.seccompProfile);
}
