/*
 * sbx-init: the setup step of every container process, run as root by the daemon.
 *
 *   unshare --mount --pid --uts --ipc [--net] -- sbx-init create [OPTS] -- CMD...
 *   sbx-init join --pid PID [OPTS] -- CMD...
 *   sbx-init seccomp-compile FILE|-   (seccomp.c: a profile in sbx's line format → raw BPF on stdout)
 *   unshare --net -- sbx-init hold    (net.c: keeps a network's namespace, relays its DNS)
 *   sbx-init forward --proto P --host-ip IP --host-port N --port CPORT   (forward.c: one published port)
 *
 * create: joins the container's cgroups, joins its network (--net, net.c), mounts the root file system inside the new mount
 * namespace (nothing ever appears in the host's mount table), pivot_roots, then fresh /proc,
 * read-only /sys, a nodev /dev with only the allowed host nodes, the /etc files, all resolved
 * inside the new root (rootfs.c), hostname, loopback up, then cuts capabilities to the given
 * bounding set, sets no_new_privs, switches user, joins a fresh session keyring, loads the
 * seccomp filter (--seccomp, seccomp.c) and execs CMD as the container's PID 1.
 * join: enters the namespaces and root of PID (what nsenter does), forks into its pid namespace
 * and execs CMD with the same privilege cuts; the parent mirrors the child's exit status and
 * forwards signals sent to it with kill(2).
 *
 * Why C: the privilege cut has to happen after pivot_root (mounting needs CAP_SYS_ADMIN) and
 * before exec, in a process that no longer sees the host's /usr; a static binary that keeps
 * running across pivot_root is the simplest thing that can do it.
 *
 * The process that stays as the container's parent (supervise.c) re-executes itself as
 * sbx-wait or `sbx-init wait` (a fresh image: it keeps a few kB rather than what setup dirtied).
 *
 * Failures are written to --status FILE (opened O_CLOEXEC, so a successful exec leaves it
 * empty) as "CODE message": 125 setup failed, 126 cannot execute, 127 not found.
 */
#include "init.h"

int status_fd = -1;

void fail(int code, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (status_fd >= 0) dprintf(status_fd, "%d %s\n", code, buf);
  else dprintf(2, "sbx-init: %s\n", buf);
  _exit(code);
}

static void write_file(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(125, "open %s: %s", path, strerror(errno));
  if (write(fd, s, strlen(s)) < 0) fail(125, "write %s: %s", path, strerror(errno));
  close(fd);
}

static void join_cgroups(struct opts *o) {
  char path[4096];
  for (int i = 0; i < o->ncgroups; i++) {
    snprintf(path, sizeof path, "%s/cgroup.procs", o->cgroups[i]);
    write_file(path, "0");
  }
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(125, "socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(125, "loopback flags: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(125, "loopback up: %s", strerror(errno));
  close(s);
}

static int last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char buf[16] = {0};
  if (fd < 0) return 40;
  if (read(fd, buf, sizeof buf - 1) < 0) buf[0] = 0;
  close(fd);
  int n = atoi(buf);
  return n > 0 ? n : 40;
}

struct cap_hdr { unsigned version; int pid; };
struct cap_data { unsigned effective, permitted, inheritable; };

