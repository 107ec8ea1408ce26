/**
 * A local client's own terminal, opened by the daemon so that the terminal relay can tie it to a
 * TTY session (runtime/relay.ts): the CLI asks for it in its hello (`terminal`), and the daemon
 * opens /proc/PID/fd/0 and /proc/PID/fd/1 of the process at the other end of the unix socket, as
 * the kernel names it (SO_PEERCRED), never a pid the client states. Opening them anew gives the
 * daemon its own non-blocking file descriptions: the user's shell keeps its blocking ones.
 *
 * Refused (the attachment then carries the bytes in frames, as for any other client) unless both
 * are terminals (a pseudo-terminal's slave or a tty line; looked at before they are opened, so
 * no other device is ever opened) owned by the client's user, or the client is root: a client
 * cannot make the daemon read or write anything it could not itself.
 */
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import { socketPeer } from '../runtime/pty.js';

export interface ClientTerminal { input: number; output: number }

/** The terminal of the client on unix socket `socketFd`, or why not. */
export function openClientTerminal(socketFd: number | undefined): ClientTerminal | string {
  if (socketFd === undefined) return 'not a local connection';
  let peer;
  try { peer = socketPeer(socketFd); } catch (e) { return (e as Error).message; }
  if (!peer) return 'not a local connection';
  const opened: number[] = [];
  try {
    for (const n of [0, 1]) {
      const st = statSync(`/proc/${peer.pid}/fd/${n}`);
      const major = Math.floor(st.rdev / 256) & 0xfff;
      if (!st.isCharacterDevice() || !(major === 4 || (major >= 136 && major <= 143))) throw new Error(`its fd ${n} is not a terminal`);
      if (peer.uid !== 0 && st.uid !== peer.uid) throw new Error(`its fd ${n} is a terminal of another user`);
      const fd = openSync(`/proc/${peer.pid}/fd/${n}`, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
      opened.push(fd);
      if (!isatty(fd)) throw new Error(`its fd ${n} is not a terminal`);
      if (peer.uid !== 0 && fstatSync(fd).uid !== peer.uid) throw new Error(`its fd ${n} is a terminal of another user`);
    }
    return { input: opened[0]!, output: opened[1]! };
  } catch (e) {
    for (const fd of opened) { try { closeSync(fd); } catch { /* closed */ } }
    return `client terminal: ${(e as Error).message}`;
  }
}

export function closeTerminal(t: ClientTerminal): void {
  for (const fd of new Set([t.input, t.output])) { try { closeSync(fd); } catch { /* closed */ } }
}
