/*
 * forward.c: one published port (sbx-init forward), with no copy through the daemon.
 *
 *   sbx-init forward --proto tcp|udp --host-ip IP --host-port N --port CPORT
 *
 * Binds IP:N on the host (N = 0: a free port) before the container starts, so a taken port is an
 * error the daemon reports before anything runs; prints "ok PORT" on stdout; reads the
 * container's PID 1 from stdin; enters its network namespace (the bound socket stays in the
 * host's); then relays to 127.0.0.1:CPORT there. TCP: one epoll loop for all connections, both
 * ways with half-closes. UDP: one connected socket inside the container per
 * client address (at most MAX_FLOWS, least recently used replaced), replies sent back from the
 * host socket. Dies with the daemon (parent-death signal); the daemon kills it when the
 * container exits.
 */
#include "init.h"
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/epoll.h>

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

/*
 * TCP: one event loop for every connection (no process per connection: a fork per request was
 * what held `-p` to 0.6× of direct). Each pair relays client ↔ 127.0.0.1:PORT with one buffer per
 * direction; EOF on one side half-closes the other once its buffer is written.
 * Edge-triggered: each socket is registered once (IN, OUT, RDHUP) and never modified, and a pair
 * is pumped both ways on any of its events, so a request costs no epoll_ctl beyond the two adds
 * (level-triggered re-arming was 10 epoll_ctl per HTTP request, the forwarder's largest syscall
 * count). TCP_NODELAY is set on the listener once (accepted sockets inherit it).
 */
#define BUFSZ (1 << 16)
struct pair;
struct end { struct pair *p; int side; };
struct pair {
  int fd[2];            /* 0 client (host side), 1 upstream (in the container) */
  int eof[2];           /* read side i reached EOF */
  int rdhup[2];         /* the peer of fd[i] has shut down: read it to EOF, however short a read */
  int drained[2];       /* a short read emptied fd[i]: wait for its next edge before reading again */
  int shut[2];          /* direction i's EOF has been passed on */
  int connecting, dead;
  size_t len[2], off[2]; /* buf[i]: read from fd[i], to be written to fd[1 - i] */
  struct end ends[2];
  struct pair *next_dead;
  char buf[2][BUFSZ];
};

static int ep;
static struct pair *graveyard;
/* Finished pairs kept for the next connections (at most POOL_MAX, 2 MiB): a fresh 128 KiB pair
 * from malloc cost a brk and page faults on first touch, each dear in a VM (shadow page tables). */
#define POOL_MAX 16
static struct pair *pool;
static int pooled;

static struct pair *pair_new(void) {
  struct pair *p = pool;
  if (p) { pool = p->next_dead; pooled--; }
  else if (!(p = malloc(sizeof *p))) return NULL;
  memset(p, 0, offsetof(struct pair, buf)); /* the buffers need no zeroing: len/off say what is valid */
  return p;
}

static void pair_free(struct pair *p) {
  if (pooled >= POOL_MAX) { free(p); return; }
  p->next_dead = pool;
  pool = p;
  pooled++;
}

static void kill_pair(struct pair *p) {
  if (p->dead) return;
  p->dead = 1;
  close(p->fd[0]);
  close(p->fd[1]);
  p->next_dead = graveyard;
  graveyard = p;
}

/* Move direction d (fd[d] → fd[1 - d]) as far as it goes without blocking; -1: broken. */
static int pump_dir(struct pair *p, int d) {
  if (d == 1 && p->connecting) return 0;
  for (;;) {
    if (p->off[d] < p->len[d]) {
      /* while connecting too: on loopback the handshake is usually done by the time connect()
       * returns EINPROGRESS, so the request goes now, not a wake-up later (an unfinished
       * connection says EAGAIN, and its EPOLLOUT edge comes; a refused one says ECONNREFUSED) */
      ssize_t w = send(p->fd[1 - d], p->buf[d] + p->off[d], p->len[d] - p->off[d], MSG_NOSIGNAL);
      if (w < 0) { if (errno == EINTR) continue; return errno == EAGAIN ? 0 : -1; }
      p->connecting = 0;
      p->off[d] += (size_t)w;
      continue;
    }
    p->len[d] = p->off[d] = 0;
    if (p->eof[d]) {
      /* both ways done: the close that follows sends the FIN, no shutdown needed */
      if (!p->shut[d] && !p->connecting && !(p->eof[1 - d] && p->len[1 - d] == 0)) shutdown(p->fd[1 - d], SHUT_WR);
      if (!p->connecting) p->shut[d] = 1;
      return 0;
    }
    if (p->drained[d]) return 0;
    ssize_t n = recv(p->fd[d], p->buf[d], BUFSZ, 0);
    if (n > 0) { p->len[d] = (size_t)n; if (n < BUFSZ && !p->rdhup[d]) p->drained[d] = 1; continue; }
    if (n == 0) { p->eof[d] = 1; continue; }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) { p->drained[d] = 1; return 0; }
    return -1;
  }
}

static void pump(struct pair *p) {
  if (pump_dir(p, 0) < 0 || pump_dir(p, 1) < 0) { kill_pair(p); return; }
  if (p->eof[0] && p->eof[1] && !p->len[0] && !p->len[1]) kill_pair(p);
}

static void on_event(struct end *e, unsigned events) {
  struct pair *p = e->p;
  int i = e->side;
  if (p->dead) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) p->drained[i] = 0;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) p->rdhup[i] = 1;
  if (i == 1 && p->connecting) {
    if (events & (EPOLLERR | EPOLLHUP)) { kill_pair(p); return; } /* refused: the client sees its connection closed */
    if (!(events & EPOLLOUT)) return;
    p->connecting = 0;
  }
  pump(p);
}

static void accept_all(int l, int port) {
  for (;;) {
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) { if (errno == EINTR || errno == ECONNABORTED) continue; return; }
    int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct pair *p = u < 0 ? NULL : pair_new();
    if (!p) { close(c); if (u >= 0) close(u); continue; }
    int one = 1;
    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->fd[0] = c; p->fd[1] = u;
    p->drained[1] = 1; /* nothing to read upstream yet: its first bytes raise an edge (at the add, if already there) */
    p->ends[0] = (struct end){p, 0}; p->ends[1] = (struct end){p, 1};
    if (connect(u, (struct sockaddr *)&sa, sizeof sa) < 0) {
      if (errno != EINPROGRESS) { close(c); close(u); free(p); continue; }
      p->connecting = 1;
    }
    for (int i = 0; i < 2; i++) {
      struct epoll_event ev = {EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, {.ptr = &p->ends[i]}};
      epoll_ctl(ep, EPOLL_CTL_ADD, p->fd[i], &ev);
    }
    pump(p); /* the request is often there already: read it now, not after a wake-up */
  }
}

static void serve_tcp(int l, int port) {
  static int listener_tag;
  int one = 1;
  setsockopt(l, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ep = epoll_create1(EPOLL_CLOEXEC);
  fcntl(l, F_SETFL, fcntl(l, F_GETFL) | O_NONBLOCK);
  struct epoll_event lev = {EPOLLIN, {.ptr = &listener_tag}};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l, &lev) < 0) fail(125, "forward: epoll: %s", strerror(errno));
  struct epoll_event evs[64];
  for (;;) {
    int n = epoll_wait(ep, evs, 64, -1);
    if (n < 0) { if (errno == EINTR) continue; fail(125, "forward: epoll_wait: %s", strerror(errno)); }
    for (int k = 0; k < n; k++) {
      if (evs[k].data.ptr == &listener_tag) accept_all(l, port);
      else on_event(evs[k].data.ptr, evs[k].events);
    }
    while (graveyard) { struct pair *p = graveyard; graveyard = p->next_dead; pair_free(p); }
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
