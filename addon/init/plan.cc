// Plan wire format: a sequence of records, each a tag followed by that tag's
// fixed number of fields, every token NUL-terminated. Numbers are decimal text.
#include "plan.h"

#include "util.h"

namespace {

struct Reader {
  char *p, *end;
  const char *next() {
    if (p >= end) return nullptr;
    char *s = p;
    while (p < end && *p) p++;
    if (p >= end) return nullptr;  // unterminated token
    p++;
    return s;
  }
};

struct Tag { const char *name; int fields; };
const Tag kTags[] = {
    {"mode", 1},     {"cloneflags", 1}, {"setns", 2},      {"uidmap", 1},   {"gidmap", 1},
    {"timens", 1},   {"cgroup", 1},     {"cgroup2", 1},     {"cgroup-home", 1}, {"cleanup-cgroup", 1}, {"cleanup-file", 1},
    {"cleanup-dir", 1}, {"oomscore", 1}, {"hostname", 1},  {"domainname", 1}, {"rootfs", 1},
    {"rootprop", 1}, {"readonlyroot", 1}, {"nopivot", 1},  {"hooks", 1},    {"nnp", 1},
    {"setsid", 1},   {"mount", 7},      {"device", 8},     {"symlink", 2},  {"copyup", 1},  {"masked", 1},
    {"readonly", 1}, {"sysctl", 2},     {"rlimit", 3},     {"user", 3},     {"gid", 1},
    {"caps", 5},     {"cwd", 1},        {"arg", 1},        {"env", 1},      {"fifo", 1},
    {"preservefds", 1}, {"seccomp", 2},  {"seccomp-arch", 1}, {"seccomp-flags", 1},
    {"seccomp-rule", 4}, {"seccomp-listener", 2}, {"terminal", 1},  {"console-path", 1}, {"console-fd", 1}, {"console-size", 2},
    {"keyring", 1},   {"personality", 1}, {"ioprio", 1},   {"sched", 7},    {"mempolicy", 3},
};

}  // namespace

