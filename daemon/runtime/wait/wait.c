/*
 * sbx-wait: the process that stays for every running container (and exec), as the parent of its
 * first process: what `sbx-init wait` did (init.c supervise hands over to it with fexecve, signals
 * blocked), in a binary with no C library, so it dirties ~8 kB instead of ~56 kB (glibc's static
 * start-up: TLS, IRELATIVE relocations, stdio and malloc state). argv: sbx-init wait PID FD.
 * - signals sent with kill(2) (and SIGHUP) are passed on to PID; SIGPWR is the parent-death
 *   signal: the daemon died, PID is killed;
 * - PID's end is mirrored: the same exit status, or death by the same signal, and "CODE SIG\n"
 *   ("N 0" for an exit, "128+S S" for signal S) is written to FD (-1: none).
 * x86-64 Linux only (raw system calls), as sbx-init's seccomp filter is.
 */
#include <asm/unistd.h>
#include <linux/signal.h>

#define PR_SET_PDEATHSIG 1
#define EINTR 4
#define SA_RESTORER 0x04000000

static long sys(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}

struct ksigaction { void (*handler)(int, void *, void *); unsigned long flags; void (*restorer)(void); unsigned long mask; };
struct ksiginfo { int signo, errno_, code; };

void sbx_wait_restorer(void);
__asm__(".text\n.globl sbx_wait_restorer\nsbx_wait_restorer:\n mov $15, %rax\n syscall\n");

static long child = -1;

static void forward(int sig, void *info, void *ctx) {
  (void)ctx;
  if (sig == SIGPWR) { sys(__NR_kill, child, SIGKILL, 0, 0); return; }
  int code = ((struct ksiginfo *)info)->code;
  if (code == SI_USER || code == SI_QUEUE || sig == SIGHUP) sys(__NR_kill, child, sig, 0, 0);
}

static long number(const char *s) {
  long n = 0, neg = *s == '-';
  for (s += neg; *s >= '0' && *s <= '9'; s++) n = n * 10 + (*s - '0');
  return neg ? -n : n;
}

static char *put(char *p, unsigned v) {
  char d[12];
  int n = 0;
  do { d[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) *p++ = d[--n];
  return p;
}

static void report(long fd, unsigned code, unsigned sig) {
  if (fd < 0) return;
  char line[32], *p = put(line, code);
  *p++ = ' ';
  p = put(p, sig);
  *p++ = '\n';
  sys(__NR_write, fd, (long)line, p - line, 0);
}

__attribute__((noreturn)) static void leave(int code) { for (;;) sys(__NR_exit_group, code, 0, 0, 0); }

__attribute__((noreturn, used)) void sbx_wait_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  if (argc != 4) leave(125);
  child = number(argv[2]);
  long fd = number(argv[3]);
  struct ksigaction sa = { forward, SA_SIGINFO | SA_RESTART | SA_RESTORER, sbx_wait_restorer, 0 };
  static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM, SIGPWR};
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) sys(__NR_rt_sigaction, sigs[i], (long)&sa, 0, 8);
  sys(__NR_prctl, PR_SET_PDEATHSIG, SIGPWR, 0, 0);
  unsigned long none = 0;
  sys(__NR_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8);
  if (sys(__NR_getppid, 0, 0, 0, 0) == 1) sys(__NR_kill, child, SIGKILL, 0, 0);
  int st = 0;
  long r;
  while ((r = sys(__NR_wait4, child, (long)&st, 0, 0)) < 0) if (r != -EINTR) leave(125);
  if ((st & 0x7f) == 0) { report(fd, (unsigned)(st >> 8) & 0xff, 0); leave((st >> 8) & 0xff); }
  int sig = st & 0x7f;
  report(fd, 128u + (unsigned)sig, (unsigned)sig);
  struct ksigaction dfl = { 0, SA_RESTORER, sbx_wait_restorer, 0 };
  sys(__NR_rt_sigaction, sig, (long)&dfl, 0, 8);
  unsigned long one = 1ul << (sig - 1);
  sys(__NR_rt_sigprocmask, SIG_UNBLOCK, (long)&one, 0, 8);
  sys(__NR_kill, sys(__NR_getpid, 0, 0, 0, 0), sig, 0, 0);
  leave(128 + sig);
}

__asm__(".text\n.globl _start\n_start:\n xor %rbp, %rbp\n mov %rsp, %rdi\n and $-16, %rsp\n call sbx_wait_main\n hlt\n");
