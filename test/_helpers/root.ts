/**
 * Privileged tests: they need root, overlayfs and namespaces. Where those are missing they are
 * skipped, except under CI=true or SBX_TEST_REQUIRE_ROOT=1, where a privileged test that cannot
 * run FAILS (CI is root: a skip there would hide a broken test).
 */
import { execFileSync } from 'node:child_process';
import * as assert from 'uvu/assert';

export const REQUIRE_ROOT = process.env.CI === 'true' || process.env.SBX_TEST_REQUIRE_ROOT === '1';

let probed: string | undefined | null = null;

/** undefined when privileged tests can run here, else the reason they cannot. */
export function privilegeProblem(): string | undefined {
  if (probed !== null) return probed;
  if (process.getuid?.() !== 0) probed = 'not running as root';
  else {
    try {
      execFileSync('unshare', ['--mount', '--pid', '--fork', 'true'], { stdio: 'ignore' });
      probed = undefined;
    } catch (e) {
      probed = `cannot create namespaces: ${(e as Error).message}`;
    }
  }
  return probed;
}

/**
 * Wrap a privileged test body: runs it when possible; otherwise skips (prints why; the suite
 * runner counts that line as skipped, not passed) or, when root is required, fails.
 */
export function privileged<C>(fn: (ctx: C) => Promise<void> | void): (ctx: C) => Promise<void> {
  return async (ctx: C) => {
    const problem = privilegeProblem();
    if (problem) {
      if (REQUIRE_ROOT) assert.unreachable(`privileged test cannot run under CI=true: ${problem}`);
      process.stdout.write(`  (skipped: ${problem})\n`);
      return;
    }
    await fn(ctx);
  };
}
