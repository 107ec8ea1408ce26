/*
 * The seccomp filter and session keyring of sbx-init (linked into it with init.c).
 *
 * The daemon (daemon/runtime/seccomp.ts) turns a docker-format JSON profile into this plain
 * line format, already resolved for this host (caps, arches and kernel version applied):
 *
 *   default ACTION            the action for every syscall no rule names
 *   arch NAME                 a libseccomp architecture name (x86_64, x86, x32, aarch64, ...)
 *   rule ACTION NAME [INDEX OP A B]...   one libseccomp rule; its conditions are AND-ed
 *
 * ACTION is libseccomp's 32-bit action value in decimal (errno and trace data included), OP is
 * one of NE LT LE EQ GE GT MASKED_EQ, A and B are decimal 64-bit values. A syscall name this
 * libseccomp does not know on any of the arches is skipped, as runc does.
 *
 * sbx_seccomp_compile() turns it into raw BPF with libseccomp (`sbx-init seccomp-compile FILE`,
 * once per profile); sbx_seccomp_prepare() reads that BPF (`--seccomp FILE`) and
 * sbx_seccomp_load() installs it, as the last step before exec. The filter never kills: a bad
 * architecture gets the default action too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEYCTL_JOIN_SESSION_KEYRING_ 1

static struct sock_fprog prog;

static int err_out(char *err, size_t n, const char *fmt, const char *a, int e) {
  snprintf(err, n, fmt, a, strerror(e));
  return -1;
}

static int parse_op(const char *s, enum scmp_compare *op) {
  static const struct { const char *name; enum scmp_compare op; } ops[] = {
    {"NE", SCMP_CMP_NE}, {"LT", SCMP_CMP_LT}, {"LE", SCMP_CMP_LE}, {"EQ", SCMP_CMP_EQ},
    {"GE", SCMP_CMP_GE}, {"GT", SCMP_CMP_GT}, {"MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (unsigned i = 0; i < sizeof ops / sizeof *ops; i++)
    if (strcmp(s, ops[i].name) == 0) { *op = ops[i].op; return 0; }
  return -1;
}

/* One "rule ..." line (after the keyword), tokenised in place. */
static int add_rule(scmp_filter_ctx ctx, char *line, int lineno, char *err, size_t n) {
  char *save = NULL;
  char *act = strtok_r(line, " \n", &save), *name = strtok_r(NULL, " \n", &save);
  if (!act || !name) { snprintf(err, n, "line %d: want rule ACTION NAME [INDEX OP A B]...", lineno); return -1; }
  struct scmp_arg_cmp cmp[6];
  unsigned ncmp = 0;
  char *tok;
  while ((tok = strtok_r(NULL, " \n", &save))) {
    char *op = strtok_r(NULL, " \n", &save), *a = strtok_r(NULL, " \n", &save), *b = strtok_r(NULL, " \n", &save);
    if (!op || !b || ncmp >= 6) { snprintf(err, n, "line %d: bad argument condition", lineno); return -1; }
    cmp[ncmp].arg = (unsigned)strtoul(tok, NULL, 10);
    if (cmp[ncmp].arg > 5 || parse_op(op, &cmp[ncmp].op) < 0) { snprintf(err, n, "line %d: bad argument condition", lineno); return -1; }
    cmp[ncmp].datum_a = strtoull(a, NULL, 10);
    cmp[ncmp].datum_b = strtoull(b, NULL, 10);
    ncmp++;
  }
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return 0; /* unknown here: skip */
  int r = seccomp_rule_add_array(ctx, (uint32_t)strtoul(act, NULL, 10), nr, ncmp, cmp);
  /* -EACCES: same action as the default (nothing to add); -EDOM/-EINVAL for a pseudo syscall that
   * exists on none of our arches */
  if (r < 0 && r != -EACCES && !(nr < 0 && (r == -EDOM || r == -EINVAL))) {
    snprintf(err, n, "line %d: add rule for %s: %s", lineno, name, strerror(-r));
    return -1;
  }
  return 0;
}

