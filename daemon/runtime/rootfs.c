/*
 * The container's file system view, built by `sbx-init create` inside its new mount namespace.
 *
 * Two phases. Before pivot_root, the only paths used are the daemon's own (the root mount, the
 * /etc files it wrote, the host device nodes, tini): each is cloned into a detached bind mount
 * (open_tree OPEN_TREE_CLONE). pivot_root then makes the container root "/" of this mount
 * namespace, and the old root is detached: from there on every path that comes from the image or
 * the request (/proc /sys /dev mount points, /etc/hosts, --device targets, the working directory)
 * is resolved by resolve_in_root() (resolve.c), where no symlink and no ".." can leave the root, and the clones
 * are attached there with move_mount.
 *
 * Devices: /dev is a nodev tmpfs and the root is mounted nodev (as is /dev/shm), so a node made
 * with mknod anywhere does not open; the allowed host nodes are bind mounts, which keep the
 * flags of the host's /dev. --privileged: a /dev that allows nodes, with every host node in it.
 */
#include "init.h"
#include <dirent.h>
#include <limits.h>

static const char *STD_DEVS[] = {"null", "zero", "full", "random", "urandom", "tty"};
#define NSTD (sizeof STD_DEVS / sizeof *STD_DEVS)

/* The host side, opened before pivot_root. */
struct host {
  int std[NSTD], init, sys;
  int cgviews[MAX_LIST];
  int binds[MAX_LIST], devices[MAX_LIST], volumes[MAX_LIST];
  struct hostdev { char path[128]; mode_t mode; dev_t rdev; } *nodes; int nnodes; /* --privileged */
};

static void xmount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  if (mount(src, dst, type, flags, data) < 0) fail(125, "mount %s on %s: %s", type ? type : src, dst, strerror(errno));
}

/* A detached bind mount of a host path: it survives pivot_root and is attached later by move_mount
 * (a plain bind from the detached old root would be refused). It keeps the host mount's flags. */
static int open_host(const char *path, int recursive) {
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (fd < 0) fail(125, "clone mount of %s: %s", path, strerror(errno));
  return fd;
}

/* --volume's host side: the daemon resolved the path (no link in it), so a link found at its last
 * component now was swapped in since: refused (AT_SYMLINK_NOFOLLOW) rather than followed. */
static int open_volume(const char *path) {
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
  if (fd < 0) fail(125, "volume %s: %s", path, strerror(errno));
  return fd;
}

static void attach(int fd, const char *target) {
  if (syscall(SYS_move_mount, fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) fail(125, "attach mount on %s: %s", target, strerror(errno));
  close(fd);
}

static int is_dir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }

/* Bind the host file behind fd onto `path` in the container, creating an empty file there if need be. */
static void bind_in(int fd, const char *path, unsigned long extra) {
  char p[PATH_MAX];
  resolve_in_root(path, p, CREATE_PARENTS);
  struct stat st;
  if (lstat(p, &st) < 0) {
    int f = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0) fail(125, "create %s in the container: %s", p, strerror(errno));
    close(f);
  }
  attach(fd, p);
  if (extra) xmount(NULL, p, NULL, MS_BIND | MS_REMOUNT | extra, NULL);
}

/* --volume: a host directory (or file) onto `path`, made inside the root where missing; nodev always,
 * read-only on request. The flags are set on the detached tree before it is attached. */
static void volume_in(int fd, const char *path, int readonly) {
  struct stat st;
  if (fstat(fd, &st) < 0) fail(125, "volume %s: %s", path, strerror(errno));
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0)};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) fail(125, "volume %s: set mount flags: %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode)) { bind_in(fd, path, 0); return; }
  char p[PATH_MAX];
  resolve_in_root(path, p, CREATE_ALL);
  if (!is_dir(p)) fail(125, "volume %s: not a directory in the container", path);
  attach(fd, p);
}

/* --tmpfs: a fresh tmpfs on `path`, made inside the root where missing; nodev always. */
static void tmpfs_in(const char *path, const char *flags, const char *data) {
  char p[PATH_MAX];
  resolve_in_root(path, p, CREATE_ALL);
  if (!is_dir(p)) fail(125, "tmpfs %s: not a directory in the container", path);
  xmount("tmpfs", p, "tmpfs", strtoul(flags, NULL, 16) | MS_NODEV, data);
}

/* --privileged: every device node under the host's /dev (but its pty and shm mounts). */
static void scan_host_dev(struct host *h, const char *rel, int depth) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "/dev%s%s", *rel ? "/" : "", rel);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char sub[128], p[PATH_MAX];
    if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof sub) continue;
    snprintf(p, sizeof p, "/dev/%s", sub);
    struct stat st;
    if (lstat(p, &st) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < 3 && strcmp(sub, "pts") && strcmp(sub, "shm") && strcmp(sub, "mqueue") && strcmp(sub, "hugepages")) scan_host_dev(h, sub, depth + 1);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      if (h->nnodes % 64 == 0 && !(h->nodes = realloc(h->nodes, (h->nnodes + 64) * sizeof *h->nodes))) fail(125, "out of memory");
      struct hostdev *n = &h->nodes[h->nnodes++];
      snprintf(n->path, sizeof n->path, "%s", sub);
      n->mode = st.st_mode;
      n->rdev = st.st_rdev;
    }
  }
  closedir(d);
}

