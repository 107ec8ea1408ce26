/*
 * sbx-console.node: the daemon's end of the console socket (tty.c is the container's end). Node
 * cannot receive a file descriptor over a unix socket, nor ioctl one, so this N-API addon does
 * the calls it needs, nothing else:
 *   pair()               → [daemonFd, childFd]  a socketpair, both close-on-exec (spawn dups childFd)
 *   receive(fd, ms)      → Promise<{ fd, name }> the pty master sent with SCM_RIGHTS (rejects on
 *                          EOF: the sender died first, or after ms); recvmsg runs on the thread pool
 *   resize(fd, cols, rows)  TIOCSWINSZ on the master (the kernel sends SIGWINCH inside)
 * and one the daemon's memory needs (util/settle.ts), as Node has no binding for it either:
 *   peer(fd)             → { pid, uid } of a unix socket's client (SO_PEERCRED), else null
 *   trimMalloc()         malloc_trim(0): glibc hands its free pages back to the kernel
 * and the terminal relay's two entries (relay.c: the thread that moves every terminal's bytes):
 *   relayStart()         → the fd its events are read from
 *   relay(op, id, a, b, bytes?, c?)  one command to it
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, #call " failed"); return NULL; } } while (0)

static napi_value pair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) { napi_throw_error(env, NULL, strerror(errno)); return NULL; }
  napi_value arr, a, b;
  CHECK(napi_create_array_with_length(env, 2, &arr));
  CHECK(napi_create_int32(env, sv[0], &a));
  CHECK(napi_create_int32(env, sv[1], &b));
  CHECK(napi_set_element(env, arr, 0, a));
  CHECK(napi_set_element(env, arr, 1, b));
  return arr;
}

struct recv_job {
  napi_async_work work;
  napi_deferred deferred;
  int sock, timeout, fd, err;
  char name[64];
};

static void recv_execute(napi_env env, void *data) {
  (void)env;
  struct recv_job *j = data;
  struct pollfd p = {j->sock, POLLIN, 0};
  int r;
  while ((r = poll(&p, 1, j->timeout)) < 0 && errno == EINTR) {}
  if (r == 0) { j->err = ETIMEDOUT; return; }
  if (r < 0) { j->err = errno; return; }
  char ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {j->name, sizeof j->name - 1};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  while ((n = recvmsg(j->sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) < 0 && errno == EINTR) {}
  if (n < 0) { j->err = errno; return; }
  j->name[n] = 0;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) { j->err = EPIPE; return; }
  memcpy(&j->fd, CMSG_DATA(c), sizeof(int));
}

static void recv_complete(napi_env env, napi_status status, void *data) {
  struct recv_job *j = data;
  napi_value v;
  if (status == napi_ok && j->fd >= 0) {
    napi_value fd, name;
    napi_create_object(env, &v);
    napi_create_int32(env, j->fd, &fd);
    napi_create_string_utf8(env, j->name, NAPI_AUTO_LENGTH, &name);
    napi_set_named_property(env, v, "fd", fd);
    napi_set_named_property(env, v, "name", name);
    napi_resolve_deferred(env, j->deferred, v);
  } else {
    napi_value msg, code;
    napi_create_string_utf8(env, j->err == EPIPE ? "the terminal was not sent" : strerror(j->err), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &v);
    napi_create_string_utf8(env, j->err == ETIMEDOUT ? "ETIMEDOUT" : "EPIPE", NAPI_AUTO_LENGTH, &code);
    napi_set_named_property(env, v, "code", code);
    napi_reject_deferred(env, j->deferred, v);
  }
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value receive(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], promise, name;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct recv_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  j->fd = -1;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &j->sock) != napi_ok || napi_get_value_int32(env, argv[1], &j->timeout) != napi_ok) {
    free(j);
    napi_throw_type_error(env, NULL, "receive(fd, timeoutMs)");
    return NULL;
  }
  CHECK(napi_create_promise(env, &j->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "sbx-console-receive", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, recv_execute, recv_complete, j, &j->work));
  CHECK(napi_queue_async_work(env, j->work));
  return promise;
}

static napi_value resize(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int fd, cols, rows;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &cols) != napi_ok ||
      napi_get_value_int32(env, argv[2], &rows) != napi_ok) { napi_throw_type_error(env, NULL, "resize(fd, cols, rows)"); return NULL; }
  struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) { napi_throw_error(env, NULL, strerror(errno)); return NULL; }
  return NULL;
}

/* peer(fd) → { pid, uid } of a unix socket's other end (SO_PEERCRED), or null for any other socket. */
static napi_value peer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v, pid, uid;
  int fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) { napi_throw_type_error(env, NULL, "peer(fd)"); return NULL; }
  struct sockaddr_storage sa;
  socklen_t salen = sizeof sa;
  struct ucred cred;
  socklen_t clen = sizeof cred;
  if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0 || sa.ss_family != AF_UNIX ||
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.pid <= 0) {
    CHECK(napi_get_null(env, &v));
    return v;
  }
  CHECK(napi_create_object(env, &v));
  CHECK(napi_create_int32(env, cred.pid, &pid));
  CHECK(napi_create_uint32(env, cred.uid, &uid));
  CHECK(napi_set_named_property(env, v, "pid", pid));
  CHECK(napi_set_named_property(env, v, "uid", uid));
  return v;
}

