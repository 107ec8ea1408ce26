/**
 * The V8 flags sbxd runs with (the `sbxd` binary's shebang line carries the same list; whatever
 * starts `node dist/daemon/main.js` itself — the CLI's autostart (a copy in cli/runtime.ts), the bench — passes these).
 *
 * --max-semi-space-size=1 (MiB): V8's young generation otherwise grows to 2 × 16 MiB during
 * start-up (module loading) and is never given back; an idle daemon then holds ~16 MiB it does
 * not use (measured PSS of an idle sbxd: 45 MiB → 27 MiB). sbxd's hot paths move bytes in
 * Buffers, which live outside that space, so the more frequent scavenges cost little.
 */
export const SBXD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
