/*
 * The tests' attack probe (test/security-seccomp.test.ts), built static by scripts/build-init.sh
 * so it runs in a hand-made busybox root and on the host alike.
 *
 *   probe attacks              try each syscall a sandbox must refuse; one line each: NAME RESULT
 *   probe spawn                fork, exec and a thread (what ordinary programs need); NAME RESULT
 *   probe addkey RING DESC DATA   add a "user" key to RING (@s session, @u user, @p process)
 *   probe findkey RING DESC    search RING for the key, print its payload
 *   probe rmkey RING DESC      invalidate the key found in RING
 *   probe udp-echo PORT        answer every datagram to 0.0.0.0:PORT with its own bytes (networks tests)
 *   probe tcp-echo PORT        echo each connection to 0.0.0.0:PORT (a child per connection) until
 *                              its half-close, then close (ports tests)
 *   probe http PORT [ADDR]     answer every connection to ADDR:PORT (default 0.0.0.0) with one
 *                              1 KiB page and close, in one process, no fork (the ports bench)
 *   probe flip SOCK PATH       connect to unix socket SOCK, then swap fds 0 and 1 between fd 3 and
 *                              PATH (taken O_PATH: never opened) forever (terminal-tie's attack)
 *
 * RESULT is "ok" or the errno's name (EPERM, ENOSYS...). Each attack runs in a child of its own,
 * so one that succeeds (a new namespace, a persona) cannot change the next, and none touches
 * anything but a scratch directory: run as root on the host, it still changes nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY_SPEC_PROCESS_KEYRING -2
#define KEY_SPEC_SESSION_KEYRING -3
#define KEY_SPEC_USER_KEYRING -4
#define KEYCTL_GET_KEYRING_ID 0
#define KEYCTL_READ 11
#define KEYCTL_SEARCH 10
#define KEYCTL_INVALIDATE 21
#define KCMP_VM 1
#define UFFD_USER_MODE_ONLY 1

static long rc(long r) { return r < 0 ? errno : 0; }

/* a raw clone/clone3 that worked made a child: let it go, and count the call as a success */
static long forked(long r) {
  if (r == 0) _exit(0);
  if (r < 0) return errno;
  waitpid((pid_t)r, NULL, __WALL);
  return 0;
}

static long a_perf(void) {
  struct perf_event_attr at;
  memset(&at, 0, sizeof at);
  at.type = PERF_TYPE_SOFTWARE; at.config = PERF_COUNT_SW_CPU_CLOCK; at.size = sizeof at;
  at.disabled = 1; at.exclude_kernel = 1; at.exclude_hv = 1;
  return rc(syscall(SYS_perf_event_open, &at, 0, -1, -1, 0));
}
static long a_uring_setup(void) { char p[120]; memset(p, 0, sizeof p); return rc(syscall(SYS_io_uring_setup, 4, p)); }
static long a_uring_enter(void) { return rc(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0)); }
static long a_uring_register(void) { return rc(syscall(SYS_io_uring_register, -1, 0, NULL, 0)); }
static long a_userfaultfd(void) { return rc(syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY)); }
static long a_bpf(void) {
  uint32_t attr[16] = {2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1};
  return rc(syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof attr));
}
static long a_keyctl(void) { return rc(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1)); }
static long a_add_key(void) { return rc(syscall(SYS_add_key, "user", "sbx-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING)); }
static long a_request_key(void) { return rc(syscall(SYS_request_key, "user", "sbx-probe-missing", NULL, KEY_SPEC_PROCESS_KEYRING)); }
static long a_kcmp(void) { return rc(syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM, 0, 0)); }
static long a_get_mempolicy(void) { return rc(syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0)); }
static long a_set_mempolicy(void) { return rc(syscall(SYS_set_mempolicy, 0, NULL, 0)); }
static long a_mbind(void) {
  void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return rc(syscall(SYS_mbind, p, 4096, 0, NULL, 0, 0));
}
static long a_move_pages(void) { return rc(syscall(SYS_move_pages, 0, 0, NULL, NULL, NULL, 0)); }
static long a_unshare(void) { return rc(unshare(CLONE_NEWUSER)); }
static long a_setns(void) { int fd = open("/proc/self/ns/uts", O_RDONLY); return rc(setns(fd, 0)); }
/* on a scratch directory, undone at once: harmless even where it works (as root on the host) */
static char scratch[] = "/tmp/sbx-probe-XXXXXX";
static long a_mount(void) {
  long r = rc(mount("none", scratch, "tmpfs", 0, NULL));
  if (r == 0) umount2(scratch, MNT_DETACH);
  return r;
}
static long a_umount(void) { return rc(umount2(scratch, 0)); } /* not a mount point: EINVAL if allowed */
static long a_personality(void) { return rc(personality(READ_IMPLIES_EXEC)); }
static long a_clone_newuser(void) { return forked(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)); }
static long a_clone3(void) {
  uint64_t args[11] = {0};
  args[4] = SIGCHLD; /* exit_signal */
  return forked(syscall(SYS_clone3, args, sizeof args));
}
static long a_vsock(void) { return rc(socket(40 /* AF_VSOCK */, SOCK_STREAM, 0)); }

