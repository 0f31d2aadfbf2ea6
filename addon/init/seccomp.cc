#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
constexpr unsigned kFlagTsync = 1, kFlagNewListener = 8, kFlagTsyncEsrch = 16, kFlagWaitKillableRecv = 32;

static bool action_of(const char *name, unsigned errno_ret, uint32_t *out) {
  if (streq(name, "SCMP_ACT_KILL") || streq(name, "SCMP_ACT_KILL_THREAD")) *out = SCMP_ACT_KILL_THREAD;
  else if (streq(name, "SCMP_ACT_KILL_PROCESS")) *out = SCMP_ACT_KILL_PROCESS;
  else if (streq(name, "SCMP_ACT_TRAP")) *out = SCMP_ACT_TRAP;
  else if (streq(name, "SCMP_ACT_ERRNO")) *out = SCMP_ACT_ERRNO(errno_ret);
  else if (streq(name, "SCMP_ACT_TRACE")) *out = SCMP_ACT_TRACE(errno_ret);
  else if (streq(name, "SCMP_ACT_ALLOW")) *out = SCMP_ACT_ALLOW;
  else if (streq(name, "SCMP_ACT_LOG")) *out = SCMP_ACT_LOG;
  else if (streq(name, "SCMP_ACT_NOTIFY")) *out = SCMP_ACT_NOTIFY;
  else return false;
  return true;
}

