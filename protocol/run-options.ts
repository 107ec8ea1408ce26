/**
 * The create request's run options beyond the basics (issue 12, "run flags"), as one group:
 * CreateContainerRequest extends RunOptions and its schema spreads runOptionFields; inspect's
 * Config and HostConfig gain the fields below. docker's names, values and defaults throughout.
 */
import { arrayOf, bool, int, opt, str, type Fields } from './validate.js';

export interface RunOptions {
  /**
   * --label / --label-file: KEY=VALUE (a bare KEY has the value ""); later ones win. Shown in
   * inspect's Config.Labels over the image's own labels, as docker merges them.
   */
  labels?: string[];
  /** --stop-signal: what `stop` sends first (a name or number); default the image's STOPSIGNAL, else SIGTERM. */
  stopSignal?: string;
  /** --stop-timeout: seconds `stop` (and restart) waits before SIGKILL when no -t is given; -1 waits for ever; default 10. */
  stopTimeout?: number;
  /** --read-only: the root file system read-only; /dev, /dev/shm, /proc, the /etc files, volumes and tmpfs stay writable. */
  readonlyRootfs?: boolean;
  /** --shm-size: bytes of /dev/shm (default 64 MiB). */
  shmSize?: number;
  /** --group-add: supplementary groups of every process (GIDs, or names from the image's /etc/group). */
  groupAdd?: string[];
  /** --platform: os/arch[/variant]; sbx runs the host's platform only, anything else is refused. */
  platform?: string;
  /** --ulimit NAME=SOFT[:HARD] (docker's names: nofile, nproc, core, ...; -1 unlimited), within the daemon's own hard limits. */
  ulimits?: string[];
}

export const runOptionFields: Fields<RunOptions> = {
  labels: opt(arrayOf(str)),
  stopSignal: opt(str),
  stopTimeout: opt(int),
  readonlyRootfs: opt(bool),
  shmSize: opt(int),
  groupAdd: opt(arrayOf(str)),
  platform: opt(str),
  ulimits: opt(arrayOf(str)),
};

/** What inspect's Config shows of RunOptions (docker's omitempty fields are absent when unset). */
export interface RunConfigInspect {
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

/** What inspect's HostConfig shows of RunOptions. */
export interface RunHostConfigInspect {
  ReadonlyRootfs: boolean;
  /** Bytes; docker's default 67108864. */
  ShmSize: number;
  /** --group-add as given; null when none (docker's). */
  GroupAdd: string[] | null;
  /** null when none (docker's). */
  Ulimits: { Name: string; Soft: number; Hard: number }[] | null;
}
