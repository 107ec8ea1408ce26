/**
 * Containers end to end through the CLIs, as a user types them: start → exit of a trivial
 * command, start → first prompt of an interactive shell under a real PTY, `exec` into a running
 * container, one keystroke's echo and bulk output through `run -it`.
 */
import { SBX_BIN, SBX_NODE_ENTRY } from '../../test/_helpers/cli.js';
import { side, type Metric, type Side } from '../harness.js';
import { image, needVerbs, type Fixtures, type PodmanWorld, type Sbxd } from '../fixtures.js';
import { ok, run, timed, unique } from '../proc.js';
import { bulkOutput, keystrokeRoundTrip, PtySession, timeToPrompt } from '../pty.js';

const BULK_BYTES = 16 * 1024 * 1024;

/** `sbx run -it --rm IMG sh` under a PTY (the page's rows compare with it too). */
export function sbxShell(d: Sbxd, img: string): PtySession {
  return new PtySession('sbx run -it', SBX_BIN, ['run', '-it', '--rm', img, 'sh'], d.env);
}

/** The same CLI under Node (`node dist/cli/main.js`): the floor reference for the compiled binary. */
function nodeShell(d: Sbxd, img: string): PtySession {
  return new PtySession('node main.js run -it', process.execPath, [SBX_NODE_ENTRY, 'run', '-it', '--rm', img, 'sh'], d.env);
}

/** The CLI with its bytes in WebSocket frames (SBX_TERMINAL=frames), as a remote (TCP) CLI has them. */
function framesShell(d: Sbxd, img: string): PtySession {
  return new PtySession('sbx run -it (frames)', SBX_BIN, ['run', '-it', '--rm', img, 'sh'], { ...d.env, SBX_TERMINAL: 'frames' });
}

function podmanShell(p: PodmanWorld): PtySession {
  return new PtySession('podman run -it', 'podman', ['run', '-it', '--rm', p.image, 'sh'], p.env);
}

async function sbxSide(fx: Fixtures, verbs: string[], make: (d: Sbxd, img: string) => Promise<Side>): Promise<Side | Error> {
  return side(async () => {
    needVerbs(...verbs);
    const d = await fx.sbxd();
    return make(d, image(d));
  });
}

async function podmanSide(fx: Fixtures, make: (p: PodmanWorld) => Promise<Side>): Promise<Side | Error> {
  return side(async () => make(await fx.podman()));
}

/** A prompt-ready shell session for the whole metric; closed with it. */
async function openShell(open: () => PtySession, closers: PtySession[]): Promise<PtySession> {
  const { session } = await timeToPrompt(open);
  closers.push(session);
  return session;
}