static const struct { const char *name; long (*fn)(void); } ATTACKS[] = {
  {"perf_event_open", a_perf}, {"io_uring_setup", a_uring_setup}, {"io_uring_enter", a_uring_enter},
  {"io_uring_register", a_uring_register}, {"userfaultfd", a_userfaultfd}, {"bpf", a_bpf},
  {"keyctl", a_keyctl}, {"add_key", a_add_key}, {"request_key", a_request_key}, {"kcmp", a_kcmp},
  {"get_mempolicy", a_get_mempolicy}, {"set_mempolicy", a_set_mempolicy}, {"mbind", a_mbind},
  {"move_pages", a_move_pages}, {"unshare", a_unshare}, {"setns", a_setns}, {"mount", a_mount},
  {"umount2", a_umount}, {"personality", a_personality}, {"clone_newuser", a_clone_newuser},
  {"clone3", a_clone3}, {"socket_vsock", a_vsock},
};

static void report(const char *name, long (*fn)(void)) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) _exit((int)fn());
  int st;
  if (p < 0 || waitpid(p, &st, 0) < 0) { printf("%s fork:%s\n", name, strerrorname_np(errno)); return; }
  if (WIFSIGNALED(st)) printf("%s signal:%d\n", name, WTERMSIG(st));
  else if (WEXITSTATUS(st) == 0) printf("%s ok\n", name);
  else printf("%s %s\n", name, strerrorname_np(WEXITSTATUS(st)));
}

static void *thread_main(void *arg) { return arg; }
static long s_thread(void) {
  pthread_t t;
  void *out = NULL;
  int e = pthread_create(&t, NULL, thread_main, (void *)42);
  if (e) return e;
  pthread_join(t, &out);
  return out == (void *)42 ? 0 : EINVAL;
}
static long s_fork(void) { return forked(fork()); }
static long s_exec(void) {
  execl("/proc/self/exe", "probe", "true", (char *)NULL);
  return errno;
}
static long s_socket(void) { return rc(socket(AF_INET, SOCK_STREAM, 0)); }
static long s_persona_query(void) { return rc(personality(0xffffffff)); }

static long ring(const char *s) {
  if (strcmp(s, "@s") == 0) return KEY_SPEC_SESSION_KEYRING;
  if (strcmp(s, "@u") == 0) return KEY_SPEC_USER_KEYRING;
  if (strcmp(s, "@p") == 0) return KEY_SPEC_PROCESS_KEYRING;
  fprintf(stderr, "probe: keyring %s: want @s, @u or @p\n", s);
  exit(2);
}

static int fail_errno(void) { printf("%s\n", strerrorname_np(errno)); return 1; }