static void open_host_side(struct opts *o, struct host *h) {
  char p[64];
  for (unsigned i = 0; i < NSTD; i++) { snprintf(p, sizeof p, "/dev/%s", STD_DEVS[i]); h->std[i] = open_host(p, 0); }
  h->init = o->init_bin ? open_host(o->init_bin, 0) : -1;
  h->sys = open_host("/sys", 1);
  /* the fallback when sysfs cannot be mounted: a read-only copy of the host's, submounts included */
  struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
  if (syscall(SYS_mount_setattr, h->sys, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof ro) < 0) fail(125, "make /sys copy read-only: %s", strerror(errno));
  for (int i = 0; i < o->nbinds; i++) h->binds[i] = open_host(o->binds[i][0], 0);
  for (int i = 0; i < o->ncgviews; i++) {
    h->cgviews[i] = open_host(o->cgviews[i][0], 0);
    if (syscall(SYS_mount_setattr, h->cgviews[i], "", AT_EMPTY_PATH, &ro, sizeof ro) < 0) fail(125, "make cgroup view read-only: %s", strerror(errno));
  }
  for (int i = 0; i < o->nvolumes; i++) h->volumes[i] = open_volume(o->volumes[i][0]);
  for (int i = 0; i < o->ndevices; i++) {
    h->devices[i] = open_host(o->devices[i][0], 0);
    struct stat st;
    if (fstat(h->devices[i], &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) fail(125, "device %s: not a device node", o->devices[i][0]);
  }
  h->nodes = NULL;
  h->nnodes = 0;
  if (o->privileged) scan_host_dev(h, "", 0);
}

/* The gid of the image's tty group (its /etc/group, read inside the root), or -1: the devpts gid= option. */
static int tty_gid(void) {
  char p[PATH_MAX], buf[65536];
  if (resolve_in_root("/etc/group", p, NO_CREATE) < 0) return -1;
  int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return -1;
  struct stat st;
  ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf - 1) : -1;
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, "tty:", 4) != 0) continue;
    char *f = strchr(line + 4, ':');
    if (!f || f[1] < '0' || f[1] > '9') return -1;
    long g = strtol(f + 1, &f, 10);
    return (*f == ':' || *f == '\n' || *f == 0) && g < 65536 ? (int)g : -1;
  }
  return -1;
}