/*
 * seccomp-compile: the filter described by the line format on `in` ("-" for stdin), compiled by
 * libseccomp into raw BPF on out_fd. The daemon does this once per profile (it costs ~20 ms
 * here for three arches) and hands each start the BPF.
 */
int sbx_seccomp_compile(const char *in, int out_fd, char *err, size_t n) {
  FILE *f = strcmp(in, "-") == 0 ? stdin : fopen(in, "re");
  if (!f) return err_out(err, n, "open %s: %s", in, errno);
  char line[4096];
  int lineno = 0, rc = -1;
  scmp_filter_ctx ctx = NULL;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '#' || line[0] == '\n') continue;
    if (strncmp(line, "default ", 8) == 0) {
      if (ctx) { snprintf(err, n, "line %d: a second default", lineno); goto out; }
      uint32_t act = (uint32_t)strtoul(line + 8, NULL, 10);
      ctx = seccomp_init(act);
      if (!ctx) { snprintf(err, n, "line %d: bad default action", lineno); goto out; }
      /* a syscall from an architecture we did not add gets the default action, not a kill */
      seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, act);
      /* a binary tree, not a list of ~400 comparisons walked on every syscall */
      seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
      continue;
    }
    if (!ctx) { snprintf(err, n, "line %d: the default action must come first", lineno); goto out; }
    if (strncmp(line, "arch ", 5) == 0) {
      line[strcspn(line, "\n")] = 0;
      uint32_t a = seccomp_arch_resolve_name(line + 5);
      if (!a) continue; /* an arch this libseccomp does not know: nothing of it can run here */
      int r = seccomp_arch_add(ctx, a);
      if (r < 0 && r != -EEXIST) { snprintf(err, n, "line %d: add arch %s: %s", lineno, line + 5, strerror(-r)); goto out; }
    } else if (strncmp(line, "rule ", 5) == 0) {
      if (add_rule(ctx, line + 5, lineno, err, n) < 0) goto out;
    } else {
      snprintf(err, n, "line %d: unknown keyword", lineno);
      goto out;
    }
  }
  if (!ctx) { snprintf(err, n, "no default action"); goto out; }
  int r = seccomp_export_bpf(ctx, out_fd);
  if (r < 0) { snprintf(err, n, "compile filter: %s", strerror(-r)); goto out; }
  rc = 0;
out:
  if (ctx) seccomp_release(ctx);
  if (f != stdin) fclose(f);
  return rc;
}

/* Read the compiled filter (before pivot_root: the file is on the host). */
int sbx_seccomp_prepare(const char *path, char *err, size_t n) {
  static struct sock_filter insns[BPF_MAXINSNS];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return err_out(err, n, "open %s: %s", path, errno);
  ssize_t got = read(fd, insns, sizeof insns);
  char more;
  int e = errno;
  if (got > 0 && read(fd, &more, 1) > 0) got = -2;
  close(fd);
  if (got < 0) return got == -2 ? (snprintf(err, n, "%s: more than %d instructions", path, BPF_MAXINSNS), -1) : err_out(err, n, "read %s: %s", path, e);
  if (got == 0 || got % sizeof *insns) { snprintf(err, n, "%s: not a compiled filter (%zd bytes)", path, got); return -1; }
  prog.len = (unsigned short)(got / sizeof *insns);
  prog.filter = insns;
  return 0;
}

int sbx_seccomp_load(char *err, size_t n) {
  if (!prog.filter) return 0;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) return err_out(err, n, "%s: %s", "load seccomp filter", errno);
  return 0;
}

/* A fresh anonymous session keyring, as runc gives every container: never the daemon's. */
int sbx_join_session_keyring(char *err, size_t n) {
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING_, NULL) < 0 && errno != ENOSYS)
    return err_out(err, n, "%s: %s", "join a new session keyring", errno);
  return 0;
}
