/**
 * Runtime: runs a container's processes in their own namespaces over a prepared root file
 * system. It knows nothing about images, names or records (daemon/containers/ does that).
 *
 * Contract
 * - start() creates the container's namespaces (mount, pid, uts, ipc, and net unless
 *   network 'host'), mounts `rootfs` INSIDE the new mount namespace (a daemon crash can leave no
 *   host mount), sets up /proc, /sys (read-only), /dev (null zero full random urandom tty, own
 *   devpts + ptmx, shm; gid= of the image's tty group), /etc/hosts, /etc/resolv.conf, the hostname and loopback, pivot_roots, cuts
 *   capabilities to docker's default set, sets no_new_privs, switches to the user and execs the
 *   command as PID 1. rlimits are inherited from the daemon, so never above the host's hard
 *   limits. Memory and pids limits, and a freezer, are per-container cgroup v1 groups.
 * - Devices: /dev is a nodev tmpfs and the root is mounted nodev, so a node made with mknod
 *   anywhere in the container does not open; only the allowed host nodes (null zero full random
 *   urandom tty, the devpts ptys, `devices`) are bind-mounted in. On a cgroup v1
 *   host a devices cgroup denies everything else too (docker's allow list). `privileged` gives
 *   every capability, a /dev with every host device node, no masked /proc and /sys paths.
 * - Every path from the image or the request (working directory, /etc files, the /proc /sys /dev
 *   mount points, device targets) is resolved inside the container root after pivot_root, so a
 *   symlink or ../ in them never reaches the host.
 * - Seccomp: every process (start and exec) joins a fresh session keyring and gets the
 *   seccomp filter `seccomp` (none when privileged) right before exec.
 * - exec() runs another process in the same namespaces, root, cgroups, privilege cuts and filter.
 * - A `tty` process gets a terminal of the container's own devpts (/dev/pts/0 for PID 1, also
 *   bound on /dev/console; the next free one for an exec), owned by its user, as its controlling
 *   terminal; the daemon holds only the master (received over a console socket, pty.ts). No host
 *   pts is ever visible in the container.
 * - A Process reports exactly one Exit, after all of its output has been delivered through
 *   onData. status = code, or 128 + signal; 126/127 with `error` set when the command could
 *   not be executed / was not found (the command's own exit 127 has no `error`).
 * - When the daemon dies, the container's processes die with it (parent-death signals), and
 *   the exit status is still written to the container's state dir (recover() reads it).
 *
 * Errors: failed_precondition (exec/kill/freeze of a container that is not running),
 * unavailable (namespaces, cgroups or mounts cannot be used here).
 */
import type { CgroupStats, ResourceUpdate } from './cgroups.js';
import type { DeviceMapping, ExitInfo, Size } from '../../protocol/index.js';
import type { SeccompProfile } from './seccomp.js';

/** One mount, as daemon/snapshots produces it: type 'overlay' or 'bind', options, cwd for relative lowerdirs. */
export interface RootMount { type: string; source: string; options: string[]; cwd?: string }

/** One rlimit by docker's name (nofile, nproc, core, ...; prlimit(1)'s option names). */
export interface Ulimit { name: string; soft: number; hard: number }

export interface User { uid: number; gid: number; groups: number[] }

/** A host path bound at `target` (a container path, resolved inside the root). */
export interface BindMount { source: string; target: string; readonly: boolean }

/** A tmpfs at `target` (a container path, resolved inside the root). */
export interface TmpfsMount { target: string; flags: number; data: string }

export interface ProcessSpec {
  /** argv; args[0] is looked up in PATH from `env` when it has no slash. */
  args: string[];
  /** KEY=VALUE, exactly the process's environment. */
  env: string[];
  cwd: string;
  user: User;
  tty: boolean;
  /** Keep a stdin pipe open (-i); without it stdin is /dev/null (non-tty). */
  stdin: boolean;
  size?: Size;
}

/**
 * A container's place on a network (bridge or user network), made by daemon/networks: start()
 * creates a veth pair in the network's namespace `netns` (a path to it, never the host's), keeps
 * `hostIf` there as a port of `bridge` and moves the peer into the container as eth0 with
 * address/prefix and MAC `mac`, a default route via `gateway`, both ends with `mtu`. The pair vanishes with the
 * container's namespace, so there is nothing to undo.
 */
export interface NetAttachment { netns: string; hostIf: string; bridge: string; address: string; prefix: number; gateway: string; mtu: number; mac: string }

/** /etc/resolv.conf of the container (--dns, --dns-search, --dns-option); undefined: the host's, minus loopback resolvers. */
export interface DnsConfig { servers: string[]; search: string[]; options: string[] }

