/*
 * sbx-init's shared declarations: the parsed command line (struct opts), the one way to fail,
 * and the entry points of its parts (init.c: modes, privileges, exec; rootfs.c: the container's
 * mounts, devices and paths).
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
  const char *root, *rtype, *rsource, *rdata, *rcwd, *hostname, *cwd, *init_bin, *exit_file, *pid_file, *listen, *seccomp;
  const char *cgroups[MAX_LIST]; int ncgroups;
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
  unsigned long long caps;
  uid_t uid; gid_t gid; gid_t groups[MAX_LIST]; int ngroups;
  int lo_up, pid, port;
  char **cmd;
};

/* --status FILE, or -1: where fail() reports. */
extern int status_fd;

/* Report "CODE message" to the status file (or stderr) and _exit(code). */
void fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/*
 * Mount the container's root in the (new, private) mount namespace and pivot_root into it, then
 * set up /proc, /sys, /dev, the --bind files, --device nodes, --volume mounts, masked paths and the working
 * directory. Host files are opened before pivot_root; every path taken from the image or the
 * request is resolved after it, inside the container root. Fails with 125.
 */
void setup_root(struct opts *o);
/* seccomp.c: the compiled filter (--seccomp) is read before anything else (the file is on the
 * host) and loaded as the very last step before exec; the keyring is joined while still root (root's
 * key quota, not the container user's, pays for it). */
int sbx_seccomp_compile(const char *in, int out_fd, char *err, size_t n);
int sbx_seccomp_prepare(const char *path, char *err, size_t n);
int sbx_seccomp_load(char *err, size_t n);
int sbx_join_session_keyring(char *err, size_t n);
#endif
