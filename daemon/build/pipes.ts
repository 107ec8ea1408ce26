/**
 * RUN <<EOF whose body starts with `#!` runs as the script /dev/pipes/EOF (buildkit). sbx's
 * containers have no bind mounts yet, so the script is put in place by /bin/sh inside the
 * container, on its /dev tmpfs (never in a layer), and exec'd there: the script sees
 * $0 = /dev/pipes/EOF as under buildkit. /dev is root's, so this needs the step to run as root.
 */
import type { Step } from '../dockerfile/types.js';

type RunStep = Extract<Step, { kind: 'run' }>;

const PUT = 'umask 022 && mkdir -p "${1%/*}" && printf %s "$2" > "$1" && chmod "$3" "$1" && shift 3 && exec "$@"';

/** The argv the container runs: step.argv, behind a writer of step.files when it has any. */
export function runArgv(step: RunStep, fail: (why: string) => Error): string[] {
  if (!step.files?.length) return step.argv;
  if (step.user !== '' && !/^(root|0)(:(root|0))?$/.test(step.user)) {
    throw fail(`RUN <<EOF with a #! script as USER ${step.user} is not supported yet (sbx puts the script in place as root)`);
  }
  let argv = step.argv;
  for (const f of [...step.files].reverse()) {
    argv = ['/bin/sh', '-c', PUT, 'sh', f.path, f.content, f.mode.toString(8), ...argv];
  }
  return argv;
}
