/**
 * The cgroups conformance suite against both mechanisms, each where this hybrid host lets it run:
 * v1 on the host's v1 hierarchies, v2 on a private cgroup2 mount (controllers bound to v1 are not
 * offered there, so its limits are checked as refused).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { v1Cgroups } from '../daemon/runtime/cgroups-v1.js';
import { unifiedCgroups } from '../daemon/runtime/cgroups-v2.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { cgroupsSuite } from './suites/cgroups.js';

cgroupsSuite('v1', async () => ({
  cgroups: v1Cgroups,
  offers: { memory: existsSync('/sys/fs/cgroup/memory/cgroup.procs'), pids: existsSync('/sys/fs/cgroup/pids/cgroup.procs') },
  close: async () => undefined,
}));

cgroupsSuite('v2 (private cgroup2 mount)', async () => {
  const dir = await tmpdir('sbx-cg2-');
  const mnt = join(dir, 'cgroup2');
  await mkdir(mnt);
  execFileSync('mount', ['-t', 'cgroup2', 'none', mnt]);
  const offered = readFileSync(join(mnt, 'cgroup.controllers'), 'utf8').split(/\s+/);
  return {
    cgroups: unifiedCgroups(mnt),
    offers: { memory: offered.includes('memory'), pids: offered.includes('pids') },
    async close() {
      await rmdir(join(mnt, 'sbx')).catch(() => undefined);
      execFileSync('umount', [mnt]);
      await rmrf(dir);
    },
  };
});
