/**
 * untilStopped: resolves when a foreground server (sbxd, `sbx registry serve`) should shut down:
 * SIGINT, SIGTERM, or — when the compiled CLI started this Node process for `sbx daemon` — its
 * parent went away. The binary cannot exec Node in its place, so a SIGKILL of it would otherwise
 * leave this process holding the socket; SBX_PARENT_PID names the parent to watch (cli/runtime.ts).
 */
export function untilStopped(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (timer) clearInterval(timer);
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    const parent = Number(env.SBX_PARENT_PID);
    if (Number.isInteger(parent) && parent > 1) {
      // Reparented (ppid changes) once the parent is gone: Node has no prctl(PR_SET_PDEATHSIG).
      if (process.ppid !== parent) { done('parent gone'); return; }
      timer = setInterval(() => { if (process.ppid !== parent) done('parent gone'); }, 500);
      timer.unref();
    }
  });
}
