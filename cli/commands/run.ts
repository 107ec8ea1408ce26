import { Containers, SbxError } from '../../protocol/index.js';
import { UsageError, str, strs, type Command } from '../command.js';
import { PROCESS_OPTIONS } from '../containers.js';
import { CREATE_OPTIONS, createRequest } from '../create-request.js';
import { detachKeys } from '../detach-keys.js';
import { createPulling, pullPolicy } from '../image-pull.js';
import { withCidFile } from '../run-options.js';

export const command: Command = {
  name: 'run',
  summary: 'Create and run a new container from an image',
  usage: 'sbx run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  stopAtPositional: true,
  options: {
    ...PROCESS_OPTIONS, ...CREATE_OPTIONS,
    attach: { type: 'string', short: 'a', multiple: true },
    'sig-proxy': { type: 'boolean', default: true },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin, env }) {
    const [image, ...cmd] = positionals;
    if (!image) throw new UsageError('"sbx run" requires at least 1 argument.');
    const tty = !!values.tty;
    const interactive = !!values.interactive;
    const policy = pullPolicy(str(values.pull));
    const keys = detachKeys(str(values['detach-keys']), env);
    const streams = attachStreams(strs(values.attach));
    if (streams && values.detach) throw new SbxError('invalid_argument', 'Conflicting options: -a and -d');
    if (tty && interactive && !values.detach && !stdin.isTTY) throw new UsageError('the input device is not a TTY');
    const req = await createRequest(image, cmd, values, env, stdout);

    const created = withCidFile(str(values.cidfile), () => createPulling(client, req, policy, stderr));
    if (values.detach) {
      const { id } = await created;
      await client.call(Containers.start, { id });
      stdout.write(`${id}\n`);
      return 0;
    }
    // The stream code (ws) loads while sbxd creates the container; the start goes out next to the
    // attach rather than after it: the session keeps all output from offset 0, so nothing is missed.
    const [{ id }, { attachSession, exitStatus }] = await Promise.all([created, import('../stream.js')]);
    const started = client.call(Containers.start, { id }).then(() => undefined, (err: unknown) => err);
    let startError: SbxError | undefined;
    const r = await attachSession({
      client, session: id, tty, stdin: interactive && (!streams || streams.has('stdin')), in: stdin, out: stdout, err: stderr, detachKeys: keys,
      sigProxy: values['sig-proxy'] !== false,
      ...(streams ? { show: { stdout: streams.has('stdout'), stderr: streams.has('stderr') } } : {}),
      onAttached: async () => {
        const err = await started;
        if (err !== undefined) {
          // a command that cannot run ends the session too; its exit carries the message
          if (err instanceof SbxError && (err.code === 'command_not_found' || err.code === 'cannot_execute')) return;
          startError = err instanceof SbxError ? err : SbxError.wrap(err, 'start container');
          throw startError;
        }
      },
    });
    if (startError) {
      if (values.rm) await client.call(Containers.remove, { id, force: true }).catch(() => undefined);
      throw startError;
    }
    // docker's CLI returns from `run --rm` once the container is gone; sbxd removes it just after
    // the exit it reported, so a next command could still list it: remove it here (waits for
    // sbxd's own removal; not found = already gone)
    if (values.rm && r.exit) await client.call(Containers.remove, { id }).catch(() => undefined);
    return exitStatus(r, stderr);
  },
};

/** docker's -a/--attach: STDIN, STDOUT, STDERR in any case; undefined when not given (all of them). */
function attachStreams(values: string[]): Set<string> | undefined {
  if (values.length === 0) return undefined;
  return new Set(values.map((v) => {
    const s = v.toLowerCase();
    if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr') {
      throw new SbxError('invalid_argument', `invalid argument "${v}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
    }
    return s;
  }));
}
