/**
 * Linux capabilities by docker's names (CAP_ prefix, upper case) and bit number, and docker's
 * rules for --cap-add/--cap-drop: names are case-insensitive with or without CAP_; "ALL" stands
 * for every capability. Pure: the CLI, the daemon and the runtime share it.
 */
import { SbxError } from './errors.js';

/** Every capability the kernel defines, at its bit number (include/uapi/linux/capability.h). */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** docker's default set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/**
 * "net_admin", "CAP_NET_ADMIN", "Net_Admin" → "CAP_NET_ADMIN"; "all" → "ALL".
 * @throws invalid_argument naming `field` and the value when the name is not a capability
 */
export function normalizeCapability(name: unknown, field: string): string {
  if (typeof name !== 'string') throw new SbxError('invalid_argument', `invalid ${field}: capability names must be strings, got ${JSON.stringify(name)}`);
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!CAPABILITIES.includes(full)) throw new SbxError('invalid_argument', `invalid ${field}: unknown capability: ${JSON.stringify(name)}`);
  return full;
}

/**
 * The capabilities a container gets, by docker's rules: ALL in capAdd gives every capability but
 * those dropped; ALL in capDrop keeps only capAdd; otherwise the defaults minus capDrop plus capAdd.
 * Names must already be normalized.
 */
export function effectiveCapabilities(capAdd: readonly string[] = [], capDrop: readonly string[] = [], privileged = false): string[] {
  if (privileged) return [...CAPABILITIES];
  let caps: string[];
  if (capAdd.includes('ALL')) caps = CAPABILITIES.filter((c) => !capDrop.includes(c));
  else if (capDrop.includes('ALL')) caps = [...capAdd];
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd];
  return CAPABILITIES.filter((c) => caps.includes(c));
}