static bool op_of(const char *name, enum scmp_compare *out) {
  static const struct {
    const char *n;
    enum scmp_compare c;
  } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
             {"SCMP_CMP_LT", SCMP_CMP_LT},
             {"SCMP_CMP_LE", SCMP_CMP_LE},
             {"SCMP_CMP_EQ", SCMP_CMP_EQ},
             {"SCMP_CMP_GE", SCMP_CMP_GE},
             {"SCMP_CMP_GT", SCMP_CMP_GT},
             {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (auto &o : ops)
    if (streq(o.n, name)) {
      *out = o.c;
      return true;
    }
  return false;
}

// Parses "index:value:valueTwo:op;..." into conds; returns the count or -1.
static int parse_args(const char *s, struct scmp_arg_cmp *conds, int cap) {
  int n = 0;
  while (*s) {
    if (n >= cap) return -1;
    unsigned long long f[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
      f[i] = parse_ull(s);
      while (*s && *s != ':') s++;
      if (*s != ':') return -1;
      s++;
    }
    char op[32];
    int k = 0;
    while (*s && *s != ';' && k < 31) op[k++] = *s++;
    op[k] = 0;
    if (*s == ';') s++;
    enum scmp_compare c;
    if (!op_of(op, &c)) return -1;
    conds[n].arg = (unsigned)f[0];
    conds[n].op = c;
    conds[n].datum_a = f[1];
    conds[n].datum_b = f[2];
    n++;
  }
  return n;
}

static const char *fail(scmp_filter_ctx ctx, const char *msg) {
  seccomp_release(ctx);
  return msg;
}

static const char *errno_msg(const char *what, const char *arg, int err) {
  static Buf b;
  buf_reset(&b);
  buf_str(&b, what);
  if (arg) {
    buf_char(&b, ' ');
    buf_str(&b, arg);
  }
  buf_str(&b, ": ");
  buf_strerror(&b, err);  // capitalized, as these messages have always read
  return buf_cstr(&b);
}

// The agent's socket, connected now: in the runtime's mount (and network, for an
// abstract "@name") namespace and with the runtime's credentials, as runc does.
static const char *connect_listener(Seccomp *s) {
  const char *path = s->listener_path;
  if (!path || !*path) return "seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath";
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  size_t len = cstrlen(path);
  if (len >= sizeof(addr.sun_path)) return errno_msg("seccomp: listenerPath", path, ENAMETOOLONG);
  memcpy(addr.sun_path, path, len);
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
  if (path[0] == '@') addr.sun_path[0] = 0, alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return errno_msg("seccomp: socket", nullptr, errno);
  int r;
  do r = connect(sock, (struct sockaddr *)&addr, alen);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    close(sock);
    return errno_msg("seccomp: cannot connect to the seccomp agent at", path, e);
  }
  s->listener_sock = sock;
  // The pid the agent is told is the one the runtime sees: this /proc's "self" link,
  // read by the process itself. Only the link is held (O_PATH|O_NOFOLLOW), never a
  // directory of this /proc: through /proc/self/fd/N a link is not followed again,
  // so a cwd or path naming the fd cannot walk into the runtime's /proc (ENOTDIR).
  int self = open("/proc/self", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct statfs sf;
  if (self < 0 || fstatfs(self, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) return "seccomp: /proc is not procfs";
  s->host_self = self;
  unsigned pids = 0, n = 0;
  for (const char *c = s->listener_state; *c; c++, n++) pids += *c == '\x01';
  s->msg_cap = n + (pids + 1) * 24 + 1;
  s->msg = (char *)malloc(s->msg_cap);
  if (!s->msg) return "seccomp: out of memory";
  return nullptr;
}

const char *seccomp_compile(Seccomp *s) {
  uint32_t def;
  if (!action_of(s->default_action, s->default_errno, &def)) return "seccomp: unknown defaultAction";
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx) return "seccomp: cannot initialise libseccomp";
  // We load the filter ourselves, after deciding about no_new_privs.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  for (int i = 0; i < s->narchs; i++) {
    uint32_t arch = seccomp_arch_resolve_name(s->archs[i]);
    if (!arch) return fail(ctx, "seccomp: unknown architecture");
    int r = seccomp_arch_add(ctx, arch);
    // EDOM: the other byte order than this machine's (s390x, ppc64, big-endian mips,
    // parisc on x86_64). libseccomp cannot mix them in one filter, and the kernel never
    // runs this filter for a task of such an architecture here: nothing to add.
    if (r < 0 && r != -EEXIST && r != -EDOM) return fail(ctx, "seccomp: cannot add architecture");
  }
  for (int i = 0; i < s->nrules; i++) {
    SeccompRule *r = &s->rules[i];
    uint32_t act;
    if (!action_of(r->action, r->errno_ret, &act)) return fail(ctx, "seccomp: unknown action");
    if (act == SCMP_ACT_NOTIFY) s->notify = true;
    if (act == def) continue;  // libseccomp refuses rules that repeat the default
    int nr = seccomp_syscall_resolve_name(r->name);
    if (nr == __NR_SCMP_ERROR) continue;  // unknown to this kernel/libseccomp: skipped, as runc does
    struct scmp_arg_cmp conds[6];
    int n = parse_args(r->args, conds, 6);
    if (n < 0) return fail(ctx, "seccomp: bad argument condition");
    // Conditions on distinct arguments are ANDed in one rule; when one argument is
    // named twice, each condition becomes a rule of its own (ORed), as runc does.
    bool repeated = false;
    for (int a = 0; a < n; a++)
      for (int b = a + 1; b < n; b++) repeated |= conds[a].arg == conds[b].arg;
    int rc = 0;
    if (repeated) {
      for (int a = 0; a < n && rc >= 0; a++) rc = seccomp_rule_add_exact_array(ctx, act, nr, 1, &conds[a]);
    } else {
      rc = seccomp_rule_add_array(ctx, act, nr, (unsigned)n, conds);
    }
    if (rc < 0) {
      static Buf b;
      buf_reset(&b);
      buf_str(&b, "seccomp: cannot add rule for syscall ");
      buf_str(&b, r->name);
      return fail(ctx, buf_cstr(&b));
    }
  }
  if (def == SCMP_ACT_NOTIFY) s->notify = true;
  if (s->notify) {
    // TSYNC and a listener together need TSYNC_ESRCH (the helper is single-threaded).
    s->flags |= kFlagNewListener | ((s->flags & kFlagTsync) ? kFlagTsyncEsrch : 0);
    const char *e = connect_listener(s);
    if (e) return fail(ctx, e);
  } else {
    // It changes how a listener waits; without one the kernel refuses it (EINVAL).
    s->flags &= ~kFlagWaitKillableRecv;
  }
  int mfd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (mfd < 0) return fail(ctx, "seccomp: memfd_create failed");
  if (seccomp_export_bpf(ctx, mfd) < 0) return fail(ctx, "seccomp: cannot export the filter");
  seccomp_release(ctx);
  struct stat st;
  if (fstat(mfd, &st) < 0) return "seccomp: stat of exported filter failed";
  s->bpf_len = (unsigned)st.st_size;
  s->bpf = malloc(s->bpf_len);
  if (!s->bpf || pread(mfd, s->bpf, s->bpf_len, 0) != (ssize_t)s->bpf_len) return "seccomp: read of exported filter failed";
  close(mfd);
  return nullptr;
}

// Sends the state (with the listener fd, first call only) and closes the connection.
static void hand_over(const Seccomp *s, int listener) {
  char pid[24];
  ssize_t pl = readlinkat(s->host_self, "", pid, sizeof(pid));
  if (pl <= 0 || pl >= (ssize_t)sizeof(pid)) die_errno("seccomp: read own pid", nullptr, pl < 0 ? errno : EIO);
  unsigned n = 0;
  for (const char *c = s->listener_state; *c && n + 24 < s->msg_cap; c++) {
    if (*c != '\x01') {
      s->msg[n++] = *c;
      continue;
    }
    for (ssize_t i = 0; i < pl; i++) s->msg[n++] = pid[i];
  }
  if (!send_fd(s->listener_sock, listener, s->msg, n)) die_errno("seccomp: send the listener fd to the seccomp agent at", s->listener_path, errno);
  close(listener);
  close(s->listener_sock);
  close(s->host_self);
}

int seccomp_load_bpf(const Seccomp *s) {
  struct sock_fprog prog;
  prog.len = (unsigned short)(s->bpf_len / sizeof(struct sock_filter));
  prog.filter = (struct sock_filter *)s->bpf;
  int r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &prog);
  if (r < 0 || !s->notify) return r < 0 ? r : 0;
  hand_over(s, r);
  return 0;
}
