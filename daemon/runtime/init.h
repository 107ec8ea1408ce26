/*
 * sbx-init's shared declarations: the parsed command line (struct opts), the one way to fail,
 * and the entry points of its parts (init.c: modes, privileges, exec; supervise.c: the parent
 * that stays; rootfs.c: the container's mounts, devices and paths; resolve.c: paths inside its root).
 */
#ifndef SBX_INIT_H
#define SBX_INIT_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LIST 32

struct opts {
  const char *root, *rtype, *rsource, *rdata, *rcwd, *hostname, *cwd, *init_bin, *exit_file, *pid_file, *seccomp;
  /* forward (forward.c): --proto tcp|udp, --host-ip, --host-port (0: any free), --port */
  const char *proto, *host_ip; int host_port;
  const char *cgroups[MAX_LIST]; int ncgroups;
  /* --cgroup-view HOSTDIR NAME: the container's own group shown read-only at /sys/fs/cgroup/NAME
   * (NAME "": at /sys/fs/cgroup itself, the unified hierarchy), as docker mounts it */
  const char *cgviews[MAX_LIST][2]; int ncgviews;
  /* --bind HOST CONTAINER: a host file bound onto a file in the container (/etc/hosts...) */
  const char *binds[MAX_LIST][2]; int nbinds;
  /* --volume HOST CONTAINER ro|rw: a host directory or file bound into the container (nodev; the
   * build's RUN --mount), the target made inside the root where missing */
  const char *volumes[MAX_LIST][3]; int nvolumes;
  /* --tmpfs CONTAINER FLAGS DATA: a fresh tmpfs (mount flags in hex, tmpfs options), after the volumes */
  const char *tmpfs[MAX_LIST][3]; int ntmpfs;
  /* --device HOST CONTAINER: a host device node bound into the container */
  const char *devices[MAX_LIST][2]; int ndevices;
  /* --privileged: every host device node in /dev, no masked or read-only /proc and /sys paths */
  int privileged;
  /* --read-only: the root remounted read-only after every mount is made; --shm-size: /dev/shm's size= */
  int read_only; const char *shm_size;
  unsigned long long caps;
  uid_t uid; gid_t gid; gid_t groups[MAX_LIST]; int ngroups;
  int lo_up, pid, port;
  /* --net NETNS HOSTIF BRIDGE ADDR PREFIX GATEWAY MTU MAC (net.c); net_ns NULL: no network to join */
  const char *net_ns, *net_if, *net_bridge, *net_addr, *net_prefix, *net_gw, *net_mtu, *net_mac;
  /* --console-fd FD --tty COLS ROWS: allocate a terminal in the container and send its master over FD (tty.c) */
  int console_fd, tty_cols, tty_rows;
  char **cmd;
};

/* --status FILE, or -1: where fail() reports. */
extern int status_fd;

/* Report "CODE message" to the status file (or stderr) and _exit(code). */
void fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* supervise.c: open this binary and sbx-wait beside it, before anything changes our root. */
void supervise_open_waiters(void);
/* supervise.c: fork; the child runs child_main(o) (and never returns), the parent waits for it
 * (in a fresh image when it can) and returns or dies as the child did. */
int supervise(struct opts *o, void (*child_main)(struct opts *));
/* supervise.c: `sbx-init wait CHILD EXIT_FD`, supervise's second half (signals arrive blocked). */
int supervise_resume(pid_t child, int exit_fd);
/*
 * Mount the container's root in the (new, private) mount namespace and pivot_root into it, then
 * set up /proc, /sys, /dev, the --bind files, --device nodes, --volume mounts, masked paths and the working
 * directory. Host files are opened before pivot_root; every path taken from the image or the
 * request is resolved after it, inside the container root. Fails with 125.
 */
void setup_root(struct opts *o);
/*
 * resolve.c: resolve `path` inside "/" (the container root, after pivot_root) the way runc's
 * securejoin does, component by component, following symlinks by hand with ".." stopping at the
 * root. Missing directories are created (CREATE_PARENTS: all but the last component; CREATE_ALL:
 * every one), inside the root even where a symlink pointed at a host path. Writes the resolved
 * path (no symlinks left, at most PATH_MAX bytes) to out; returns -1 when a component is missing
 * under NO_CREATE. Fails with 125.
 */
enum { NO_CREATE, CREATE_PARENTS, CREATE_ALL };
int resolve_in_root(const char *path, char *out, int create);
/* tty.c: open the container's ptmx (a path inside its root), send the master to --console-fd, make
 * the slave the controlling terminal and stdio; console (or NULL) gets a bind of the slave. Fails with 125. */
void setup_tty(struct opts *o, const char *ptmx, const char *console);
/* seccomp.c: the compiled filter (--seccomp) is read before anything else (the file is on the
 * host) and loaded as the very last step before exec; the keyring is joined while still root (root's
 * key quota, not the container user's, pays for it). */
int sbx_seccomp_compile(const char *in, int out_fd, char *err, size_t n);
int sbx_seccomp_prepare(const char *path, char *err, size_t n);
int sbx_seccomp_load(char *err, size_t n);
int sbx_join_session_keyring(char *err, size_t n);
/* net.c: put the (new) network namespace we are in on the network --net names. Fails with 125. */
void net_attach(struct opts *o);
/* net.c: `sbx-init hold`, the process that keeps a network's namespace (see there). */
int net_hold(int on_demand, unsigned mtu);
/* forward.c: `sbx-init forward`, one published port (see there). */
int port_forward(struct opts *o);
#endif
