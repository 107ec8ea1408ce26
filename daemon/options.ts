/** sbxd's command-line flags; shared by `sbxd` and `sbx daemon` (kept free of heavy imports). */
export const DAEMON_OPTIONS = {
  root: { type: 'string' },
  socket: { type: 'string' },
  registry: { type: 'string' },
  'registry-htpasswd': { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  snapshotter: { type: 'string' },
  'log-level': { type: 'string' },
  ui: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  insecure: { type: 'boolean' },
} as const;
