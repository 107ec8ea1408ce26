/*
 * sbx-hold: what stays for a network's namespace holder once `sbx-init hold` (net.c) has set the
 * namespace up: its relay loop, in a binary with no C library, so the holder keeps ~20 kB instead
 * of ~860 kB (sbx-init's static text and glibc's start-up state, mapped for that process alone).
 * argv: sbx-init hold DNS_FD TUN_FD (-1: no outbound-on-demand tun). The loop is net.c's:
 * - DNS datagrams on DNS_FD go to the daemon as frames on stdout (u16 length, client IPv4 address
 *   and port, the message); frames on stdin are answers, sent back to the client;
 * - the first IPv4 packet read from the tun makes it send an empty frame; packets are kept (up to
 *   KEEP) until the daemon answers with an empty frame, then written back and the tun is left;
 * - it ends when stdin closes; the parent-death signal set before the exec (SIGKILL) stays.
 * x86-64 Linux only (raw system calls), as sbx-wait.
 */
#include <asm/unistd.h>

#define KEEP 64 /* net.c's OUT_KEEP */
#define MAXPKT 65536
#define EINTR 4
#define POLLIN 1

static long sys(long n, long a, long b, long c, long d, long e, long f) {
  long r;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return r;
}
#define sys3(n, a, b, c) sys(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

struct pollfd_ { int fd; short events, revents; };
struct sockaddr_in_ { unsigned short family, port; unsigned char addr[4]; unsigned char zero[8]; };

__attribute__((noreturn)) static void leave(int code) { for (;;) sys3(__NR_exit_group, code, 0, 0); }

static long number(const char *s) {
  long n = 0, neg = *s == '-';
  for (s += neg; *s >= '0' && *s <= '9'; s++) n = n * 10 + (*s - '0');
  return neg ? -n : n;
}

static void copy(unsigned char *d, const unsigned char *s, long n) { while (n-- > 0) *d++ = *s++; }

static int read_full(unsigned char *b, long n) {
  for (long got = 0; got < n;) {
    long r = sys3(__NR_read, 0, b + got, n - got);
    if (r == -EINTR) continue;
    if (r <= 0) return -1;
    got += r;
  }
  return 0;
}

static unsigned char buf[2 + 6 + MAXPKT];

__attribute__((noreturn, used)) void sbx_hold_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  if (argc != 4) leave(125);
  long dns = number(argv[2]), tun = number(argv[3]);
  /* packets kept for the outbound path: mapped at the first one, unmapped once they are re-sent */
  unsigned char *kept = 0;
  long kept_len[KEEP], nkept = 0;
  int asked = 0;
  for (;;) {
    struct pollfd_ p[3] = {{(int)dns, POLLIN, 0}, {0, POLLIN, 0}, {(int)tun, POLLIN, 0}};
    long r = sys3(__NR_poll, p, 3, -1);
    if (r == -EINTR) continue;
    if (r < 0) leave(1);
    if (tun >= 0 && p[2].revents) {
      long n;
      while ((n = sys3(__NR_read, tun, buf, MAXPKT)) > 0) {
        if ((buf[0] >> 4) != 4) continue; /* only IPv4 leaves (the bridges are IPv4-only) */
        if (!kept) {
          long m = sys(__NR_mmap, 0, (long)KEEP * MAXPKT, 3 /* PROT_READ|WRITE */, 0x22 /* MAP_PRIVATE|ANONYMOUS */, -1, 0);
          if (m > 0 || m < -4095) kept = (unsigned char *)m;
        }
        if (kept && nkept < KEEP) { copy(kept + nkept * MAXPKT, buf, n); kept_len[nkept++] = n; }
        if (!asked) {
          asked = 1;
          if (sys3(__NR_write, 1, "\0\0", 2) != 2) leave(1);
        }
      }
    }
    if (p[0].revents) {
      struct sockaddr_in_ from;
      int fl = sizeof from;
      long n = sys(__NR_recvfrom, dns, (long)(buf + 8), MAXPKT - 8, 0, (long)&from, (long)&fl);
      if (n > 0) {
        long len = n + 6;
        buf[0] = (unsigned char)(len >> 8); buf[1] = (unsigned char)len;
        copy(buf + 2, from.addr, 4);
        copy(buf + 6, (unsigned char *)&from.port, 2);
        if (sys3(__NR_write, 1, buf, len + 2) < 0) leave(1);
      }
    }
    if (p[1].revents) {
      if (read_full(buf, 2) < 0) leave(0);
      long len = ((long)buf[0] << 8) | buf[1];
      if (len == 0 && tun >= 0) {
        /* the outbound path is up: what waited goes back in, and the tun is no longer read */
        for (long i = 0; i < nkept; i++) sys3(__NR_write, tun, kept + i * MAXPKT, kept_len[i]);
        if (kept) sys3(__NR_munmap, kept, (long)KEEP * MAXPKT, 0);
        kept = 0;
        nkept = 0;
        tun = -1;
        continue;
      }
      if (len < 6 || read_full(buf + 2, len) < 0) leave(0);
      struct sockaddr_in_ to = {2 /* AF_INET */, 0, {0}, {0}};
      copy(to.addr, buf + 2, 4);
      copy((unsigned char *)&to.port, buf + 6, 2);
      sys(__NR_sendto, dns, (long)(buf + 8), len - 6, 0, (long)&to, sizeof to);
    }
  }
}

__asm__(".text\n.globl _start\n_start:\n xor %rbp, %rbp\n mov %rsp, %rdi\n and $-16, %rsp\n call sbx_hold_main\n hlt\n");
