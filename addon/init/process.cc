#include "process.h"
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static const char *const kRlimitNames[] = {"RLIMIT_CPU",      "RLIMIT_FSIZE",  "RLIMIT_DATA",    "RLIMIT_STACK", "RLIMIT_CORE",  "RLIMIT_RSS",
                                           "RLIMIT_NPROC",    "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",    "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
                                           "RLIMIT_MSGQUEUE", "RLIMIT_NICE",   "RLIMIT_RTPRIO",  "RLIMIT_RTTIME"};

static const rlim_t kSetupFds = 16;

// RLIMIT_NOFILE as configured, once the init needs no more fds of its own (lowering a
// soft limit cannot fail).
static void final_nofile(const Plan *p) {
  for (int i = 0; i < p->nrlimits; i++) {
    const Rlimit &r = p->rlimits[i];
    if (r.resource != RLIMIT_NOFILE || r.soft >= kSetupFds) continue;
    struct rlimit rl = {(rlim_t)r.soft, (rlim_t)r.hard};
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die_errno("setrlimit", "RLIMIT_NOFILE", errno);
  }
}

void apply_rlimits(const Plan *p) {
  for (int i = 0; i < p->nrlimits; i++) {
    const Rlimit &r = p->rlimits[i];
    struct rlimit rl = {(rlim_t)r.soft, (rlim_t)r.hard};
    // The init still opens the exec fifo at start: a few fds until just before exec.
    if (r.resource == RLIMIT_NOFILE && rl.rlim_cur < kSetupFds) {
      if (rl.rlim_max < kSetupFds) continue;  // set whole by final_nofile
      rl.rlim_cur = kSetupFds;
    }
    if (setrlimit(r.resource, &rl) < 0) {
      int e = errno;
      Buf b;
      buf_reset(&b);
      buf_str(&b, r.resource >= 0 && r.resource < 16 ? kRlimitNames[r.resource] : "?");
      buf_str(&b, " (soft ");
      buf_num(&b, (long long)r.soft);
      buf_str(&b, ", hard ");
      buf_num(&b, (long long)r.hard);
      buf_str(&b, e == EPERM ? "; raising a hard limit needs CAP_SYS_RESOURCE)" : ")");
      die_errno("setrlimit", buf_cstr(&b), e);
    }
  }
}

static bool is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

void resolve_exec(const Plan *p, char *out, unsigned cap) {
  const char *arg0 = p->argv[0];
  bool has_slash = false;
  for (const char *c = arg0; *c; c++) has_slash |= (*c == '/');
  if (has_slash) {
    struct stat st;
    if (stat(arg0, &st) < 0) die_errno("exec:", arg0, errno);
    if (S_ISDIR(st.st_mode)) die_errno("exec:", arg0, EISDIR);
    if (!(st.st_mode & 0111)) die_errno("exec:", arg0, EACCES);
    unsigned i = 0;
    for (; arg0[i] && i + 1 < cap; i++) out[i] = arg0[i];
    out[i] = 0;
    return;
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (int i = 0; i < p->nenvp; i++) {
    const char *e = p->envp[i];
    if (e[0] == 'P' && e[1] == 'A' && e[2] == 'T' && e[3] == 'H' && e[4] == '=') path = e + 5;
  }
  for (const char *s = path;;) {
    const char *end = s;
    while (*end && *end != ':') end++;
    unsigned n = 0;
    for (const char *c = s; c < end && n + 2 < cap; c++) out[n++] = *c;
    if (n == 0) out[n++] = '.';
    out[n++] = '/';
    for (const char *c = arg0; *c && n + 1 < cap; c++) out[n++] = *c;
    out[n] = 0;
    if (is_executable(out)) return;
    if (!*end) break;
    s = end + 1;
  }
  Buf b;
  buf_reset(&b);
  buf_str(&b, "exec: \"");
  buf_str(&b, arg0);
  buf_str(&b, "\": executable file not found in $PATH");
  die_msg(buf_cstr(&b), nullptr);
}

void apply_process_attrs(const Plan *p) {
  if (p->keyring && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, p->keyring) < 0 && errno != ENOSYS) die_errno("join session keyring", p->keyring, errno);
  if (p->personality >= 0 && personality((unsigned long)p->personality) < 0) die_errno("personality", nullptr, errno);
  if (p->ioprio >= 0 && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, p->ioprio) < 0) die_errno("ioprio_set", nullptr, errno);
  if (p->has_sched) {
    struct {
      uint32_t size, policy;
      uint64_t flags;
      int32_t nice;
      uint32_t priority;
      uint64_t runtime, deadline, period;
    } attr = {48, p->sched_policy, p->sched_flags, p->sched_nice, p->sched_priority, p->sched_runtime, p->sched_deadline, p->sched_period};
    if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) die_errno("/process/scheduler: sched_setattr", nullptr, errno);
  }
  if (p->has_mempolicy) {  // linux.memoryPolicy: set_mempolicy(2), inherited across exec
    const unsigned kMaxNodes = 1024;
    unsigned long mask[kMaxNodes / (8 * sizeof(unsigned long))] = {};
    bool any = false;
    for (const char *s = p->mempolicy_nodes; *s;) {
      unsigned long long n = parse_ull(s);
      if (n >= kMaxNodes) die_msg("/linux/memoryPolicy/nodes: node number too large:", s);
      mask[n / (8 * sizeof(unsigned long))] |= 1UL << (n % (8 * sizeof(unsigned long)));
      any = true;
      while (*s && *s != ',') s++;
      if (*s == ',') s++;
    }
    if (syscall(SYS_set_mempolicy, p->mempolicy_mode | p->mempolicy_flags, any ? mask : nullptr, any ? kMaxNodes + 1 : 0) < 0)
      die_errno("/linux/memoryPolicy: set_mempolicy", nullptr, errno);
  }
}