static napi_value trim_malloc(napi_env env, napi_callback_info info) {
  (void)env; (void)info;
  malloc_trim(0);
  return NULL;
}

int relay_open(void);
int relay_send(int op, uint32_t id, int a, int b, int c, const void *data, size_t n);

/* relayStart() → the fd the relay's events are read from (its thread starts on the first call). */
static napi_value relay_start(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = relay_open();
  if (fd < 0) { napi_throw_error(env, NULL, strerror(errno)); return NULL; }
  napi_value v;
  CHECK(napi_create_int32(env, fd, &v));
  return v;
}

/* relay(op, id, a, b, bytes?, c?): one command for the relay's thread (c: a third fd, default -1). */
static napi_value relay_command(napi_env env, napi_callback_info info) {
  size_t argc = 6, n = 0;
  napi_value argv[6];
  int op, a, b, c = -1;
  uint32_t id;
  void *data = NULL;
  bool typed = false;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || napi_get_value_int32(env, argv[0], &op) != napi_ok || napi_get_value_uint32(env, argv[1], &id) != napi_ok ||
      napi_get_value_int32(env, argv[2], &a) != napi_ok || napi_get_value_int32(env, argv[3], &b) != napi_ok) {
    napi_throw_type_error(env, NULL, "relay(op, id, a, b, bytes?)");
    return NULL;
  }
  if (argc > 4 && napi_is_typedarray(env, argv[4], &typed) == napi_ok && typed) {
    napi_typedarray_type type;
    CHECK(napi_get_typedarray_info(env, argv[4], &type, &n, &data, NULL, NULL));
  }
  if (argc > 5 && napi_get_value_int32(env, argv[5], &c) != napi_ok) c = -1;
  if (relay_send(op, id, a, b, c, data, n) < 0) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"pair", NULL, pair, NULL, NULL, NULL, napi_default, NULL},
    {"receive", NULL, receive, NULL, NULL, NULL, napi_default, NULL},
    {"resize", NULL, resize, NULL, NULL, NULL, napi_default, NULL},
    {"trimMalloc", NULL, trim_malloc, NULL, NULL, NULL, napi_default, NULL},
    {"peer", NULL, peer, NULL, NULL, NULL, napi_default, NULL},
    {"relayStart", NULL, relay_start, NULL, NULL, NULL, napi_default, NULL},
    {"relay", NULL, relay_command, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof *props, props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