static int udp_echo(int port) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) return fail_errno();
  char buf[65536];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (n >= 0) sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
  }
}

static int listen_on(const char *addr, int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  if (s < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1) return -1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 512) < 0) return -1;
  return s;
}

static int tcp_echo(int port) {
  int l = listen_on("0.0.0.0", port);
  if (l < 0) return fail_errno();
  signal(SIGCHLD, SIG_IGN); /* children reap themselves */
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    if (fork() == 0) {
      close(l);
      char buf[65536];
      ssize_t n;
      while ((n = read(c, buf, sizeof buf)) > 0)
        for (ssize_t off = 0; off < n;) { ssize_t w = write(c, buf + off, (size_t)(n - off)); if (w <= 0) _exit(1); off += w; }
      _exit(0);
    }
    close(c);
  }
}

static int http(int port, const char *addr) {
  int l = listen_on(addr, port);
  if (l < 0) return fail_errno();
  static char resp[2048], req[8192];
  int hl = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n");
  memset(resp + hl, 'x', 1024);
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    if (read(c, req, sizeof req) > 0) (void)!write(c, resp, (size_t)hl + 1024);
    close(c);
  }
}

static int flip(const char *sock, const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, sock, sizeof a.sun_path - 1);
  int s = socket(AF_UNIX, SOCK_STREAM, 0), other = open(path, O_PATH);
  if (s < 0 || other < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) return fail_errno();
  for (;;) { dup2(3, 0); dup2(3, 1); dup2(other, 0); dup2(other, 1); }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "true") == 0) return 0;
  if (strcmp(cmd, "udp-echo") == 0 && argc == 3) return udp_echo(atoi(argv[2]));
  if (strcmp(cmd, "tcp-echo") == 0 && argc == 3) return tcp_echo(atoi(argv[2]));
  if (strcmp(cmd, "http") == 0 && (argc == 3 || argc == 4)) return http(atoi(argv[2]), argc == 4 ? argv[3] : "0.0.0.0");
  if (strcmp(cmd, "flip") == 0 && argc == 4) return flip(argv[2], argv[3]);
  if (strcmp(cmd, "attacks") == 0) {
    if (!mkdtemp(scratch)) { perror("probe: mkdtemp"); return 2; }
    for (unsigned i = 0; i < sizeof ATTACKS / sizeof *ATTACKS; i++) report(ATTACKS[i].name, ATTACKS[i].fn);
    rmdir(scratch);
    return 0;
  }
  if (strcmp(cmd, "spawn") == 0) {
    report("fork", s_fork); report("exec", s_exec); report("thread", s_thread);
    report("socket_inet", s_socket); report("personality_query", s_persona_query);
    return 0;
  }
  if (strcmp(cmd, "addkey") == 0 && argc == 5) {
    long id = syscall(SYS_add_key, "user", argv[3], argv[4], strlen(argv[4]), ring(argv[2]));
    if (id < 0) return fail_errno();
    printf("%ld\n", id);
    return 0;
  }
  if ((strcmp(cmd, "findkey") == 0 || strcmp(cmd, "rmkey") == 0) && argc == 4) {
    long id = syscall(SYS_keyctl, KEYCTL_SEARCH, ring(argv[2]), "user", argv[3], 0);
    if (id < 0) return fail_errno();
    if (strcmp(cmd, "rmkey") == 0) return syscall(SYS_keyctl, KEYCTL_INVALIDATE, id) < 0 ? fail_errno() : 0;
    char buf[4096];
    long n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof buf - 1);
    if (n < 0) return fail_errno();
    buf[n < (long)sizeof buf ? n : (long)sizeof buf - 1] = 0;
    printf("%s\n", buf);
    return 0;
  }
  fprintf(stderr, "usage: probe attacks|spawn|addkey RING DESC DATA|findkey RING DESC|rmkey RING DESC|udp-echo PORT|tcp-echo PORT|http PORT [ADDR]|flip SOCK PATH\n");
  return 2;
}