void apply_identity(const Plan *p) {
  if (p->has_caps) {
    for (int c = 0; c <= CAP_LAST_CAP; c++)
      if (!(p->caps[0] >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) die_errno("drop bounding capability", nullptr, errno);
  }
  if (p->has_user) {
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die_errno("prctl keepcaps", nullptr, errno);
    static_assert(sizeof(gid_t) == sizeof(p->gids[0]), "gids are passed to setgroups as they are");
    const gid_t *groups = (const gid_t *)p->gids;
    // setgroups is denied in user namespaces with setgroups=deny; skip when there is nothing to set.
    if (setgroups((size_t)p->ngids, groups) < 0 && !(errno == EPERM && p->ngids == 0)) die_errno("setgroups", nullptr, errno);
    if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0) die_errno("setgid", nullptr, errno);
    if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0) die_errno("setuid", nullptr, errno);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) die_errno("prctl keepcaps", nullptr, errno);
  }
  umask(p->umask >= 0 ? (mode_t)p->umask : 022);
  if (p->has_caps) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {};
    for (int i = 0; i < 2; i++) {
      data[i].effective = (uint32_t)(p->caps[1] >> (32 * i));
      data[i].inheritable = (uint32_t)(p->caps[2] >> (32 * i));
      data[i].permitted = (uint32_t)(p->caps[3] >> (32 * i));
    }
    if (syscall(SYS_capset, &hdr, data) < 0) die_errno("capset", nullptr, errno);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) die_errno("clear ambient capabilities", nullptr, errno);
    for (int c = 0; c <= CAP_LAST_CAP; c++)
      if ((p->caps[4] >> c & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) die_errno("raise ambient capability", nullptr, errno);
  }
  if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno("prctl no_new_privs", nullptr, errno);
}

static const char *const *g_envp;

void prepare_env(const Plan *p) {
  const char **env = p->exec_env;
  static char home[4200];
  static char passwd[65536];
  int n = 0;
  bool has_home = false;
  for (; n < p->nenvp; n++) {
    env[n] = p->envp[n];
    const char *e = env[n];
    has_home |= e[0] == 'H' && e[1] == 'O' && e[2] == 'M' && e[3] == 'E' && e[4] == '=';
  }
  if (!has_home) {
    // As runc: HOME from the container's /etc/passwd for the process's uid, else "/".
    const char *dir = "/";
    unsigned uid = p->has_user ? p->uid : 0;
    int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    ssize_t len = fd < 0 ? -1 : read(fd, passwd, sizeof(passwd) - 1);
    if (fd >= 0) close(fd);
    for (char *line = passwd; len > 0 && line < passwd + len;) {
      char *end = line;
      while (end < passwd + len && *end != '\n') end++;
      *end = 0;
      char *f[7];
      int k = 0;
      f[k++] = line;
      for (char *c = line; *c && k < 7; c++)
        if (*c == ':') {
          *c = 0;
          f[k++] = c + 1;
        }
      if (k >= 6 && f[2][0] && parse_ull(f[2]) == uid && f[5][0]) {
        dir = f[5];
        break;
      }
      line = end + 1;
    }
    Buf b;
    buf_reset(&b);
    buf_str(&b, "HOME=");
    buf_str(&b, dir);
    unsigned i = 0;
    for (; i < b.len && i + 1 < sizeof(home); i++) home[i] = b.data[i];
    home[i] = 0;
    env[n++] = home;
  }
  env[n] = nullptr;
  g_envp = env;
}

static void load_seccomp(const Plan *p) {
  if (p->seccomp.enabled && seccomp_load_bpf(&p->seccomp) < 0) die_errno("seccomp: load filter", nullptr, errno);
}

void exec_process(const Plan *p, const char *path) {
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < 65; s++) sigaction(s, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Nothing of the runtime's may reach the process: only stdio and the preserved fds.
  // CLOEXEC rather than close, so a failed execve can still be reported; done before
  // seccomp, which may not allow close_range.
  if (syscall(SYS_close_range, 3 + p->preserve_fds, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) < 0) die_errno("close_range", nullptr, errno);
  final_nofile(p);
  if (p->nnp) {
    // no_new_privs lets an unprivileged process load the filter: load it last.
    apply_identity(p);
    load_seccomp(p);
  } else {
    // Without no_new_privs loading needs CAP_SYS_ADMIN, which the process may lose.
    load_seccomp(p);
    apply_identity(p);
  }
  execve(path, (char *const *)p->argv, (char *const *)(g_envp ? g_envp : p->envp));
  die_errno("exec:", p->argv[0], errno);
}
