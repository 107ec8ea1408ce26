/**
 * A local client's own terminal, opened by the daemon so that the terminal relay can tie it to a
 * TTY session (runtime/relay.ts): the CLI asks for it in its hello (`terminal`), and the daemon
 * opens /proc/PID/fd/0 and /proc/PID/fd/1 of the process at the other end of the unix socket, as
 * the kernel names it (SO_PEERCRED), never a pid the client states. Opening them anew gives the
 * daemon its own non-blocking file descriptions: the user's shell keeps its blocking ones.
 *
 * Refused (the attachment then carries the bytes in frames, as for any other client) unless both
 * are terminals (a pseudo-terminal's slave or a tty line) owned by the client's user, or the
 * client is root: a client cannot make the daemon read or write anything it could not itself.
 * Each fd is first taken as a path (O_PATH: nothing of the device runs) and looked at; only that
 * same file is then opened, so a client that swaps its fds meanwhile never gets another device
 * opened.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import { socketPeer } from '../runtime/pty.js';

/** The client's fds 0 and 1 opened anew, and its /proc/PID/task/PID/stat (the relay reads keys only while it runs). */
export interface ClientTerminal { input: number; output: number; client: number }

/** Linux's O_PATH (Node's fs.constants has none): a handle on the file itself, no open of the device. */
const O_PATH = 0o10000000;

/** The terminal of the client on unix socket `socketFd`, or why not. */
export function openClientTerminal(socketFd: number | undefined): ClientTerminal | string {
  if (socketFd === undefined) return 'not a local connection';
  let peer;
  try { peer = socketPeer(socketFd); } catch (e) { return (e as Error).message; }
  if (!peer) return 'not a local connection';
  const opened: number[] = [];
  let path = -1;
  try {
    // its main thread's stat: the same state (a stop stops every thread), cheaper than the whole group's
    opened.push(openSync(`/proc/${peer.pid}/task/${peer.pid}/stat`, constants.O_RDONLY));
    for (const n of [0, 1]) {
      path = openSync(`/proc/${peer.pid}/fd/${n}`, O_PATH);
      const st = fstatSync(path);
      const major = Math.floor(st.rdev / 256) & 0xfff;
      if (!st.isCharacterDevice() || !(major === 4 || (major >= 136 && major <= 143))) throw new Error(`its fd ${n} is not a terminal`);
      if (peer.uid !== 0 && st.uid !== peer.uid) throw new Error(`its fd ${n} is a terminal of another user`);
      // the file looked at, reopened: whatever the client's fd n is by now
      const fd = openSync(`/proc/self/fd/${path}`, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
      closeSync(path);
      path = -1;
      opened.push(fd);
      if (!isatty(fd)) throw new Error(`its fd ${n} is not a terminal`);
    }
    return { client: opened[0]!, input: opened[1]!, output: opened[2]! };
  } catch (e) {
    for (const fd of path >= 0 ? [path, ...opened] : opened) { try { closeSync(fd); } catch { /* closed */ } }
    return `client terminal: ${(e as Error).message}`;
  }
}

export function closeTerminal(t: ClientTerminal): void {
  for (const fd of new Set([t.input, t.output, t.client])) { try { closeSync(fd); } catch { /* closed */ } }
}
