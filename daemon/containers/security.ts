/**
 * The create request's loosening fields (privileged, capAdd, capDrop, devices), checked before
 * anything is created: each bad value is an invalid_argument (HTTP 400) naming the field and the
 * value, as docker's daemon refuses them. Returns them normalized for the container's record.
 */
import { statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { SbxError, normalizeCapability, type CreateContainerRequest, type DeviceMapping } from '../../protocol/index.js';

export interface SecurityOptions { privileged: boolean; capAdd: string[]; capDrop: string[]; devices: DeviceMapping[] }

const bad = (msg: string): SbxError => new SbxError('invalid_argument', `create container: ${msg}`);

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
