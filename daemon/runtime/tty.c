/*
 * The container's terminal (`-t`), allocated from the container's own devpts the way runc's
 * console socket does it: after the process is inside the container's root, open its
 * /dev/pts/ptmx, unlock the pair, set the size, hand the master to the daemon over the unix
 * socket --console-fd with SCM_RIGHTS (the pty name as the payload), then make the slave the
 * process's controlling terminal and its stdio. The daemon never sees a host pts, and the
 * process's terminal is a /dev/pts/N that exists in the container.
 */
#include "init.h"
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#define DEVPTS_MAGIC 0x1cd1

static void send_fd(int sock, int fd, const char *name) {
  struct msghdr msg;
  struct iovec iov = {(void *)name, strlen(name)};
  char ctl[CMSG_SPACE(sizeof(int))];
  memset(&msg, 0, sizeof msg);
  memset(ctl, 0, sizeof ctl);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) if (errno != EINTR) fail(125, "send the terminal to the daemon: %s", strerror(errno));
}

void setup_tty(struct opts *o, const char *ptmx, const char *console) {
  int master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
  if (master < 0) fail(125, "open the container's %s: %s", ptmx, strerror(errno));
  /* only the ptmx of a devpts instance: never a node that leads to another one */
  struct stat st;
  struct statfs sf;
  if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2 ||
      fstatfs(master, &sf) < 0 || sf.f_type != DEVPTS_MAGIC) fail(125, "%s in the container is not a devpts ptmx", ptmx);
  int unlock = 0, n = -1;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) fail(125, "unlock the terminal: %s", strerror(errno));
  if (o->tty_cols > 0 && o->tty_rows > 0) {
    struct winsize ws = {(unsigned short)o->tty_rows, (unsigned short)o->tty_cols, 0, 0};
    ioctl(master, TIOCSWINSZ, &ws);
  }
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail(125, "open the terminal's slave: %s", strerror(errno));
  char name[32];
  snprintf(name, sizeof name, "/dev/pts/%d", n);
  /* docker binds the terminal over /dev/console too */
  if (console) {
    int f = open(console, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f >= 0) close(f);
    char from[64];
    snprintf(from, sizeof from, "/proc/self/fd/%d", slave);
    if (mount(from, console, NULL, MS_BIND, NULL) < 0) fail(125, "bind the terminal on /dev/console: %s", strerror(errno));
  }
  send_fd(o->console_fd, master, name);
  close(master);
  close(o->console_fd);
  o->console_fd = -1;
  if (setsid() < 0) fail(125, "setsid: %s", strerror(errno));
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail(125, "make the terminal controlling: %s", strerror(errno));
  /* runc's fixStdioPermissions: the user owns its terminal (the group stays tty) */
  if (fchown(slave, o->uid, (gid_t)-1) < 0) fail(125, "chown the terminal: %s", strerror(errno));
  for (int i = 0; i < 3; i++) if (dup2(slave, i) < 0) fail(125, "dup the terminal: %s", strerror(errno));
  if (slave > 2) close(slave);
}