const char *plan_parse(Plan *p, char *buf, unsigned len) {
  Reader r{buf, buf + len};
  p->umask = -1;
  p->personality = -1;
  p->ioprio = -1;
  p->console_fd = -1;
  p->fifo_fd = -1;
  const char *tag;
  while ((tag = r.next())) {
    int nf = -1;
    for (const Tag &t : kTags)
      if (streq(t.name, tag)) nf = t.fields;
    if (nf < 0) {
      static Buf msg;
      buf_reset(&msg);
      buf_str(&msg, "plan: unknown record ");
      buf_str(&msg, tag);
      return buf_cstr(&msg);
    }
    const char *f[8];
    for (int i = 0; i < nf; i++)
      if (!(f[i] = r.next())) return "plan: truncated record";
#define IS(x) streq(tag, x)
#define ADD(arr, n, v) do { if (n >= (int)(sizeof(arr) / sizeof(arr[0])) - 1) return "plan: too many " #arr; arr[n++] = v; } while (0)
    if (IS("mode")) p->mode = f[0];
    else if (IS("cloneflags")) p->cloneflags = parse_ull(f[0]);
    else if (IS("setns")) ADD(p->joins, p->njoins, (NsJoin{(int)parse_ll(f[0]), f[1]}));
    else if (IS("uidmap")) p->uidmap = f[0];
    else if (IS("gidmap")) p->gidmap = f[0];
    else if (IS("timens")) p->timens = f[0];
    else if (IS("cgroup")) ADD(p->cgroups, p->ncgroups, f[0]);
    else if (IS("cgroup2")) p->cgroup2 = f[0];
    else if (IS("cgroup-home")) ADD(p->cgroup_home, p->ncgroup_home, f[0]);
    else if (IS("cleanup-cgroup")) ADD(p->cleanup_cgroups, p->ncleanup_cgroups, f[0]);
    else if (IS("cleanup-file")) ADD(p->cleanup_files, p->ncleanup_files, f[0]);
    else if (IS("cleanup-dir")) p->cleanup_dir = f[0];
    else if (IS("oomscore")) p->oomscore = f[0];
    else if (IS("hostname")) p->hostname = f[0];
    else if (IS("domainname")) p->domainname = f[0];
    else if (IS("rootfs")) p->rootfs = f[0];
    else if (IS("rootprop")) p->rootprop = parse_ull(f[0]);
    else if (IS("readonlyroot")) p->readonly_root = true;
    else if (IS("nopivot")) p->nopivot = true;
    else if (IS("hooks")) p->hooks = true;
    else if (IS("nnp")) p->nnp = true;
    else if (IS("setsid")) p->new_session = true;
    else if (IS("mount"))
      ADD(p->mounts, p->nmounts, (MountPlan{f[0], f[1], f[2], f[4], parse_ull(f[3]), parse_ull(f[5]), f[6], false}));
    else if (IS("copyup")) {
      if (p->nmounts) p->mounts[p->nmounts - 1].copyup = true;  // of the mount just before
    }
    else if (IS("device"))
      ADD(p->devices, p->ndevices,
          (DevicePlan{f[0], f[1][0], (unsigned)parse_ull(f[2]), (unsigned)parse_ull(f[3]),
                      (unsigned)parse_ull(f[4]), (unsigned)parse_ull(f[5]), (unsigned)parse_ull(f[6]),
                      streq(f[7], "bind")}));
    else if (IS("symlink")) ADD(p->symlinks, p->nsymlinks, (Pair{f[0], f[1]}));
    else if (IS("masked")) ADD(p->masked, p->nmasked, f[0]);
    else if (IS("readonly")) ADD(p->readonly, p->nreadonly, f[0]);
    else if (IS("sysctl")) ADD(p->sysctls, p->nsysctls, (Pair{f[0], f[1]}));
    else if (IS("rlimit"))
      ADD(p->rlimits, p->nrlimits, (Rlimit{(int)parse_ll(f[0]), parse_ull(f[1]), parse_ull(f[2])}));
    else if (IS("user")) {
      p->has_user = true;
      p->uid = (unsigned)parse_ull(f[0]);
      p->gid = (unsigned)parse_ull(f[1]);
      p->umask = parse_ll(f[2]);
    } else if (IS("gid")) ADD(p->gids, p->ngids, (unsigned)parse_ull(f[0]));
    else if (IS("caps")) {
      p->has_caps = true;
      for (int i = 0; i < 5; i++) p->caps[i] = parse_ull(f[i]);
    } else if (IS("cwd")) p->cwd = f[0];
    else if (IS("arg")) ADD(p->argv, p->nargv, f[0]);
    else if (IS("env")) ADD(p->envp, p->nenvp, f[0]);
    else if (IS("fifo")) p->fifo = f[0];
    else if (IS("preservefds")) p->preserve_fds = (int)parse_ll(f[0]);
    else if (IS("keyring")) p->keyring = f[0];
    else if (IS("terminal")) p->terminal = true;
    else if (IS("console-path")) p->console_path = f[0];
    else if (IS("console-fd")) p->console_fd = (int)parse_ll(f[0]);
    else if (IS("console-size")) {
      p->console_rows = (unsigned)parse_ull(f[0]);
      p->console_cols = (unsigned)parse_ull(f[1]);
    }
    else if (IS("personality")) p->personality = (long)parse_ll(f[0]);
    else if (IS("ioprio")) p->ioprio = (int)parse_ll(f[0]);
    else if (IS("mempolicy")) {
      p->has_mempolicy = true;
      p->mempolicy_mode = (int)parse_ll(f[0]);
      p->mempolicy_flags = (int)parse_ll(f[1]);
      p->mempolicy_nodes = f[2];
    } else if (IS("sched")) {
      p->has_sched = true;
      p->sched_policy = (unsigned)parse_ull(f[0]);
      p->sched_nice = (int)parse_ll(f[1]);
      p->sched_priority = (unsigned)parse_ull(f[2]);
      p->sched_flags = parse_ull(f[3]);
      p->sched_runtime = parse_ull(f[4]);
      p->sched_deadline = parse_ull(f[5]);
      p->sched_period = parse_ull(f[6]);
    }
    else if (IS("seccomp")) {
      p->seccomp.enabled = true;
      p->seccomp.default_action = f[0];
      p->seccomp.default_errno = (unsigned)parse_ull(f[1]);
    } else if (IS("seccomp-arch")) ADD(p->seccomp.archs, p->seccomp.narchs, f[0]);
    else if (IS("seccomp-flags")) p->seccomp.flags = (unsigned)parse_ull(f[0]);
    else if (IS("seccomp-listener")) p->seccomp.listener_path = f[0], p->seccomp.listener_state = f[1];
    else if (IS("seccomp-rule"))
      ADD(p->seccomp.rules, p->seccomp.nrules, (SeccompRule{f[0], (unsigned)parse_ull(f[1]), f[2], f[3]}));
#undef IS
#undef ADD
  }
  p->argv[p->nargv] = nullptr;
  p->envp[p->nenvp] = nullptr;
  for (int i = 0; i < p->njoins; i++) p->joins_user |= p->joins[i].type == 0x10000000 /* CLONE_NEWUSER */;
  p->new_net = p->cloneflags & 0x40000000 /* CLONE_NEWNET */;
  if (!p->mode) return "plan: no mode";
  if (p->terminal && !p->console_path && p->console_fd < 0) return "plan: a terminal needs a console socket";
  return nullptr;
}
