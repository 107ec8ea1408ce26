/** Waiting on a condition instead of sleeping: tests synchronise on what they can observe. */

/**
 * Calls `probe` until it returns a value that is not undefined/false, every `everyMs`, and
 * throws naming `what` (and the last value seen) once `timeoutMs` has passed.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