export interface ContainerSpec {
  id: string;
  /** Directory for the runtime's own files of this container (status, pid, hosts...). */
  stateDir: string;
  rootfs: RootMount[];
  hostname: string;
  /** host: the host's network namespace; none: its own with loopback only (plus `net` when set). */
  network: 'none' | 'host';
  net?: NetAttachment;
  /** Join this existing network namespace (a path; --network container:NAME) instead of a new one. */
  netnsOf?: string;
  dns?: DnsConfig;
  memory?: number;
  pidsLimit?: number;
  /** CPU quota in billionths of a CPU (--cpus × 1e9). */
  nanoCpus?: number;
  /** --cpu-shares, --cpuset-cpus, --cpuset-mems, --memory-swap (the total, -1 unlimited), --memory-reservation (cgroups.ts CgroupLimits). */
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  memorySwap?: number;
  memoryReservation?: number;
  /** Put tini in front as PID 1. */
  init: boolean;
  /** Extra lines for /etc/hosts. */
  hosts?: string[];
  /** --privileged: all capabilities, every host device, no seccomp filter, no masked paths. */
  privileged?: boolean;
  /** --read-only: the root file system read-only (/dev, /proc, the /etc files, mounts and tmpfs stay writable). */
  readonlyRootfs?: boolean;
  /** --shm-size: /dev/shm's size in bytes (default 64 MiB). */
  shmSize?: number;
  /** --ulimit: rlimits of every process (start and exec), already within the daemon's hard limits; -1 unlimited. */
  ulimits?: Ulimit[];
  /** Capabilities added to / dropped from docker's default set (normalized names or ALL; protocol/capabilities.ts). */
  capAdd?: string[];
  capDrop?: string[];
  /** Host device nodes bound into the container and allowed in its devices cgroup. */
  devices?: DeviceMapping[];
  /**
   * Host directories (or files) bound into the container after its /dev and /etc files, nodev,
   * read-only when asked; a missing target is made inside the root (the build's RUN --mount).
   */
  mounts?: BindMount[];
  /** Fresh tmpfs mounts, after `mounts` (nodev always): MS_* flags and tmpfs's data (size=, mode=...). */
  tmpfs?: TmpfsMount[];
  /**
   * The seccomp profile of every process (start and exec), in docker's JSON format, already
   * validated (seccomp.ts parseProfile): undefined = sbx's default profile (seccomp-default.ts),
   * null = no filter (--security-opt seccomp=unconfined).
   */
  seccomp?: SeccompProfile | null;
}

export type OutputName = 'stdout' | 'stderr';

/** A running process: its stdio and its end. */
export interface Process {
  /** Host pid of the process we supervise (container PID 1 for start()). */
  readonly pid: number;
  readonly tty: boolean;
  /**
   * Write to stdin: nothing when the kernel (or the pty) took every byte at once, else a promise
   * that resolves once it has. Writes are not to overlap (sessions/stdin.ts queues them).
   */
  write(data: Uint8Array): Promise<void> | void;
  /** Close stdin (non-tty); in a tty, write VEOF once. */
  closeStdin(): void;
  resize(size: Size): void;
  /** Deliver a signal (by name) to the process. */
  kill(signal: string): void;
  /** Stop reading output (the pipe or pty fills and the process blocks), and go on. */
  pause(): void;
  resume(): void;
  onData(cb: (stream: OutputName, data: Buffer) => void): void;
  /** Called once, after the last onData. */
  onExit(cb: (exit: ExitInfo) => void): void;
  /**
   * TTY processes: tie a local client's own terminal (one at a time). Its keys go to the process
   * and the output to it without passing through JavaScript; onData still sees every byte, each
   * once it is on that terminal. The process owns the two fds from here on.
   */
  tie?(t: TerminalTie): void;
  /** Let the tied terminal go (it is closed, never read again). */
  untie?(): void;
}

/** A client's terminal to tie to a TTY process (sessions/terminal.ts opens it). */
export interface TerminalTie {
  /** Read for keys, written with output: the client's own fds 0 and 1, opened anew by the daemon. */
  input: number;
  output: number;
  /** The client process's /proc/PID/stat: keys are read only while it runs; once it is gone the tie ends ('gone'). */
  client: number;
  /** docker's detach sequence (held back while typed; complete, it unties). */
  detachKeys: Uint8Array;
  /** The tie took effect: what the terminal must show before the live output (its replay). */
  replay(): Buffer;
  /** The tie ended without untie(): the detach keys were typed, or the terminal hung up or the process ended. */
  untied(why: 'escaped' | 'gone'): void;
}

/**
 * A started container: its PID 1 process. start() returns once the command was exec'd or
 * failed to be; `failed` then says why (status 125 setup, 126, 127) and the process is exiting.
 */
export interface Task { process: Process; pid1: number; failed?: NonNullable<ExitInfo['error']> & { status: number } }

export interface Runtime {
  /** @throws unavailable (setup failed; message says what), plus cannot_execute/command_not_found via the Exit */
  start(spec: ContainerSpec, proc: ProcessSpec): Promise<Task>;
  /** @throws failed_precondition when the container has no running PID 1 */
  exec(spec: ContainerSpec, pid1: number, proc: ProcessSpec): Promise<Process>;
  /** Freeze every process of the container (cgroup freezer); commit uses it. Idempotent. */
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  /** Host pids of every process of the container (its cgroup's members); [] when it has no group. */
  pids(id: string): Promise<number[]>;
  /** Is the container's PID 1 (host pid) still alive (not a zombie)? */
  alive(pid1: number): boolean;
  /** The exit a dead container left in its state dir, if any (restart recovery). */
  recordedExit(stateDir: string): Promise<ExitInfo | undefined>;
  /** Remove the container's cgroups (after its processes are gone). Idempotent. */
  cleanup(id: string): Promise<void>;
  /** Did the memory cgroup kill a process for being out of memory? */
  oomKilled(id: string): Promise<boolean>;
  /** Change a running container's memory, pids and CPU limits (cgroups.ts ResourceUpdate: 0 lifts one).
   * @throws failed_precondition (not running), unavailable (no controller, or the kernel refuses the value) */
  update(id: string, limits: ResourceUpdate): Promise<void>;
  /** Its cgroups' memory and pids figures. @throws failed_precondition (not running) */
  stats(id: string): Promise<CgroupStats>;
}
