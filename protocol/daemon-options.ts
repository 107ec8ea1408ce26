/** sbxd's command-line flags: the contract between `sbxd` and `sbx daemon` (the CLI binary must not load daemon code to know them). */
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
