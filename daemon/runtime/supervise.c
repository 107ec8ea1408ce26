/*
 * sbx-init's supervisor: the process that forks the container's (or an exec's) first process and
 * stays as its parent, mirroring its exit status to the daemon (and to --exit-file) and passing
 * on the signals kill(2) sends it. Once the child runs, it re-executes itself in a fresh image
 * (sbx-wait, or `sbx-init wait`) so that what stays for the container's life is small.
 */
#include "init.h"

static pid_t child_pid;
/* this binary, opened before anything changes our root (supervise re-executes it to wait) */
static int self_exe = -1;
/* sbx-wait (wait/wait.c), beside this binary: what stays for the container's life; -1: `sbx-init wait` */
static int wait_exe = -1;
static int wait_child(int exit_fd, const sigset_t *old);

void supervise_open_waiters(void) {
  self_exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  char wait_path[4096];
  ssize_t wl = readlink("/proc/self/exe", wait_path, sizeof wait_path - sizeof "sbx-wait");
  char *slash = wl > 0 ? memrchr(wait_path, '/', (size_t)wl) : NULL;
  if (slash) { strcpy(slash + 1, "sbx-wait"); wait_exe = open(wait_path, O_RDONLY | O_CLOEXEC); }
}

static void forward(int sig, siginfo_t *info, void *ctx) {
  (void)ctx;
  /* our parent (the daemon) died: take the container down with us */
  if (sig == SIGPWR) { kill(child_pid, SIGKILL); return; }
  /* the terminal already signals the whole foreground group; pass on only what kill(2) sent */
  if (info->si_code == SI_USER || info->si_code == SI_QUEUE || sig == SIGHUP) kill(child_pid, sig);
}

/*
 * Fork the process that becomes the container's (or the exec's) first process and stay as its
 * parent: the daemon sees this process exit exactly as the child did (unshare --fork turns a
 * death by signal into exit 1), and the status also goes to --exit-file for a daemon that was
 * not there to see it.
 */
int supervise(struct opts *o, void (*child_main)(struct opts *)) {
  int exit_fd = -1;
  if (o->exit_file) {
    exit_fd = open(o->exit_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (exit_fd < 0) fail(125, "open exit file: %s", strerror(errno));
  }
  /* opened now: the child's pivot_root moves our root too (same mount namespace) */
  int pid_fd = -1;
  if (o->pid_file) {
    pid_fd = open(o->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (pid_fd < 0) fail(125, "open pid file: %s", strerror(errno));
  }
  pid_t parent = getpid();
  /* closed by the child's exec (O_CLOEXEC) or death: the pid file appears only after that */
  int syncp[2];
  if (pipe2(syncp, O_CLOEXEC) < 0) fail(125, "pipe: %s", strerror(errno));
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  child_pid = fork();
  if (child_pid < 0) fail(125, "fork: %s", strerror(errno));
  if (child_pid == 0) {
    if (exit_fd >= 0) close(exit_fd);
    if (pid_fd >= 0) close(pid_fd);
    close(syncp[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent && getppid() != 0) _exit(125); /* 0: parent is outside our pid namespace */
    sigprocmask(SIG_SETMASK, &old, NULL);
    child_main(o);
    _exit(125);
  }
  if (status_fd >= 0) { close(status_fd); status_fd = -1; }
  /* the child alone holds the console socket: the daemon sees EOF if it dies before sending */
  if (o->console_fd >= 0) { close(o->console_fd); o->console_fd = -1; }
  close(syncp[1]);
  char c;
  while (read(syncp[0], &c, 1) < 0 && errno == EINTR) {}
  close(syncp[0]);
  if (pid_fd >= 0) { dprintf(pid_fd, "%d\n", child_pid); close(pid_fd); }
  /*
   * Wait in a fresh image: sbx-wait (wait/wait.c, no C library: ~8 kB dirty), or this binary's
   * `sbx-init wait` (init.c, ~56 kB) when it is missing: what setup dirtied here (parsed options,
   * the filter libseccomp built) is given back, so the process that stays for every container
   * costs a few kB instead of ~120 kB. Signals stay blocked across the exec (and pending ones
   * stay pending). The binaries are the ones opened at start: by now our root may be the
   * container's, and nothing is ever executed from there.
   */
  if (wait_exe >= 0 || self_exe >= 0) {
    char pid_arg[16], fd_arg[16];
    snprintf(pid_arg, sizeof pid_arg, "%d", child_pid);
    snprintf(fd_arg, sizeof fd_arg, "%d", exit_fd);
    if (exit_fd < 0 || fcntl(exit_fd, F_SETFD, 0) == 0) {
      char *args[] = {"sbx-init", "wait", pid_arg, fd_arg, NULL};
      char *env[] = {NULL};
      if (wait_exe >= 0) fexecve(wait_exe, args, env);
      if (self_exe >= 0) fexecve(self_exe, args, env);
      if (exit_fd >= 0) fcntl(exit_fd, F_SETFD, FD_CLOEXEC);
    }
  }
  return wait_child(exit_fd, &old);
}

/* The parent's part once the child runs: forward signals, mirror its exit (see supervise). */
static int wait_child(int exit_fd, const sigset_t *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM, SIGPWR};
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);
  prctl(PR_SET_PDEATHSIG, SIGPWR, 0, 0, 0);
  sigprocmask(SIG_SETMASK, old, NULL);
  if (getppid() == 1) kill(child_pid, SIGKILL);
  int st;
  while (waitpid(child_pid, &st, 0) < 0) if (errno != EINTR) return 125;
  if (WIFEXITED(st)) {
    if (exit_fd >= 0) dprintf(exit_fd, "%d 0\n", WEXITSTATUS(st));
    return WEXITSTATUS(st);
  }
  int sig = WTERMSIG(st);
  if (exit_fd >= 0) dprintf(exit_fd, "%d %d\n", 128 + sig, sig);
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, NULL);
  kill(getpid(), sig);
  return 128 + sig;
}

int supervise_resume(pid_t child, int exit_fd) {
  child_pid = child;
  if (exit_fd >= 0) fcntl(exit_fd, F_SETFD, FD_CLOEXEC);
  sigset_t none;
  sigemptyset(&none);
  return wait_child(exit_fd, &none);
}
