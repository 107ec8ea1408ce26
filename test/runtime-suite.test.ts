/** The runtime conformance suite against the Linux runtime, on a hand-made busybox root. */
import { createLinuxRuntime } from '../daemon/runtime/linux.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { busyboxRoot, runtimeSuite } from './suites/runtime.js';

runtimeSuite('linux', async () => {
  const dir = await tmpdir('sbx-rt-suite-');
  const rootfs = busyboxRoot(dir);
  return {
    rt: createLinuxRuntime(),
    rootfs: [{ type: 'bind', source: rootfs, options: ['rbind'] }],
    stateRoot: dir,
    close: () => rmrf(dir),
  };
});
