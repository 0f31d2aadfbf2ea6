// Parses the plan's records (src/linux/plan-records.ts defines them; the generated
// plan_records.h gives their tags and field counts). Every field is framed by its
// length, so a value can never end a field early or be read as a record. Arrays are
// sized by a first pass over the records, so no count in a valid config is too many.
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "plan_records.h"
#include "util.h"

namespace {

struct Record {
  Rec tag;
  const char *f[kRecMaxFields];
};

uint32_t le(const unsigned char *b, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

struct Reader {
  char *p, *end;
  const char *err;
  // The next record, or false at the end (err says why when the plan is malformed).
  bool next(Record *r) {
    if (p == end) return false;
    if (end - p < 4) return fail("plan: truncated record");
    uint16_t tag = (uint16_t)le((unsigned char *)p, 2), n = (uint16_t)le((unsigned char *)p + 2, 2);
    p += 4;
    if (tag >= kRecCount) return fail("plan: unknown record");
    if (n != kRecFields[tag]) return fail("plan: a record's field count differs from plan_records.h (rebuild)");
    r->tag = (Rec)tag;
    for (int i = 0; i < n; i++) {
      if (end - p < 4) return fail("plan: truncated field");
      uint32_t len = le((unsigned char *)p, 4);
      p += 4;
      if ((uint64_t)(end - p) < (uint64_t)len + 1 || p[len] != 0) return fail("plan: truncated field");
      if (memchr(p, 0, len)) return fail("plan: a NUL byte inside a field");
      r->f[i] = p;
      p += len + 1;
    }
    return true;
  }
  bool fail(const char *e) {
    err = e;
    return false;
  }
};

template <class T>
T *alloc(int n) {
  return (T *)calloc(n > 0 ? n : 1, sizeof(T));
}

}  // namespace

// The fields whose zero means something: -1 for "leave as is" and "no fd".
static void set_defaults(Plan *p) {
  p->umask = -1;
  p->personality = -1;
  p->ioprio = -1;
  p->console_fd = -1;
  p->fifo_fd = -1;
}

// First pass: how many of each record, to size the arrays.
static const char *count_records(char *buf, unsigned len, int count[kRecCount]) {
  Record r;
  Reader pass{buf, buf + len, nullptr};
  while (pass.next(&r)) count[(int)r.tag]++;
  return pass.err;
}

static bool alloc_arrays(Plan *p, const int count[kRecCount]) {
  auto n = [&](Rec t) { return count[(int)t]; };
  p->joins = alloc<NsJoin>(n(Rec::setns));
  p->cgroups = alloc<const char *>(n(Rec::cgroup));
  p->cgroup_home = alloc<const char *>(n(Rec::cgroup_home));
  p->cleanup_cgroups = alloc<const char *>(n(Rec::cleanup_cgroup));
  p->cleanup_files = alloc<const char *>(n(Rec::cleanup_file));
  p->mounts = alloc<MountPlan>(n(Rec::mount));
  p->devices = alloc<DevicePlan>(n(Rec::device));
  p->symlinks = alloc<Pair>(n(Rec::symlink));
  p->masked = alloc<const char *>(n(Rec::masked));
  p->readonly = alloc<const char *>(n(Rec::readonly));
  p->sysctls = alloc<Pair>(n(Rec::sysctl));
  p->rlimits = alloc<Rlimit>(n(Rec::rlimit));
  p->gids = alloc<unsigned>(n(Rec::gid));
  p->argv = alloc<const char *>(n(Rec::arg) + 1);
  p->envp = alloc<const char *>(n(Rec::env) + 1);
  p->exec_env = alloc<const char *>(n(Rec::env) + 2);  // + HOME, + NULL
  p->seccomp.archs = alloc<const char *>(n(Rec::seccomp_arch));
  p->seccomp.rules = alloc<SeccompRule>(n(Rec::seccomp_rule));
  return p->exec_env && p->seccomp.rules;
}

static MountPlan mount_of(const char *const *f) {
  namespace M = F_mount;
  return MountPlan{f[M::source],
                   f[M::destination],
                   f[M::type],
                   f[M::data],
                   parse_ull(f[M::flags]),
                   parse_ull(f[M::propagation]),
                   f[M::kind],
                   streq(f[M::copyup], "1"),
                   parse_ull(f[M::attrSet]),
                   parse_ull(f[M::attrClear])};
}

static DevicePlan device_of(const char *const *f) {
  namespace D = F_device;
  return DevicePlan{f[D::path],
                    f[D::type][0],
                    (unsigned)parse_ull(f[D::major]),
                    (unsigned)parse_ull(f[D::minor]),
                    (unsigned)parse_ull(f[D::mode]),
                    (unsigned)parse_ull(f[D::uid]),
                    (unsigned)parse_ull(f[D::gid]),
                    streq(f[D::how], "bind")};
}

static void store_user(Plan *p, const char *const *f) {
  p->has_user = true;
  p->uid = (unsigned)parse_ull(f[F_user::uid]);
  p->gid = (unsigned)parse_ull(f[F_user::gid]);
  p->umask = parse_ll(f[F_user::umask]);
}

static void store_caps(Plan *p, const char *const *f) {
  p->has_caps = true;
  for (int i = 0; i < 5; i++) p->caps[i] = parse_ull(f[i]);
}

static void store_console_size(Plan *p, const char *const *f) {
  p->console_rows = (unsigned)parse_ull(f[F_console_size::rows]);
  p->console_cols = (unsigned)parse_ull(f[F_console_size::cols]);
}

static void store_mempolicy(Plan *p, const char *const *f) {
  p->has_mempolicy = true;
  p->mempolicy_mode = (int)parse_ll(f[F_mempolicy::mode]);
  p->mempolicy_flags = (int)parse_ll(f[F_mempolicy::flags]);
  p->mempolicy_nodes = f[F_mempolicy::nodes];
}

static void store_sched(Plan *p, const char *const *f) {
  namespace S = F_sched;
  p->has_sched = true;
  p->sched_policy = (unsigned)parse_ull(f[S::policy]);
  p->sched_nice = (int)parse_ll(f[S::nice]);
  p->sched_priority = (unsigned)parse_ull(f[S::priority]);
  p->sched_flags = parse_ull(f[S::flags]);
  p->sched_runtime = parse_ull(f[S::runtime]);
  p->sched_deadline = parse_ull(f[S::deadline]);
  p->sched_period = parse_ull(f[S::period]);
}

static void store_seccomp(Seccomp *s, const char *const *f) {
  s->enabled = true;
  s->default_action = f[F_seccomp::defaultAction];
  s->default_errno = (unsigned)parse_ull(f[F_seccomp::defaultErrno]);
}

static void store_seccomp_listener(Seccomp *s, const char *const *f) {
  s->listener_path = f[F_seccomp_listener::path];
  s->listener_state = f[F_seccomp_listener::state];
}

static SeccompRule seccomp_rule_of(const char *const *f) {
  namespace S = F_seccomp_rule;
  return SeccompRule{f[S::action], (unsigned)parse_ull(f[S::errnoRet]), f[S::syscall], f[S::args]};
}

// One record into its place in the plan. One case per record and no default: the
// compiler flags a record added to plan-records.ts but not stored here (-Wswitch).
static void store_record(Plan *p, const Record &r) {
  const char *const *f = r.f;
  switch (r.tag) {
    case Rec::mode:
      p->mode = f[0];
      break;
    case Rec::cloneflags:
      p->cloneflags = parse_ull(f[0]);
      break;
    case Rec::setns:
      p->joins[p->njoins++] = NsJoin{(int)parse_ll(f[F_setns::type]), f[F_setns::path]};
      break;
    case Rec::uidmap:
      p->uidmap = f[0];
      break;
    case Rec::gidmap:
      p->gidmap = f[0];
      break;
    case Rec::timens:
      p->timens = f[0];
      break;
    case Rec::cgroup:
      p->cgroups[p->ncgroups++] = f[0];
      break;
    case Rec::cgroup2:
      p->cgroup2 = f[0];
      break;
    case Rec::cgroup_home:
      p->cgroup_home[p->ncgroup_home++] = f[0];
      break;
    case Rec::cleanup_cgroup:
      p->cleanup_cgroups[p->ncleanup_cgroups++] = f[0];
      break;
    case Rec::cleanup_file:
      p->cleanup_files[p->ncleanup_files++] = f[0];
      break;
    case Rec::cleanup_dir:
      p->cleanup_dir = f[0];
      break;
    case Rec::oomscore:
      p->oomscore = f[0];
      break;
    case Rec::hostname:
      p->hostname = f[0];
      break;
    case Rec::domainname:
      p->domainname = f[0];
      break;
    case Rec::rootfs:
      p->rootfs = f[0];
      break;
    case Rec::rootprop:
      p->rootprop = parse_ull(f[0]);
      break;
    case Rec::readonlyroot:
      p->readonly_root = true;
      break;
    case Rec::nopivot:
      p->nopivot = true;
      break;
    case Rec::hooks:
      p->hooks = true;
      break;
    case Rec::nnp:
      p->nnp = true;
      break;
    case Rec::mount:
      p->mounts[p->nmounts++] = mount_of(f);
      break;
    case Rec::device:
      p->devices[p->ndevices++] = device_of(f);
      break;
    case Rec::symlink:
      p->symlinks[p->nsymlinks++] = Pair{f[0], f[1]};
      break;
    case Rec::masked:
      p->masked[p->nmasked++] = f[0];
      break;
    case Rec::readonly:
      p->readonly[p->nreadonly++] = f[0];
      break;
    case Rec::sysctl:
      p->sysctls[p->nsysctls++] = Pair{f[0], f[1]};
      break;
    case Rec::rlimit:
      p->rlimits[p->nrlimits++] = Rlimit{(int)parse_ll(f[0]), parse_ull(f[1]), parse_ull(f[2])};
      break;
    case Rec::user:
      store_user(p, f);
      break;
    case Rec::gid:
      p->gids[p->ngids++] = (unsigned)parse_ull(f[0]);
      break;
    case Rec::caps:
      store_caps(p, f);
      break;
    case Rec::cwd:
      p->cwd = f[0];
      break;
    case Rec::arg:
      p->argv[p->nargv++] = f[0];
      break;
    case Rec::env:
      p->envp[p->nenvp++] = f[0];
      break;
    case Rec::fifo:
      p->fifo = f[0];
      break;
    case Rec::preservefds:
      p->preserve_fds = (int)parse_ll(f[0]);
      break;
    case Rec::keyring:
      p->keyring = f[0];
      break;
    case Rec::terminal:
      p->terminal = true;
      break;
    case Rec::console_path:
      p->console_path = f[0];
      break;
    case Rec::console_fd:
      p->console_fd = (int)parse_ll(f[0]);
      break;
    case Rec::console_size:
      store_console_size(p, f);
      break;
    case Rec::personality:
      p->personality = (long)parse_ll(f[0]);
      break;
    case Rec::ioprio:
      p->ioprio = (int)parse_ll(f[0]);
      break;
    case Rec::mempolicy:
      store_mempolicy(p, f);
      break;
    case Rec::sched:
      store_sched(p, f);
      break;
    case Rec::seccomp:
      store_seccomp(&p->seccomp, f);
      break;
    case Rec::seccomp_arch:
      p->seccomp.archs[p->seccomp.narchs++] = f[0];
      break;
    case Rec::seccomp_flags:
      p->seccomp.flags = (unsigned)parse_ull(f[0]);
      break;
    case Rec::seccomp_listener:
      store_seccomp_listener(&p->seccomp, f);
      break;
    case Rec::seccomp_rule:
      p->seccomp.rules[p->seccomp.nrules++] = seccomp_rule_of(f);
      break;
  }
}

// What follows from several records: facts the child asks about more than once.
static void derive_facts(Plan *p) {
  for (int i = 0; i < p->njoins; i++) p->joins_user |= p->joins[i].type == 0x10000000 /* CLONE_NEWUSER */;
  p->new_net = p->cloneflags & 0x40000000 /* CLONE_NEWNET */;
}

static const char *check_complete(const Plan *p) {
  if (!p->mode) return "plan: no mode";
  if (p->terminal && !p->console_path && p->console_fd < 0) return "plan: a terminal needs a console socket";
  return nullptr;
}

const char *plan_parse(Plan *p, char *buf, unsigned len) {
  set_defaults(p);
  int count[kRecCount] = {};
  if (const char *err = count_records(buf, len, count)) return err;
  if (!alloc_arrays(p, count)) return "plan: out of memory";
  Record r;
  Reader rd{buf, buf + len, nullptr};
  while (rd.next(&r)) store_record(p, r);
  if (rd.err) return rd.err;
  derive_facts(p);
  return check_complete(p);
}

// check-plan: what was parsed, printed back as records (tag, then each field after
// \x1f, each record ended by \x1e) for test/unit/plan-drift.test.ts to compare with
// what Node sent. Scalars that Node sends only when set are printed only when set.
namespace {

struct Out {
  int fd;
  void rec(Rec tag) { write_all(fd, kRecNames[(int)tag], cstrlen(kRecNames[(int)tag])); }
  Out &s(const char *v) {
    write_all(fd, "\x1f", 1);
    write_all(fd, v, cstrlen(v));
    return *this;
  }
  Out &n(long long v) {
    Buf b;
    buf_reset(&b);
    buf_num(&b, v);
    return s(buf_cstr(&b));
  }
  Out &u(unsigned long long v) {
    char tmp[24];
    int k = 0;
    do {
      tmp[k++] = (char)('0' + v % 10);
      v /= 10;
    } while (v);
    char out[24];
    int j = 0;
    while (k) out[j++] = tmp[--k];
    out[j] = 0;
    return s(out);
  }
  void end() { write_all(fd, "\x1e", 1); }
};

}  // namespace

void plan_dump(const Plan *p, int fd) {
  Out o{fd};
  auto one = [&](Rec t, const char *v) {
    if (v) {
      o.rec(t);
      o.s(v).end();
    }
  };
  auto flag = [&](Rec t, bool on) {
    if (on) {
      o.rec(t);
      o.s("1").end();
    }
  };
  one(Rec::mode, p->mode);
  if (p->cloneflags) {
    o.rec(Rec::cloneflags);
    o.u(p->cloneflags).end();
  }
  for (int i = 0; i < p->njoins; i++) {
    o.rec(Rec::setns);
    o.n(p->joins[i].type).s(p->joins[i].path).end();
  }
  one(Rec::uidmap, p->uidmap);
  one(Rec::gidmap, p->gidmap);
  one(Rec::timens, p->timens);
  for (int i = 0; i < p->ncgroups; i++) one(Rec::cgroup, p->cgroups[i]);
  one(Rec::cgroup2, p->cgroup2);
  for (int i = 0; i < p->ncgroup_home; i++) one(Rec::cgroup_home, p->cgroup_home[i]);
  for (int i = 0; i < p->ncleanup_cgroups; i++) one(Rec::cleanup_cgroup, p->cleanup_cgroups[i]);
  for (int i = 0; i < p->ncleanup_files; i++) one(Rec::cleanup_file, p->cleanup_files[i]);
  one(Rec::cleanup_dir, p->cleanup_dir);
  one(Rec::oomscore, p->oomscore);
  one(Rec::hostname, p->hostname);
  one(Rec::domainname, p->domainname);
  one(Rec::rootfs, p->rootfs);
  if (p->rootprop) {
    o.rec(Rec::rootprop);
    o.u(p->rootprop).end();
  }
  flag(Rec::readonlyroot, p->readonly_root);
  flag(Rec::nopivot, p->nopivot);
  flag(Rec::hooks, p->hooks);
  flag(Rec::nnp, p->nnp);
  for (int i = 0; i < p->nmounts; i++) {
    const MountPlan &m = p->mounts[i];
    o.rec(Rec::mount);
    o.s(m.src).s(m.dst).s(m.type).u(m.flags).s(m.data).u(m.prop).s(m.kind).s(m.copyup ? "1" : "0").u(m.attr_set).u(m.attr_clr).end();
  }
  for (int i = 0; i < p->ndevices; i++) {
    const DevicePlan &d = p->devices[i];
    char type[2] = {d.type, 0};
    o.rec(Rec::device);
    o.s(d.path).s(type).u(d.major).u(d.minor).u(d.mode).u(d.uid).u(d.gid).s(d.bind ? "bind" : "mknod").end();
  }
  for (int i = 0; i < p->nsymlinks; i++) {
    o.rec(Rec::symlink);
    o.s(p->symlinks[i].a).s(p->symlinks[i].b).end();
  }
  for (int i = 0; i < p->nmasked; i++) one(Rec::masked, p->masked[i]);
  for (int i = 0; i < p->nreadonly; i++) one(Rec::readonly, p->readonly[i]);
  for (int i = 0; i < p->nsysctls; i++) {
    o.rec(Rec::sysctl);
    o.s(p->sysctls[i].a).s(p->sysctls[i].b).end();
  }
  for (int i = 0; i < p->nrlimits; i++) {
    o.rec(Rec::rlimit);
    o.n(p->rlimits[i].resource).u(p->rlimits[i].soft).u(p->rlimits[i].hard).end();
  }
  if (p->has_user) {
    o.rec(Rec::user);
    o.u(p->uid).u(p->gid).n(p->umask).end();
  }
  for (int i = 0; i < p->ngids; i++) {
    o.rec(Rec::gid);
    o.u(p->gids[i]).end();
  }
  if (p->has_caps) {
    o.rec(Rec::caps);
    for (int i = 0; i < 5; i++) o.u(p->caps[i]);
    o.end();
  }
  one(Rec::cwd, p->cwd);
  for (int i = 0; i < p->nargv; i++) one(Rec::arg, p->argv[i]);
  for (int i = 0; i < p->nenvp; i++) one(Rec::env, p->envp[i]);
  one(Rec::fifo, p->fifo);
  if (p->preserve_fds) {
    o.rec(Rec::preservefds);
    o.n(p->preserve_fds).end();
  }
  const Seccomp &sc = p->seccomp;
  if (sc.enabled) {
    o.rec(Rec::seccomp);
    o.s(sc.default_action).u(sc.default_errno).end();
  }
  for (int i = 0; i < sc.narchs; i++) one(Rec::seccomp_arch, sc.archs[i]);
  if (sc.flags) {
    o.rec(Rec::seccomp_flags);
    o.u(sc.flags).end();
  }
  for (int i = 0; i < sc.nrules; i++) {
    o.rec(Rec::seccomp_rule);
    o.s(sc.rules[i].action).u(sc.rules[i].errno_ret).s(sc.rules[i].name).s(sc.rules[i].args).end();
  }
  if (sc.listener_path) {
    o.rec(Rec::seccomp_listener);
    o.s(sc.listener_path).s(sc.listener_state).end();
  }
  flag(Rec::terminal, p->terminal);
  one(Rec::console_path, p->console_path);
  if (p->console_fd >= 0) {
    o.rec(Rec::console_fd);
    o.n(p->console_fd).end();
  }
  if (p->console_rows || p->console_cols) {
    o.rec(Rec::console_size);
    o.u(p->console_rows).u(p->console_cols).end();
  }
  one(Rec::keyring, p->keyring);
  if (p->personality >= 0) {
    o.rec(Rec::personality);
    o.n(p->personality).end();
  }
  if (p->ioprio >= 0) {
    o.rec(Rec::ioprio);
    o.n(p->ioprio).end();
  }
  if (p->has_mempolicy) {
    o.rec(Rec::mempolicy);
    o.n(p->mempolicy_mode).n(p->mempolicy_flags).s(p->mempolicy_nodes).end();
  }
  if (p->has_sched) {
    o.rec(Rec::sched);
    o.u(p->sched_policy).n(p->sched_nice).u(p->sched_priority).u(p->sched_flags).u(p->sched_runtime).u(p->sched_deadline).u(p->sched_period).end();
  }
}
