/**
 * The V8 flags sbxd runs with (the `sbxd` binary's shebang line carries the same list; whatever
 * starts `node dist/daemon/main.js` itself — the CLI's autostart (a copy in cli/runtime.ts), the bench — passes these).
 *
 * --max-semi-space-size=1 (MiB): V8's young generation otherwise grows to 2 × 16 MiB during
 * start-up (module loading) and is never given back; an idle daemon then holds ~16 MiB it does
 * not use (measured PSS of an idle sbxd: 45 MiB → 27 MiB). sbxd's hot paths move bytes in
 * Buffers, which live outside that space, so the more frequent scavenges cost little.
 *
 * --no-sparkplug: V8's baseline compiler turns every function that ran a few times into machine
 * code about ten times the size of its bytecode, kept for the life of the process: after 100
 * container starts that was 1.8 MiB of sbxd's heap (13.8 → 12.1 MiB live, anon PSS 21.5 → 19.6).
 * Functions that are really hot (hashing, relays, parsers) still reach TurboFan from the
 * interpreter; the rest of a daemon's code runs a few hundred times at most.
 *
 * --expose-gc: the heap settler (util/settle.ts) collects through the main context's gc() instead
 * of creating a context of its own for it (~140 kB).
 */
export const SBXD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-sparkplug', '--expose-gc'];

/**
 * The environment sbxd starts with, on top of its caller's (the shebang line carries it too).
 * MALLOC_ARENA_MAX=1: glibc gives every thread that mallocs under contention its own arena (V8's
 * compiler and GC threads, libuv's pool), each holding its freed memory and its fragments: an idle
 * sbxd's PSS was 26.3 MiB anon on average with the default (8 × cores) and 22.9 with 2 (4
 * start-ups each); with 100 idle containers 21.9 with 2 and 20.8 with 1 (2 runs each, the same as
 * 2 arenas with one V8 worker thread). Small allocations still take each thread's own tcache
 * without the lock; the API rows of the bench did not move.
 */
export const SBXD_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };
