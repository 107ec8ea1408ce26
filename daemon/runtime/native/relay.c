/*
 * The terminal relay (part of sbx-console.node): one thread that moves the bytes of every
 * container terminal, so that a keystroke and its echo never wait for JavaScript.
 *
 * Each channel is one pty master. The thread reads it and reports the output to the daemon as
 * events; it writes the daemon's input to it. A channel may be tied to a client's own terminal
 * (the local CLI's tty, opened by the daemon): the thread then reads keys from that terminal
 * and writes them to the master itself, and writes the master's output to the terminal before it
 * reports it, so the echo of a key goes terminal → thread → pty → shell → pty → thread → terminal.
 *
 * Rules the daemon relies on (pty.ts, relay.ts):
 * - Output is reported in the order it was read (EV_DATA), each byte once. While tied, a byte is
 *   reported only once it is on the terminal, so "reported" means "shown" and an exit that the
 *   daemon announces after the last EV_DATA comes after the last byte on the screen. A terminal
 *   that does not take output (a stopped screen) holds the master: the process waits, as with a
 *   TTY docker or podman attach.
 * - EV_END after the master's EIO (every slave closed), after the last EV_DATA.
 * - TIE puts the channel on hold and reports EV_TIED in order with the output: everything reported
 *   before it was not shown, everything after will be. The daemon answers RELEASE with what the
 *   client must see first (its replay); only then is the master read again.
 * - Keys: docker's detach sequence is held back as it is typed and, complete, unties the
 *   terminal (EV_ESCAPED); a partial match that does not go on is released. A terminal that
 *   hangs up or fails is untied (EV_GONE). An untied terminal is closed at once and never read
 *   again, so no key typed after the end goes anywhere.
 * - Keys are read only while the client process (its /proc/PID/stat, given with TIE) runs: while
 *   it is stopped they stay in the terminal for whoever has it then (the user's shell), and once
 *   it is gone the terminal is untied (EV_GONE) without waiting for the daemon to hear of it.
 * - Every WRITE is followed, once the input queued for the master is empty, by an EV_DRAINED.
 * - Commands come through a locked queue and an eventfd; events go out through one end of a
 *   socketpair that the daemon reads (12-byte header: id, kind, length; then the bytes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>
#include <unistd.h>

enum { EV_DATA = 1, EV_END, EV_TIED, EV_ESCAPED, EV_GONE, EV_DRAINED };
enum { C_OPEN = 1, C_MASTER, C_WRITE, C_INJECT, C_PAUSE, C_RESUME, C_TIE, C_RELEASE, C_UNTIE, C_CLOSE };
enum { T_NONE, T_HOLD, T_ON };
#define READ_MAX 65536
#define IN_LIMIT (1 << 20)
/* How often the keys of a stopped client are looked at again. */
#define ASLEEP_MS 50

struct buf { unsigned char *p; size_t off, len, cap; };
struct cmd { struct cmd *next; int op, a, b, c; uint32_t id; size_t n; unsigned char data[]; };
struct chan {
  uint32_t id;
  int master, paused, ended, end_sent;
  struct buf in, out, pre;
  int tie, tin, tout, nkeys, held, proc, asleep;
  unsigned char keys[16];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct cmd *queue_head, **queue_tail = &queue_head;
static int wake_fd = -1, ev_fd = -1, js_fd = -1;
static struct chan **chans;
static size_t nchans, chans_cap;
static unsigned char rbuf[READ_MAX];

static size_t pending(const struct buf *b) { return b->len - b->off; }
static void drop(struct buf *b) { free(b->p); memset(b, 0, sizeof *b); }
static int append(struct buf *b, const unsigned char *p, size_t n) {
  if (!n) return 0;
  if (b->off && b->off == b->len) b->off = b->len = 0;
  if (b->len + n > b->cap) {
    if (b->off) { memmove(b->p, b->p + b->off, b->len - b->off); b->len -= b->off; b->off = 0; }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) return -1;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

static void emit(uint32_t id, uint32_t kind, const void *p, size_t n) {
  uint32_t h[3] = {id, kind, (uint32_t)n};
  struct iovec iov[2] = {{h, sizeof h}, {(void *)p, n}};
  size_t left = sizeof h + n;
  int cnt = n ? 2 : 1;
  struct iovec *v = iov;
  while (left) {
    ssize_t w = writev(ev_fd, v, cnt);
    if (w < 0) { if (errno == EINTR) continue; return; } /* the daemon is gone */
    left -= (size_t)w;
    while (cnt && (size_t)w >= v->iov_len) { w -= (ssize_t)v->iov_len; v++; cnt--; }
    if (cnt) { v->iov_base = (char *)v->iov_base + w; v->iov_len -= (size_t)w; }
  }
}

static void maybe_end(struct chan *c) {
  if (c->ended && !c->end_sent && !pending(&c->out)) { c->end_sent = 1; emit(c->id, EV_END, NULL, 0); }
}

/* The terminal is let go: closed, never read again; output it did not take is reported unshown. */
static void untie(struct chan *c, int kind) {
  if (c->tie == T_NONE) return;
  close(c->tin);
  if (c->tout != c->tin) close(c->tout);
  if (c->proc >= 0) close(c->proc);
  c->tin = c->tout = c->proc = -1;
  c->asleep = 0;
  c->tie = T_NONE;
  c->held = 0;
  drop(&c->pre);
  if (pending(&c->out)) emit(c->id, EV_DATA, c->out.p + c->out.off, pending(&c->out));
  drop(&c->out);
  if (kind) emit(c->id, (uint32_t)kind, NULL, 0);
  maybe_end(c);
}

/* Write what the terminal takes of pre, then of out (out is reported as it goes). */
static void flush_terminal(struct chan *c) {
  struct buf *bs[2] = {&c->pre, &c->out};
  for (int i = 0; i < 2 && c->tie == T_ON; i++) {
    struct buf *b = bs[i];
    while (pending(b)) {
      ssize_t w = write(c->tout, b->p + b->off, pending(b));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) return;
      if (w <= 0) { untie(c, EV_GONE); return; }
      if (b == &c->out) emit(c->id, EV_DATA, b->p + b->off, (size_t)w);
      b->off += (size_t)w;
    }
    drop(b);
  }
  maybe_end(c);
}

/* Output of the process (read from the master or injected): shown first when tied. */
static void output(struct chan *c, const unsigned char *p, size_t n) {
  if (c->tie == T_NONE) { emit(c->id, EV_DATA, p, n); return; }
  if (append(&c->out, p, n) < 0) { emit(c->id, EV_DATA, p, n); return; }
  if (c->tie == T_ON && !pending(&c->pre)) flush_terminal(c);
}

static void to_master(struct chan *c, const unsigned char *p, size_t n) {
  if (c->master < 0 || c->ended) { if (c->master < 0) append(&c->in, p, n); return; }
  size_t done = 0;
  if (!pending(&c->in)) {
    while (done < n) {
      ssize_t w = write(c->master, p + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) break;
      if (w <= 0) return; /* the terminal is closing: input goes nowhere, as on a hung-up tty */
      done += (size_t)w;
    }
  }
  append(&c->in, p + done, n - done);
}

static void read_master(struct chan *c) {
  ssize_t n = read(c->master, rbuf, sizeof rbuf);
  if (n > 0) { output(c, rbuf, (size_t)n); return; }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  c->ended = 1; /* EIO: every slave closed and all output read; the terminal is let go at once */
  untie(c, 0);
  maybe_end(c);
}

/* The tied client process: 1 runs, 0 stopped, -1 gone (exited, or its stat unreadable). */
static int client_state(const struct chan *c) {
  if (c->proc < 0) return 1;
  char b[512];
  ssize_t n = pread(c->proc, b, sizeof b - 1, 0);
  if (n <= 0) return -1;
  b[n] = 0;
  const char *s = strrchr(b, ')'); /* "pid (comm) S ...": comm may hold anything */
  if (!s || s[1] != ' ') return -1;
  switch (s[2]) {
  case 'T': case 't': return 0;
  case 'Z': case 'X': case 'x': return -1;
  default: return 1;
  }
}

static void close_tie_cmd(const struct cmd *m) {
  close(m->a);
  if (m->b != m->a) close(m->b);
  if (m->c >= 0) close(m->c);
}

static void read_keys(struct chan *c) {
  int st = client_state(c);
  if (st < 0) { untie(c, EV_GONE); return; }
  if (st == 0) { c->asleep = 1; return; }
  unsigned char k[4096], pass[4096 + 16];
  ssize_t n = read(c->tin, k, sizeof k);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) { untie(c, EV_GONE); return; }
  size_t np = 0;
  for (ssize_t i = 0; i < n; i++) {
    if (c->nkeys && k[i] == c->keys[c->held]) {
      if (++c->held == c->nkeys) { to_master(c, pass, np); untie(c, EV_ESCAPED); return; }
      continue;
    }
    for (int j = 0; j < c->held; j++) pass[np++] = c->keys[j];
    c->held = 0;
    if (c->nkeys && k[i] == c->keys[0]) c->held = 1; else pass[np++] = k[i];
  }
  to_master(c, pass, np);
}

static void write_master(struct chan *c) {
  while (pending(&c->in)) {
    ssize_t w = write(c->master, c->in.p + c->in.off, pending(&c->in));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w <= 0) break;
    c->in.off += (size_t)w;
  }
  drop(&c->in);
  emit(c->id, EV_DRAINED, NULL, 0);
}

static struct chan *find(uint32_t id, size_t *at) {
  for (size_t i = 0; i < nchans; i++) if (chans[i]->id == id) { if (at) *at = i; return chans[i]; }
  return NULL;
}

static void run_cmd(struct cmd *m) {
  size_t at = 0;
  struct chan *c = find(m->id, &at);
  if (m->op == C_OPEN) {
    if (c || (nchans == chans_cap && !(chans = realloc(chans, (chans_cap = chans_cap ? chans_cap * 2 : 16) * sizeof *chans)))) return;
    if (!(c = calloc(1, sizeof *c))) return;
    c->id = m->id; c->master = c->tin = c->tout = c->proc = -1;
    chans[nchans++] = c;
    return;
  }
  if (!c) { if (m->op == C_TIE) close_tie_cmd(m); return; }
  switch (m->op) {
  case C_MASTER:
    c->master = m->a;
    fcntl(c->master, F_SETFL, fcntl(c->master, F_GETFL) | O_NONBLOCK);
    if (pending(&c->in)) write_master(c);
    break;
  case C_WRITE: to_master(c, m->data, m->n); if (!pending(&c->in)) emit(c->id, EV_DRAINED, NULL, 0); break;
  case C_INJECT: output(c, m->data, m->n); break;
  case C_PAUSE: c->paused = 1; break;
  case C_RESUME: c->paused = 0; break;
  case C_TIE:
    untie(c, 0);
    if (c->ended) { close_tie_cmd(m); emit(c->id, EV_GONE, NULL, 0); break; }
    c->tin = m->a; c->tout = m->b; c->proc = m->c; c->tie = T_HOLD; c->held = 0;
    c->nkeys = m->n > sizeof c->keys ? (int)sizeof c->keys : (int)m->n;
    memcpy(c->keys, m->data, (size_t)c->nkeys);
    emit(c->id, EV_TIED, NULL, 0);
    break;
  case C_RELEASE:
    if (c->tie != T_HOLD) break;
    c->tie = T_ON;
    append(&c->pre, m->data, m->n);
    flush_terminal(c);
    break;
  case C_UNTIE: untie(c, 0); break;
  case C_CLOSE:
    untie(c, 0);
    if (c->master >= 0) close(c->master);
    drop(&c->in);
    free(c);
    chans[at] = chans[--nchans];
    break;
  }
}

static void *loop(void *arg) {
  (void)arg;
  struct pollfd *pf = NULL;
  struct { struct chan *c; int role; } *who = NULL;
  size_t cap = 0;
  for (;;) {
    if (cap < 1 + 3 * nchans) {
      cap = 16 + 3 * nchans;
      pf = realloc(pf, cap * sizeof *pf);
      who = realloc(who, cap * sizeof *who);
      if (!pf || !who) abort();
    }
    size_t n = 0;
    int timeout = -1;
    pf[n++] = (struct pollfd){wake_fd, POLLIN, 0};
    for (size_t i = 0; i < nchans; i++) {
      struct chan *c = chans[i];
      if (c->asleep) {
        int st = client_state(c);
        if (st < 0) untie(c, EV_GONE);
        else if (st > 0) c->asleep = 0;
        else timeout = ASLEEP_MS;
      }
      if (c->master >= 0 && !c->ended) {
        short ev = 0;
        if (!c->paused && c->tie != T_HOLD && !pending(&c->out)) ev |= POLLIN;
        if (pending(&c->in)) ev |= POLLOUT;
        if (ev) { who[n].c = c; who[n].role = 0; pf[n++] = (struct pollfd){c->master, ev, 0}; }
      }
      if (c->tie != T_NONE && !c->asleep && pending(&c->in) < IN_LIMIT) { who[n].c = c; who[n].role = 1; pf[n++] = (struct pollfd){c->tin, POLLIN, 0}; }
      if (c->tie == T_ON && (pending(&c->pre) || pending(&c->out))) { who[n].c = c; who[n].role = 2; pf[n++] = (struct pollfd){c->tout, POLLOUT, 0}; }
    }
    if (poll(pf, n, timeout) < 0) continue;
    if (pf[0].revents) {
      uint64_t v;
      if (read(wake_fd, &v, sizeof v) < 0) { /* EAGAIN: nothing queued */ }
      pthread_mutex_lock(&mu);
      struct cmd *m = queue_head;
      queue_head = NULL;
      queue_tail = &queue_head;
      pthread_mutex_unlock(&mu);
      while (m) { struct cmd *next = m->next; run_cmd(m); free(m); m = next; }
      continue; /* channels may have changed: poll afresh */
    }
    for (size_t i = 1; i < n; i++) {
      if (!pf[i].revents) continue;
      struct chan *c = who[i].c;
      if (who[i].role == 0) {
        if (pending(&c->in) && (pf[i].revents & (POLLOUT | POLLERR))) write_master(c);
        if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) read_master(c);
      } else if (who[i].role == 1) {
        if (c->tie != T_NONE && c->tin == pf[i].fd) read_keys(c);
      } else if (c->tie == T_ON && c->tout == pf[i].fd) {
        flush_terminal(c);
      }
    }
  }
  return NULL;
}

/* Start the thread once; the fd the daemon reads events from, or -1 with errno set. */
int relay_open(void) {
  if (js_fd >= 0) return js_fd;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  if ((wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) { close(sv[0]); close(sv[1]); return -1; }
  int size = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ev_fd = sv[0];
  pthread_attr_t attr;
  pthread_t t;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int err = pthread_create(&t, &attr, loop, NULL);
  pthread_attr_destroy(&attr);
  if (err) { errno = err; return -1; }
  return js_fd = sv[1];
}

/* Queue one command (the bytes are copied); 0, or -1 when out of memory. */
int relay_send(int op, uint32_t id, int a, int b, int c, const void *data, size_t n) {
  struct cmd *m = malloc(sizeof *m + n);
  if (!m) return -1;
  m->next = NULL; m->op = op; m->id = id; m->a = a; m->b = b; m->c = c; m->n = n;
  if (n) memcpy(m->data, data, n);
  pthread_mutex_lock(&mu);
  *queue_tail = m;
  queue_tail = &m->next;
  pthread_mutex_unlock(&mu);
  uint64_t one = 1;
  if (write(wake_fd, &one, sizeof one) < 0) { /* the counter is already set: the thread will look */ }
  return 0;
}
