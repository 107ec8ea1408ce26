/*
 * Paths from the image or the request, resolved inside the container root after pivot_root
 * (rootfs.c): no symlink and no ".." can lead out of it.
 */
#include "init.h"
#include <limits.h>

/* The contract is in init.h. */
int resolve_in_root(const char *path, char *out, int create) {
  char rest[2 * PATH_MAX], done[PATH_MAX] = "", tmp[2 * PATH_MAX];
  int links = 0;
  snprintf(rest, sizeof rest, "%s", path);
  char *r = rest;
  for (;;) {
    while (*r == '/') r++;
    if (!*r) break;
    size_t n = strcspn(r, "/");
    char comp[NAME_MAX + 1];
    if (n > NAME_MAX) fail(125, "resolve %s in the container: name too long", path);
    memcpy(comp, r, n);
    comp[n] = 0;
    r += n;
    int last = r[strspn(r, "/")] == 0;
    if (strcmp(comp, ".") == 0) continue;
    if (strcmp(comp, "..") == 0) { char *s = strrchr(done, '/'); if (s) *s = 0; continue; }
    char cand[PATH_MAX];
    if (snprintf(cand, sizeof cand, "%s/%s", done, comp) >= (int)sizeof cand) fail(125, "resolve %s in the container: path too long", path);
    struct stat st;
    if (lstat(cand, &st) < 0) {
      if (errno != ENOENT) fail(125, "resolve %s in the container: %s: %s", path, cand, strerror(errno));
      if (create == NO_CREATE) return -1;
      if (!last || create == CREATE_ALL) {
        if (mkdir(cand, 0755) < 0 && errno != EEXIST) fail(125, "mkdir %s in the container: %s", cand, strerror(errno));
      }
      strcpy(done, cand);
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > 40) fail(125, "resolve %s in the container: too many levels of symbolic links", path);
      char target[PATH_MAX];
      ssize_t k = readlink(cand, target, sizeof target - 1);
      if (k < 0) fail(125, "readlink %s in the container: %s", cand, strerror(errno));
      target[k] = 0;
      if (target[0] == '/') done[0] = 0;
      snprintf(tmp, sizeof tmp, "%s/%s", target, r);
      snprintf(rest, sizeof rest, "%s", tmp);
      r = rest;
      continue;
    }
    if (!last && !S_ISDIR(st.st_mode)) fail(125, "resolve %s in the container: %s is not a directory", path, cand);
    strcpy(done, cand);
  }
  snprintf(out, PATH_MAX, "%s", done[0] ? done : "/");
  return 0;
}