static void setup_dev(struct opts *o, struct host *h) {
  char dev[PATH_MAX], p[PATH_MAX + 64];
  resolve_in_root("/dev", dev, CREATE_ALL);
  /* nodev: a node made with mknod here does not open; the binds below keep the host's flags */
  xmount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME | (o->privileged ? 0 : MS_NODEV), "mode=755,size=65536k");
  for (unsigned i = 0; i < NSTD; i++) {
    snprintf(p, sizeof p, "/dev/%s", STD_DEVS[i]);
    bind_in(h->std[i], p, 0);
  }
  snprintf(p, sizeof p, "%s/pts", dev);
  if (mkdir(p, 0755) < 0) fail(125, "mkdir %s: %s", p, strerror(errno));
  char data[96];
  int gid = tty_gid();
  if (gid >= 0) snprintf(data, sizeof data, "newinstance,ptmxmode=0666,mode=0620,gid=%d", gid);
  else snprintf(data, sizeof data, "newinstance,ptmxmode=0666,mode=0620");
  xmount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, data);
  snprintf(p, sizeof p, "%s/shm", dev);
  if (mkdir(p, 01777) < 0) fail(125, "mkdir %s: %s", p, strerror(errno));
  char shm[64];
  snprintf(shm, sizeof shm, "mode=1777,size=%s", o->shm_size ? o->shm_size : "65536k");
  xmount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm);
  const char *links[][2] = {{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
                            {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"}};
  for (unsigned i = 0; i < sizeof links / sizeof *links; i++) {
    snprintf(p, sizeof p, "%s/%s", dev, links[i][1]);
    if (symlink(links[i][0], p) < 0) fail(125, "symlink %s: %s", p, strerror(errno));
  }
  if (o->console_fd >= 0) {
    char ptmx[PATH_MAX + 16], console[PATH_MAX + 16];
    snprintf(ptmx, sizeof ptmx, "%s/pts/ptmx", dev);
    snprintf(console, sizeof console, "%s/console", dev);
    setup_tty(o, ptmx, console);
  }
  if (h->init >= 0) bind_in(h->init, "/dev/init", MS_RDONLY);
  for (int i = 0; i < h->nnodes; i++) {
    snprintf(p, sizeof p, "/dev/%s", h->nodes[i].path);
    char q[PATH_MAX];
    resolve_in_root(p, q, CREATE_PARENTS);
    if (mknod(q, h->nodes[i].mode, h->nodes[i].rdev) < 0 && errno != EEXIST) fail(125, "mknod %s: %s", q, strerror(errno));
  }
  for (int i = 0; i < o->ndevices; i++) bind_in(h->devices[i], o->devices[i][1], 0);
}

/* docker's read-only and masked /proc and /sys paths: a root without CAP_SYS_ADMIN still passes DAC checks. */
static void harden(void) {
  char p[PATH_MAX];
  const char *ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  for (unsigned i = 0; i < sizeof ro / sizeof *ro; i++) {
    if (resolve_in_root(ro[i], p, NO_CREATE) < 0) continue;
    xmount(p, p, NULL, MS_BIND | MS_REC, NULL);
    xmount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  }
  const char *masked[] = {"/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                          "/proc/sched_debug", "/proc/acpi", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"};
  for (unsigned i = 0; i < sizeof masked / sizeof *masked; i++) {
    if (resolve_in_root(masked[i], p, NO_CREATE) < 0) continue;
    if (is_dir(p)) xmount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0");
    else { char null[PATH_MAX]; resolve_in_root("/dev/null", null, NO_CREATE); xmount(null, p, NULL, MS_BIND, NULL); }
  }
}

/* The container's own cgroups, read-only under /sys/fs/cgroup (a v1 group per controller directory
 * on a small tmpfs, or the unified group as /sys/fs/cgroup itself); skipped without a /sys. */
static void cgroup_view(struct opts *o, struct host *h) {
  char p[PATH_MAX], q[PATH_MAX + NAME_MAX + 2];
  if (!o->ncgviews) return;
  if (resolve_in_root("/sys/fs/cgroup", p, NO_CREATE) < 0 || !is_dir(p)) { for (int i = 0; i < o->ncgviews; i++) close(h->cgviews[i]); return; }
  if (o->ncgviews == 1 && !*o->cgviews[0][1]) { attach(h->cgviews[0], p); return; }
  xmount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k");
  for (int i = 0; i < o->ncgviews; i++) {
    const char *name = o->cgviews[i][1];
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) fail(125, "cgroup view name %s: want a controller name", name);
    snprintf(q, sizeof q, "%s/%s", p, name);
    if (mkdir(q, 0555) < 0) fail(125, "mkdir %s: %s", q, strerror(errno));
    attach(h->cgviews[i], q);
  }
  xmount(NULL, p, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k");
}

void setup_root(struct opts *o) {
  char p[PATH_MAX];
  struct host h;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail(125, "make / private: %s", strerror(errno));
  /* nodev: a device node shipped in an image layer or made with mknod (a host disk, say) must not open */
  if (strcmp(o->rtype, "bind") == 0) {
    xmount(o->rsource, o->root, NULL, MS_BIND | MS_REC, NULL);
    xmount(NULL, o->root, NULL, MS_BIND | MS_REMOUNT | MS_NODEV, NULL);
  } else {
    /* overlay lowerdirs may be short relative links (docker's l/ trick): resolve them from rcwd */
    if (o->rcwd && chdir(o->rcwd) < 0) fail(125, "chdir %s: %s", o->rcwd, strerror(errno));
    xmount(o->rsource, o->root, o->rtype, MS_NODEV, o->rdata);
  }
  open_host_side(o, &h);
  if (chdir(o->root) < 0) fail(125, "chdir %s: %s", o->root, strerror(errno));
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail(125, "pivot_root: %s", strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) fail(125, "detach old root: %s", strerror(errno));
  if (chdir("/") < 0) fail(125, "chdir /: %s", strerror(errno));
  /* from here on "/" is the container root: nothing below can name a host path */
  resolve_in_root("/proc", p, CREATE_ALL);
  xmount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  if (resolve_in_root("/sys", p, NO_CREATE) == 0 && is_dir(p)) {
    if (mount("sysfs", p, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      attach(h.sys, p);
    else close(h.sys);
  } else close(h.sys);
  cgroup_view(o, &h);
  setup_dev(o, &h);
  for (int i = 0; i < o->nbinds; i++) bind_in(h.binds[i], o->binds[i][1], 0);
  for (int i = 0; i < o->nvolumes; i++) volume_in(h.volumes[i], o->volumes[i][1], strcmp(o->volumes[i][2], "ro") == 0);
  for (int i = 0; i < o->ntmpfs; i++) tmpfs_in(o->tmpfs[i][0], o->tmpfs[i][1], o->tmpfs[i][2]);
  if (!o->privileged) harden();
  resolve_in_root(o->cwd, p, CREATE_ALL);
  /* docker's --read-only: the root alone; /dev, /proc, the /etc files, volumes and tmpfs stay as they are */
  if (o->read_only) xmount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV, NULL);
  free(h.nodes); /* the clone fds were closed by attach() */
}