export const containerMetrics: Metric<Fixtures>[] = [
  {
    id: 'container.run.cli',
    name: 'container start → exit (CLI): `run --rm busybox true`',
    peer: '`podman run --rm`',
    unit: 'ms',
    async prepare(fx) {
      return {
        sbx: await sbxSide(fx, ['run'], async (d, img) => () => timed('sbx run', () => d.cli(['run', '--rm', img, 'true']))),
        peer: await podmanSide(fx, async (p) => () => timed('podman run', () => p.podman(['run', '--rm', p.image, 'true']))),
      };
    },
  },
  {
    // Not sbx's work: how far under podman any Node CLI can get at all (issue 3's goal is 1/4).
    id: 'container.run.floor',
    name: 'Node\'s own start, `node -e 0` (floor reference: what any Node CLI pays; the sbx binary does not run on Node)',
    peer: '`podman run --rm busybox true`',
    unit: 'ms',
    async prepare(fx) {
      return {
        sbx: () => timed('node -e 0', () => run(process.execPath, ['-e', '0'])),
        peer: await podmanSide(fx, async (p) => () => timed('podman run', () => p.podman(['run', '--rm', p.image, 'true']))),
      };
    },
  },
  {
    id: 'container.shell.cli',
    name: 'shell start → first prompt (CLI, PTY): `run -it --rm busybox sh`',
    peer: '`podman run -it --rm`',
    unit: 'ms',
    async prepare(fx) {
      const once = async (open: () => PtySession): Promise<number> => {
        const { ms, session } = await timeToPrompt(open);
        await session.close();
        return ms;
      };
      return {
        sbx: await sbxSide(fx, ['run'], async (d, img) => () => once(() => sbxShell(d, img))),
        peer: await podmanSide(fx, async (p) => () => once(() => podmanShell(p))),
      };
    },
  },
  {
    id: 'container.exec.cli',
    name: '`exec` into a running container (CLI): `exec C true`',
    peer: '`podman exec`',
    unit: 'ms',
    async prepare(fx) {
      const cleanups: (() => Promise<unknown>)[] = [];
      const sbx = await sbxSide(fx, ['run', 'exec', 'rm'], async (d, img) => {
        const name = unique('bench-exec');
        await ok('sbx run -d', d.cli(['run', '-d', '--name', name, img, 'sleep', '3600']));
        cleanups.push(() => d.cli(['rm', '-f', name]));
        return () => timed('sbx exec', () => d.cli(['exec', name, 'true']));
      });
      const peer = await podmanSide(fx, async (p) => {
        const name = unique('bench-exec');
        await ok('podman run -d', p.podman(['run', '-d', '--name', name, p.image, 'sleep', '3600']));
        cleanups.push(() => p.podman(['rm', '-f', '-t', '0', name]));
        return () => timed('podman exec', () => p.podman(['exec', name, 'true']));
      });
      return { sbx, peer, close: async () => { for (const c of cleanups) await c(); } };
    },
  },
  keystrokeMetric('container.keystroke.cli', 'keystroke echo round trip (CLI, PTY): `run -it` shell, median of 40', sbxShell, 40),
  keystrokeMetric('container.keystroke.first.cli', 'first keystrokes of a fresh CLI (PTY): `run -it` shell, median of its first 5', sbxShell, 5, true),
  keystrokeMetric('container.keystroke.frames', 'the CLI with its bytes in frames, as over TCP (SBX_TERMINAL=frames): keystroke echo, `run -it`, median of 40', framesShell, 40),
  keystrokeMetric('container.keystroke.node', 'the same CLI under Node (floor reference): keystroke echo, `node dist/cli/main.js run -it`, median of 40', nodeShell, 40),
  {
    id: 'container.bulk.cli',
    name: `bulk output through the PTY (CLI): ${BULK_BYTES / 2 ** 20} MiB from \`run -it\` shell`,
    peer: '`podman run -it`',
    unit: 'MB/s',
    runs: 3,
    async prepare(fx) {
      const sessions: PtySession[] = [];
      return {
        sbx: await sbxSide(fx, ['run'], async (d, img) => {
          const s = await openShell(() => sbxShell(d, img), sessions);
          return () => bulkOutput(s, BULK_BYTES);
        }),
        peer: await podmanSide(fx, async (p) => {
          const s = await openShell(() => podmanShell(p), sessions);
          return () => bulkOutput(s, BULK_BYTES);
        }),
        close: async () => { for (const s of sessions) await s.close(); },
      };
    },
  },
];

/**
 * One keystroke's echo in a `run -it` shell, side by side with podman: the median of `keys`
 * keystrokes, in one shell kept for the metric, or (fresh) in a new shell per sample, which
 * measures the first keystrokes a just-started CLI echoes.
 */
function keystrokeMetric(id: string, name: string, shell: (d: Sbxd, img: string) => PtySession, keys: number, fresh = false): Metric<Fixtures> {
  return {
    id, name, peer: '`podman run -it`', unit: 'µs',
    async prepare(fx) {
      const sessions: PtySession[] = [];
      const sample = (open: () => PtySession): Promise<Side> => fresh
        ? Promise.resolve(async () => {
          const s = await openShell(open, sessions);
          try { return await keystrokeRoundTrip(s, keys); } finally { await s.close(); sessions.splice(sessions.indexOf(s), 1); }
        })
        : openShell(open, sessions).then((s) => () => keystrokeRoundTrip(s, keys));
      return {
        sbx: await sbxSide(fx, ['run'], async (d, img) => sample(() => shell(d, img))),
        peer: await podmanSide(fx, async (p) => sample(() => podmanShell(p))),
        close: async () => { for (const s of sessions) await s.close(); },
      };
    },
  };
}