/* Bounding set cut to `caps`, inheritable and ambient emptied, no_new_privs, then the user. */
static void drop_privileges(struct opts *o) {
  int last = last_cap();
  for (int c = 0; c <= last; c++) {
    if (o->caps & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) fail(125, "drop capability %d: %s", c, strerror(errno));
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (setgroups(o->ngroups, o->groups) < 0) fail(125, "setgroups: %s", strerror(errno));
  if (setresgid(o->gid, o->gid, o->gid) < 0) fail(125, "setgid %u: %s", o->gid, strerror(errno));
  if (setresuid(o->uid, o->uid, o->uid) < 0) fail(125, "setuid %u: %s", o->uid, strerror(errno));
  /* root keeps bounding ∩ everything after exec; the inheritable set must not add to it */
  struct cap_hdr h = {0x20080522, 0};
  struct cap_data d[2];
  if (syscall(SYS_capget, &h, d) < 0) fail(125, "capget: %s", strerror(errno));
  d[0].inheritable = d[1].inheritable = 0;
  d[0].permitted &= (unsigned)o->caps; d[1].permitted &= (unsigned)(o->caps >> 32);
  d[0].effective &= (unsigned)o->caps; d[1].effective &= (unsigned)(o->caps >> 32);
  if (syscall(SYS_capset, &h, d) < 0) fail(125, "capset: %s", strerror(errno));
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(125, "no_new_privs: %s", strerror(errno));
}

static void enter_cwd(struct opts *o) {
  if (chdir(o->cwd) == 0) return;
  fail(125, "chdir to working directory %s: %s", o->cwd, strerror(errno));
}

/* execvp with docker's exit codes: 127 not found, 126 found but cannot be executed. */
static void exec_cmd(struct opts *o) {
  const char *file = o->cmd[0];
  if (strchr(file, '/')) {
    execv(file, o->cmd);
    int e = errno;
    if (e == ENOENT || e == ENOTDIR) fail(127, "exec: \"%s\": no such file or directory", file);
    fail(126, "exec: \"%s\": %s", file, strerror(e));
  }
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int denied = 0, denied_errno = 0;
  char buf[4096];
  const char *p = path;
  while (*p) {
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", file);
    execv(buf, o->cmd);
    if (errno != ENOENT && errno != ENOTDIR) { denied = 1; denied_errno = errno; }
    if (!end) break;
    p = end + 1;
  }
  if (denied) fail(126, "exec: \"%s\": %s", file, strerror(denied_errno));
  fail(127, "exec: \"%s\": executable file not found in $PATH", file);
}

static void parse_ids(struct opts *o, const char *s) {
  char *end;
  o->ngroups = 0;
  while (*s && o->ngroups < MAX_LIST) {
    o->groups[o->ngroups++] = (gid_t)strtoul(s, &end, 10);
    if (*end != ',') break;
    s = end + 1;
  }
}

static void parse(struct opts *o, int argc, char **argv) {
  memset(o, 0, sizeof *o);
  o->cwd = "/";
  o->caps = ~0ULL;
  o->console_fd = -1;
  int i = 2;
  for (; i < argc; i++) {
    const char *a = argv[i];
#define NEXT (i + 1 < argc ? argv[++i] : (fail(125, "option %s needs a value", a), ""))
    if (strcmp(a, "--") == 0) { i++; break; }
    else if (strcmp(a, "--status") == 0) {
      status_fd = open(NEXT, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (status_fd < 0) fail(125, "open status file: %s", strerror(errno));
    }
    else if (strcmp(a, "--root") == 0) o->root = NEXT;
    else if (strcmp(a, "--exit-file") == 0) o->exit_file = NEXT;
    else if (strcmp(a, "--pid-file") == 0) o->pid_file = NEXT;
    else if (strcmp(a, "--rootfs") == 0) { o->rtype = NEXT; o->rsource = NEXT; o->rdata = NEXT; }
    else if (strcmp(a, "--rootfs-cwd") == 0) o->rcwd = NEXT;
    else if (strcmp(a, "--hostname") == 0) o->hostname = NEXT;
    else if (strcmp(a, "--cwd") == 0) o->cwd = NEXT;
    else if (strcmp(a, "--init-bin") == 0) o->init_bin = NEXT;
    else if (strcmp(a, "--cgroup") == 0) { if (o->ncgroups < MAX_LIST) o->cgroups[o->ncgroups++] = NEXT; }
    else if (strcmp(a, "--cgroup-view") == 0) { if (o->ncgviews >= MAX_LIST) fail(125, "too many --cgroup-view"); o->cgviews[o->ncgviews][0] = NEXT; o->cgviews[o->ncgviews++][1] = NEXT; }
    else if (strcmp(a, "--bind") == 0) { if (o->nbinds >= MAX_LIST) fail(125, "too many --bind"); o->binds[o->nbinds][0] = NEXT; o->binds[o->nbinds++][1] = NEXT; }
    else if (strcmp(a, "--volume") == 0) {
      if (o->nvolumes >= MAX_LIST) fail(125, "too many volumes (at most %d)", MAX_LIST);
      o->volumes[o->nvolumes][0] = NEXT; o->volumes[o->nvolumes][1] = NEXT; o->volumes[o->nvolumes++][2] = NEXT;
    }
    else if (strcmp(a, "--tmpfs") == 0) { if (o->ntmpfs >= MAX_LIST) fail(125, "too many tmpfs mounts (at most %d)", MAX_LIST); o->tmpfs[o->ntmpfs][0] = NEXT; o->tmpfs[o->ntmpfs][1] = NEXT; o->tmpfs[o->ntmpfs++][2] = NEXT; }
    else if (strcmp(a, "--device") == 0) { if (o->ndevices >= MAX_LIST) fail(125, "too many devices (at most %d)", MAX_LIST); o->devices[o->ndevices][0] = NEXT; o->devices[o->ndevices++][1] = NEXT; }
    else if (strcmp(a, "--privileged") == 0) o->privileged = 1;
    else if (strcmp(a, "--read-only") == 0) o->read_only = 1;
    else if (strcmp(a, "--shm-size") == 0) o->shm_size = NEXT;
    else if (strcmp(a, "--caps") == 0) o->caps = strtoull(NEXT, NULL, 16);
    else if (strcmp(a, "--uid") == 0) o->uid = (uid_t)strtoul(NEXT, NULL, 10);
    else if (strcmp(a, "--gid") == 0) o->gid = (gid_t)strtoul(NEXT, NULL, 10);
    else if (strcmp(a, "--groups") == 0) parse_ids(o, NEXT);
    else if (strcmp(a, "--lo-up") == 0) o->lo_up = 1;
    else if (strcmp(a, "--net") == 0) { o->net_ns = NEXT; o->net_if = NEXT; o->net_bridge = NEXT; o->net_addr = NEXT; o->net_prefix = NEXT; o->net_gw = NEXT; o->net_mtu = NEXT; o->net_mac = NEXT; }
    else if (strcmp(a, "--pid") == 0) o->pid = atoi(NEXT);
    else if (strcmp(a, "--port") == 0) o->port = atoi(NEXT);
    else if (strcmp(a, "--proto") == 0) o->proto = NEXT;
    else if (strcmp(a, "--host-ip") == 0) o->host_ip = NEXT;
    else if (strcmp(a, "--host-port") == 0) o->host_port = atoi(NEXT);
    else if (strcmp(a, "--seccomp") == 0) o->seccomp = NEXT;
    else if (strcmp(a, "--console-fd") == 0) o->console_fd = atoi(NEXT);
    else if (strcmp(a, "--tty") == 0) { o->tty_cols = atoi(NEXT); o->tty_rows = atoi(NEXT); }
    else fail(125, "unknown option %s", a);
  }
  if (i >= argc && strcmp(argv[1], "forward") != 0) fail(125, "no command given");
  o->cmd = argv + i;
}

static void own_keyring(void) { char e[512]; if (sbx_join_session_keyring(e, sizeof e) < 0) fail(125, "%s", e); }
static void load_seccomp(void) { char e[512]; if (sbx_seccomp_load(e, sizeof e) < 0) fail(125, "%s", e); }

static void create_main(struct opts *o) {
  join_cgroups(o);
  /* here, as the new pid namespace's first process: a fork before it would become PID 1 and end the namespace */
  if (o->net_ns) net_attach(o);
  setup_root(o);
  if (o->hostname && sethostname(o->hostname, strlen(o->hostname)) < 0) fail(125, "sethostname: %s", strerror(errno));
  if (o->lo_up) loopback_up();
  own_keyring();
  drop_privileges(o);
  enter_cwd(o);
  load_seccomp();
  exec_cmd(o);
}

static int join_rootfd = -1;

static void join_main(struct opts *o) {
  /* chroot before the chdir to --cwd: a ../ or symlink in it resolves inside the container */
  if (fchdir(join_rootfd) < 0 || chroot(".") < 0) fail(125, "enter container root: %s", strerror(errno));
  close(join_rootfd);
  /* inside the chroot: no path here can lead out of the container root */
  if (o->console_fd >= 0) setup_tty(o, "/dev/pts/ptmx", NULL);
  own_keyring();
  drop_privileges(o);
  enter_cwd(o);
  load_seccomp();
  exec_cmd(o);
}

static int join(struct opts *o) {
  const char *names[] = {"ipc", "uts", "net", "pid", "mnt"};
  int fds[5];
  char p[256];
  join_cgroups(o);
  for (int i = 0; i < 5; i++) {
    snprintf(p, sizeof p, "/proc/%d/ns/%s", o->pid, names[i]);
    fds[i] = open(p, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) fail(125, "open %s: %s", p, strerror(errno));
  }
  snprintf(p, sizeof p, "/proc/%d/root", o->pid);
  join_rootfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (join_rootfd < 0) fail(125, "open %s: %s", p, strerror(errno));
  for (int i = 0; i < 5; i++) {
    if (setns(fds[i], 0) < 0) fail(125, "enter %s namespace: %s", names[i], strerror(errno));
    close(fds[i]);
  }
  return supervise(o, join_main);
}

int main(int argc, char **argv) {
  if (argc < 2) fail(125, "usage: sbx-init create|join [OPTIONS] -- CMD...");
  char err[512];
  if (strcmp(argv[1], "seccomp-compile") == 0) {
    if (argc != 3 || sbx_seccomp_compile(argv[2], 1, err, sizeof err) < 0) fail(125, "seccomp-compile: %s", argc != 3 ? "want FILE or -" : err);
    return 0;
  }
  if (strcmp(argv[1], "hold") == 0) {
    /* sbx-init hold [outbound-on-demand MTU] (net.c) */
    int on_demand = argc == 4 && strcmp(argv[2], "outbound-on-demand") == 0;
    if (argc != 2 && !on_demand) fail(125, "usage: sbx-init hold [outbound-on-demand MTU]");
    return net_hold(on_demand, on_demand ? (unsigned)strtoul(argv[3], NULL, 10) : 0);
  }
  if (strcmp(argv[1], "wait") == 0) {
    /* supervise's second half, in a fresh image: sbx-init wait CHILD_PID EXIT_FD; signals arrive blocked */
    if (argc != 4) fail(125, "usage: sbx-init wait PID FD");
    return supervise_resume(atoi(argv[2]), atoi(argv[3]));
  }
  supervise_open_waiters();
  struct opts o;
  parse(&o, argc, argv);
  if (o.seccomp && sbx_seccomp_prepare(o.seccomp, err, sizeof err) < 0) fail(125, "seccomp profile: %s", err);
  if (strcmp(argv[1], "create") == 0) {
    if (!o.root || !o.rtype) fail(125, "create needs --root and --rootfs");
    return supervise(&o, create_main);
  }
  if (strcmp(argv[1], "forward") == 0) {
    if (o.port <= 0 || o.port > 65535 || !o.host_ip || o.host_port < 0 || o.host_port > 65535) fail(125, "forward needs --host-ip, --host-port and --port");
    return port_forward(&o);
  }
  if (strcmp(argv[1], "join") == 0) {
    if (o.pid <= 0) fail(125, "join needs --pid");
    return join(&o);
  }
  fail(125, "unknown mode %s", argv[1]);
  return 125;
}
