/** A suite for build tests: a fresh daemon with busybox imported (as root) and an empty context dir per test. */
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { sbx } from './cli.js';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { rmrf, tmpdir } from './tmp.js';

export interface BuildContext { d: TestDaemon; ctx: string }

export function buildSuite(name: string): Test<BuildContext> {
  const s = suite<BuildContext>(name, {} as BuildContext);
  s.before.each(async (c) => {
    c.d = await startTestDaemon();
    c.ctx = await tmpdir();
    if (process.getuid?.() !== 0) return;
    const r = await sbx(c.d.root, ['import', '--busybox', 'busybox']);
    assert.is(r.code, 0, r.stderr);
  });
  s.after.each(async (c) => {
    await c.d.close();
    await rmrf(c.ctx);
  });
  return s;
}
