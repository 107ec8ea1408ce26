/** Daemon configuration: data with defaults, validated up front. Wiring happens in main.ts. */
import { isAbsolute, join } from 'node:path';

export interface Config {
  /** Everything sbx stores lives here ($SBX_ROOT, default /var/lib/sbx). */
  root: string;
  /** Unix socket the API listens on (default $SBX_ROOT/sbx.sock, mode 0660). */
  socket: string;
  /** Optional TCP listener "host:port"; requires `token`. */
  tcp?: string;
  token?: string;
  /** Snapshotter: 'auto' probes overlay and falls back to 'native'. */
  snapshotter: 'auto' | 'overlay' | 'native';
  /** Embedded registry listener "host:port", if any. */
  registry?: string;
  /** htpasswd file (bcrypt) guarding the embedded registry. */
  registryHtpasswd?: string;
  /** Registries ("host:port") the client may reach over plain HTTP besides loopback ones. */
  insecureRegistries: string[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Keep a named cgroup v1 hierarchy mounted with `favordynmods` (kernel ≥ 6.0), so moving a
   * container's first process into its cgroups skips an RCU grace period (~15 ms per start
   * here). Host-wide and left in place like a sysctl; SBX_CGROUP_FAVORDYNMODS=0 turns it off.
   */
  cgroupFavorDynmods: boolean;
}

export const DEFAULT_ROOT = '/var/lib/sbx';

export function rootFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.SBX_ROOT && env.SBX_ROOT.length > 0 ? env.SBX_ROOT : DEFAULT_ROOT;
}

export function loadConfig(env: NodeJS.ProcessEnv, overrides: Partial<Config> = {}): Config {
  const root = overrides.root ?? rootFromEnv(env);
  const config: Config = {
    root,
    socket: env.SBX_SOCKET || join(root, 'sbx.sock'),
    snapshotter: (env.SBX_SNAPSHOTTER as Config['snapshotter']) || 'auto',
    logLevel: (env.SBX_LOG_LEVEL as Config['logLevel']) || 'info',
    cgroupFavorDynmods: env.SBX_CGROUP_FAVORDYNMODS !== '0',
    insecureRegistries: (env.SBX_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    ...(env.SBX_REGISTRY_HTPASSWD ? { registryHtpasswd: env.SBX_REGISTRY_HTPASSWD } : {}),
    ...(env.SBX_TCP ? { tcp: env.SBX_TCP } : {}),
    ...(env.SBX_TOKEN ? { token: env.SBX_TOKEN } : {}),
    ...(env.SBX_REGISTRY ? { registry: env.SBX_REGISTRY } : {}),
    ...overrides,
  };
  if (!isAbsolute(config.root)) throw new TypeError(`SBX_ROOT must be an absolute path, got "${config.root}"`);
  if (!['auto', 'overlay', 'native'].includes(config.snapshotter)) {
    throw new TypeError(`SBX_SNAPSHOTTER must be auto, overlay or native, got "${config.snapshotter}"`);
  }
  if (!['debug', 'info', 'warn', 'error'].includes(config.logLevel)) throw new TypeError(`SBX_LOG_LEVEL must be debug, info, warn or error`);
  if (env.SBX_CGROUP_FAVORDYNMODS !== undefined && !['0', '1'].includes(env.SBX_CGROUP_FAVORDYNMODS)) {
    throw new TypeError(`SBX_CGROUP_FAVORDYNMODS must be 0 or 1, got "${env.SBX_CGROUP_FAVORDYNMODS}"`);
  }
  if (config.tcp && !config.token) throw new TypeError('a TCP listener (SBX_TCP) requires a bearer token (SBX_TOKEN)');
  return config;
}
