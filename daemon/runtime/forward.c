/*
 * forward.c: one published port (sbx-init forward), with no copy through the daemon.
 *
 *   sbx-init forward --proto tcp|udp --host-ip IP --host-port N --port CPORT
 *
 * Binds IP:N on the host (N = 0: a free port) before the container starts, so a taken port is an
 * error the daemon reports before anything runs; prints "ok PORT" on stdout; reads the
 * container's PID 1 from stdin; enters its network namespace (the bound socket stays in the
 * host's); then relays to 127.0.0.1:CPORT there. TCP: one fork per accepted connection, which
 * dials and relays both ways with half-closes. UDP: one connected socket inside the container per
 * client address (at most MAX_FLOWS, least recently used replaced), replies sent back from the
 * host socket. Dies with the daemon (parent-death signal); the daemon kills it when the
 * container exits.
 */
#include "init.h"

#define MAX_FLOWS 64

static int parse_sockaddr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) { in->sin_family = AF_INET; in->sin_port = htons((unsigned short)port); *len = sizeof *in; return AF_INET; }
  if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) { in6->sin6_family = AF_INET6; in6->sin6_port = htons((unsigned short)port); *len = sizeof *in6; return AF_INET6; }
  fail(125, "forward: bad host address %s", ip);
}

static int dial(int type, int port) {
  int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) { if (s >= 0) close(s); return -1; }
  return s;
}

static int write_all(int fd, const char *b, ssize_t n) {
  for (ssize_t off = 0; off < n;) { ssize_t w = write(fd, b + off, (size_t)(n - off)); if (w < 0 && errno == EINTR) continue; if (w <= 0) return -1; off += w; }
  return 0;
}

/* Both directions until both are closed; EOF on one side half-closes the other. */
static void relay_tcp(int a, int b) {
  static char buf[1 << 17];
  int open_a = 1, open_b = 1;
  while (open_a || open_b) {
    struct pollfd p[2] = {{open_a ? a : -1, POLLIN, 0}, {open_b ? b : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; return; }
    for (int i = 0; i < 2; i++) {
      if (!p[i].revents) continue;
      int from = i ? b : a, to = i ? a : b;
      ssize_t n = read(from, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) { shutdown(to, SHUT_WR); if (i) open_b = 0; else open_a = 0; if (n < 0) return; continue; }
      if (write_all(to, buf, n) < 0) return;
    }
  }
}

static void serve_tcp(int l, int port) {
  signal(SIGCHLD, SIG_IGN);
  for (;;) {
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) { if (errno == EINTR || errno == ECONNABORTED) continue; fail(125, "forward: accept: %s", strerror(errno)); }
    pid_t child = fork();
    if (child == 0) {
      close(l);
      signal(SIGCHLD, SIG_DFL);
      int s = dial(SOCK_STREAM, port);
      if (s >= 0) relay_tcp(c, s);
      _exit(0);
    }
    close(c);
  }
}

struct flow { struct sockaddr_storage peer; socklen_t len; int fd; unsigned long used; };

static void serve_udp(int h, int port) {
  static char buf[65536];
  struct flow flows[MAX_FLOWS];
  int n = 0;
  unsigned long tick = 0;
  for (;;) {
    struct pollfd p[MAX_FLOWS + 1];
    p[0] = (struct pollfd){h, POLLIN, 0};
    for (int i = 0; i < n; i++) p[i + 1] = (struct pollfd){flows[i].fd, POLLIN, 0};
    if (poll(p, (nfds_t)n + 1, -1) < 0) { if (errno == EINTR) continue; fail(125, "forward: poll: %s", strerror(errno)); }
    if (p[0].revents) {
      struct sockaddr_storage from;
      socklen_t fl = sizeof from;
      ssize_t got = recvfrom(h, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
      if (got >= 0) {
        int k = -1;
        for (int i = 0; i < n; i++) if (flows[i].len == fl && memcmp(&flows[i].peer, &from, fl) == 0) { k = i; break; }
        if (k < 0) {
          int s = dial(SOCK_DGRAM, port);
          if (s >= 0) {
            if (n < MAX_FLOWS) k = n++;
            else { k = 0; for (int i = 1; i < n; i++) if (flows[i].used < flows[k].used) k = i; close(flows[k].fd); }
            flows[k] = (struct flow){from, fl, s, 0};
          }
        }
        if (k >= 0) { flows[k].used = ++tick; (void)!send(flows[k].fd, buf, (size_t)got, 0); }
      }
    }
    for (int i = 0; i < n; i++) {
      if (!p[i + 1].revents) continue;
      ssize_t got = recv(flows[i].fd, buf, sizeof buf, MSG_DONTWAIT);
      if (got >= 0) { flows[i].used = ++tick; (void)!sendto(h, buf, (size_t)got, 0, (struct sockaddr *)&flows[i].peer, flows[i].len); }
    }
  }
}

int port_forward(struct opts *o) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  int udp = o->proto && strcmp(o->proto, "udp") == 0;
  if (o->proto && !udp && strcmp(o->proto, "tcp") != 0) fail(125, "forward: unknown protocol %s", o->proto);
  struct sockaddr_storage ss;
  socklen_t len;
  int family = parse_sockaddr(o->host_ip, o->host_port, &ss, &len);
  int h = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  int one = 1;
  if (h < 0) fail(125, "forward: socket: %s", strerror(errno));
  if (!udp) setsockopt(h, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) setsockopt(h, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(h, (struct sockaddr *)&ss, len) < 0 || (!udp && listen(h, 512) < 0)) {
    if (errno == EADDRINUSE) { dprintf(1, "taken\n"); _exit(125); }
    fail(125, "forward: bind %s:%d: %s", o->host_ip, o->host_port, strerror(errno));
  }
  len = sizeof ss;
  getsockname(h, (struct sockaddr *)&ss, &len);
  int bound = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
  dprintf(1, "ok %d\n", bound);
  char line[32] = {0};
  ssize_t got = 0, r;
  while (got < (ssize_t)sizeof line - 1 && (r = read(0, line + got, 1)) > 0 && line[got] != '\n') got++;
  int pid = atoi(line);
  if (pid <= 0) _exit(0); /* the daemon gave up (the container did not start) */
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/net", pid);
  int nfd = open(p, O_RDONLY | O_CLOEXEC);
  if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0) fail(125, "forward: enter network namespace of %d: %s", pid, strerror(errno));
  close(nfd);
  if (udp) serve_udp(h, o->port); else serve_tcp(h, o->port);
  return 0;
}
