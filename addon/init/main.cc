// corral-init: the helper Node starts for every container operation that needs
// namespaces. Modes:
//   create SOCKFD   read a plan, clone the container's init, relay its progress
//   exec SOCKFD     read a plan, join a container's namespaces and cgroups, run a process
//   hook PID NSFLAGS TIMEOUT PATH ARG0 [ARG...]   run a hook (inside the namespaces of PID)
//   check-plan      read a plan on stdin, print what was parsed (the drift test)
//   errno-text N... print a line "N <errno_text(N)>" per N (test/unit/errno.test.ts)
// Messages on the socket are text lines; see src/linux/helper.ts for Node's side.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "plan_records.h"
#include "process.h"
#include "seal.h"
#include "terminal.h"
#include "util.h"

static Plan g_plan;

struct NsName {
  int flag;
  const char *name;
};
static const NsName kNamespaces[] = {
    {CLONE_NEWUSER, "user"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},       {CLONE_NEWNET, "net"},
    {CLONE_NEWPID, "pid"},   {CLONE_NEWNS, "mnt"},  {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"},
};

static void say(int fd, const char *a, long long num = -1, const char *b = nullptr) {
  Buf line;
  buf_reset(&line);
  buf_str(&line, a);
  if (num >= 0) {
    buf_char(&line, ' ');
    buf_num(&line, num);
  }
  if (b) {
    buf_char(&line, ' ');
    buf_str(&line, b);
  }
  buf_char(&line, '\n');
  write_all(fd, line.data, line.len);
}

static char *read_plan(int sock, unsigned *len) {
  char line[64];
  if (!read_line(sock, line, sizeof(line))) die_msg("plan: no plan received", nullptr);
  *len = (unsigned)parse_ull(line);
  char *buf = (char *)malloc(*len + 1);
  if (!buf || !read_full(sock, buf, *len)) die_msg("plan: truncated", nullptr);
  buf[*len] = 0;
  return buf;
}

static void write_file_at(int dirfd, const char *path, const char *data, const char *what) {
  int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || !write_all(fd, data, cstrlen(data))) die_errno(what, path, errno);
  close(fd);
}

// Joins the cgroups of files, but for `skip` (a cgroup2 directory the child is cloned into).
static void join_cgroups(const char *const *files, int n, const char *skip = nullptr) {
  Buf pid;
  buf_reset(&pid);
  buf_num(&pid, getpid());
  Buf skipped;
  buf_reset(&skipped);
  if (skip) {
    buf_str(&skipped, skip);
    buf_str(&skipped, "/cgroup.procs");
  }
  for (int i = 0; i < n; i++)
    if (!skip || !streq(files[i], buf_cstr(&skipped))) write_file_at(AT_FDCWD, files[i], buf_cstr(&pid), "join cgroup");
}

// The cgroup2 directory the init is to be born in (clone3's CLONE_INTO_CGROUP), opened
// with its cgroup.procs before any setns: cg->dir < 0 when it is joined the old way. A
// joined cgroup or user namespace would make the kernel refuse the clone (the source
// cgroup must be inside the caller's cgroup namespace), so then it is joined up front.
struct Cgroup2 {
  int dir, procs;
};
static Cgroup2 open_cgroup2(const Plan *p) {
  Cgroup2 cg = {-1, -1};
  if (!p->cgroup2) return cg;
  for (int i = 0; i < p->njoins; i++)
    if (p->joins[i].type == CLONE_NEWCGROUP || p->joins[i].type == CLONE_NEWUSER) return cg;
  Buf procs;
  buf_reset(&procs);
  buf_str(&procs, p->cgroup2);
  buf_str(&procs, "/cgroup.procs");
  if ((cg.dir = open(p->cgroup2, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) die_errno("open cgroup", p->cgroup2, errno);
  if ((cg.procs = open(buf_cstr(&procs), O_WRONLY | O_CLOEXEC)) < 0) die_errno("join cgroup", buf_cstr(&procs), errno);
  return cg;
}

struct CloneArgs {  // struct clone_args of <linux/sched.h>, up to CLONE_ARGS_SIZE_VER2
  unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
static const unsigned long long kCloneIntoCgroup = 0x200000000ULL;

static void join_namespaces(const Plan *p) {
  // All opened first: once in another mount namespace, the paths mean something else.
  int fds[16];
  for (int i = 0; i < p->njoins; i++) {
    fds[i] = open(p->joins[i].path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die_errno("open namespace", p->joins[i].path, errno);
  }
  // The user namespace first: it decides what we may do in the others.
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < p->njoins; i++) {
      bool user = p->joins[i].type == CLONE_NEWUSER;
      if (user != (pass == 0)) continue;
      if (setns(fds[i], p->joins[i].type) < 0) die_errno("setns", p->joins[i].path, errno);
      close(fds[i]);
    }
}

// Rolls back what Node prepared when Node vanished before committing.
[[noreturn]] static void abandon(const Plan *p, pid_t child) {
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  for (int i = 0; i < p->ncleanup_cgroups; i++) rmdir(p->cleanup_cgroups[i]);
  for (int i = 0; i < p->ncleanup_files; i++) unlink(p->cleanup_files[i]);
  if (p->cleanup_dir) rmdir(p->cleanup_dir);
  _exit(1);
}

// Waits for a line from either side. Returns 0 for the child's line, 1 for Node's.
static int next_line(const Plan *p, pid_t child, int node, int sock, char *line, unsigned cap) {
  struct pollfd fds[2] = {{sock, POLLIN, 0}, {node, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      abandon(p, child);
    }
    if (fds[1].revents) {  // Node speaks only when asked; anything else means it is gone
      if (!read_line(node, line, cap) || streq(line, kMsgAbort)) abandon(p, child);
      return 1;
    }
    if (fds[0].revents) {
      if (!read_line(sock, line, cap)) line[0] = 0;
      return 0;
    }
  }
}

[[noreturn]] static void child_failed(int node, pid_t child, const char *line) {
  int status = 0;
  waitpid(child, &status, 0);
  if (line[0]) write_all(node, line, cstrlen(line)), write_all(node, "\n", 1);
  else {
    Buf b;
    buf_reset(&b);
    buf_str(&b, kMsgError);
    buf_str(&b, " container init exited during setup (");
    if (WIFSIGNALED(status)) {
      buf_str(&b, "signal ");
      buf_num(&b, WTERMSIG(status));
    } else {
      buf_str(&b, "status ");
      buf_num(&b, WEXITSTATUS(status));
    }
    buf_str(&b, ")\n");
    write_all(node, b.data, b.len);
  }
  _exit(1);
}

// A fork with flags. With a cgroup2 directory the child is born in that cgroup (clone3,
// Linux 5.7+): on a v2 host this process never enters the container's cgroup. Where the
// kernel cannot, the cgroup is joined the old way first.
static pid_t clone_child(const Plan *p, unsigned long flags, Cgroup2 cg = Cgroup2{-1, -1}) {
  if (cg.dir >= 0) {
    CloneArgs a = {};
    a.flags = flags | kCloneIntoCgroup;
    a.exit_signal = SIGCHLD;
    a.cgroup = (unsigned long long)cg.dir;
    long r = syscall(SYS_clone3, &a, sizeof(a));
    if (r >= 0) return (pid_t)r;
    Buf pid;
    buf_reset(&pid);
    buf_num(&pid, getpid());
    if (!write_all(cg.procs, pid.data, pid.len)) die_errno("join cgroup", p->cgroup2, errno);
  }
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

// Reads, parses and prepares the plan: everything that may allocate happens here.
static Plan *load_plan(int node) {
  unsigned len;
  char *buf = read_plan(node, &len);
  const char *err = plan_parse(&g_plan, buf, len);
  if (!err && g_plan.seccomp.enabled) err = seccomp_compile(&g_plan.seccomp);
  if (err) die_msg(err, nullptr);
  console_connect(&g_plan);  // in our own mount namespace, where the socket path means something
  return &g_plan;
}

static int mode_create(int node) {
  Plan *p = load_plan(node);
  // Joined before the clone, so the init is born inside (and its cgroup namespace is
  // rooted there); the cgroup2 one by the clone itself where the kernel can.
  Cgroup2 cg2 = open_cgroup2(p);
  join_cgroups(p->cgroups, p->ncgroups, cg2.dir >= 0 ? p->cgroup2 : nullptr);
  if (p->fifo && (p->fifo_fd = open(p->fifo, O_PATH | O_CLOEXEC)) < 0) die_errno("open exec fifo", p->fifo, errno);
  int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) die_errno("open /proc", nullptr, errno);
  join_namespaces(p);
  unsigned long flags = p->cloneflags & ~(unsigned long)CLONE_NEWTIME;
  // With a new user namespace the init makes its ipc namespace itself (container_main).
  if (flags & CLONE_NEWUSER) flags &= ~(unsigned long)CLONE_NEWIPC;
  if (p->cloneflags & CLONE_NEWTIME) {
    // A new time namespace is entered by our children; its offsets must be set first.
    if (unshare(CLONE_NEWTIME) < 0) die_errno("unshare time namespace", nullptr, errno);
    if (p->timens) write_file_at(procfd, "self/timens_offsets", p->timens, "write");
  }
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) die_errno("socketpair", nullptr, errno);
  pid_t child = clone_child(p, flags, cg2);
  if (child < 0) die_errno("clone", nullptr, errno);
  if (child == 0) {
    close(sp[0]);
    close(node);
    close(procfd);
    if (cg2.dir >= 0) close(cg2.dir), close(cg2.procs);
    container_main(p, sp[1]);
  }
  close(sp[1]);
  if (cg2.dir >= 0) close(cg2.dir), close(cg2.procs);
  int sock = sp[0];
  g_report_fd = node;
  // Back out of the container's cgroups: they must be removable without us.
  join_cgroups(p->cgroup_home, p->ncgroup_home);
  Buf path;
  if (flags & CLONE_NEWUSER) {
    if (p->uidmap) {
      buf_reset(&path);
      buf_num(&path, child);
      buf_str(&path, "/uid_map");
      write_file_at(procfd, buf_cstr(&path), p->uidmap, "write");
    }
    if (p->gidmap) {
      buf_reset(&path);
      buf_num(&path, child);
      buf_str(&path, "/gid_map");
      write_file_at(procfd, buf_cstr(&path), p->gidmap, "write");
    }
  }
  if (p->oomscore) {
    buf_reset(&path);
    buf_num(&path, child);
    buf_str(&path, "/oom_score_adj");
    write_file_at(procfd, buf_cstr(&path), p->oomscore, "write");
  }
  say(sock, kMsgGo);
  say(node, kMsgPid, child);
  char line[4096];
  for (;;) {
    if (next_line(p, child, node, sock, line, sizeof(line)) == 1) die_msg("sync: Node spoke out of turn:", line);
    if (streq(line, kMsgHooks)) {
      say(node, kMsgHooks);
      if (next_line(p, child, node, sock, line, sizeof(line)) == 0) child_failed(node, child, line);
      say(sock, line);  // continue
    } else if (streq(line, kMsgReady)) {
      say(node, kMsgReady);
      if (next_line(p, child, node, sock, line, sizeof(line)) == 0) child_failed(node, child, line);
      say(sock, line);  // commit
      // The child closes its end once it stopped depending on us.
      char c;
      while (read(sock, &c, 1) > 0) {
      }
      return 0;
    } else {
      child_failed(node, child, line);
    }
  }
}

static int mode_exec(int node) {
  Plan *p = load_plan(node);
  g_report_fd = node;
  // Inherited by the process forked below; written while the host's /proc is ours.
  if (p->oomscore) write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", p->oomscore, "write");
  join_cgroups(p->cgroups, p->ncgroups);
  join_namespaces(p);
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) die_errno("socketpair", nullptr, errno);
  pid_t child = clone_child(p, 0);  // a fork, so the process is inside a joined pid namespace
  if (child < 0) die_errno("clone", nullptr, errno);
  if (child == 0) {
    close(sp[0]);
    close(node);
    g_report_fd = sp[1];
    if (p->cwd && chdir(p->cwd) < 0) die_errno("chdir", p->cwd, errno);
    apply_rlimits(p);
    apply_process_attrs(p);
    char path[4096];
    resolve_exec(p, path, sizeof(path));
    prepare_env(p);
    if (p->terminal) setup_terminal(p, false);
    exec_process(p, path);  // success closes sp[1] (CLOEXEC)
  }
  close(sp[1]);
  say(node, kMsgPid, child);
  char line[4096];
  if (read_line(sp[0], line, sizeof(line))) child_failed(node, child, line);
  say(node, kMsgReady);
  return 0;
}

static volatile pid_t g_hook_group;
static void on_parent_death(int) {
  if (g_hook_group > 0) kill(-g_hook_group, SIGKILL);
  _exit(1);
}

// Runs a hook (in the namespaces of PID unless it is 0) in a process group of its own:
// at TIMEOUT seconds (0: none) the whole group is killed, and so are we, by SIGKILL,
// which tells Node it timed out. Otherwise we end as the hook ended.
static int mode_hook(int argc, char **argv, char **envp) {
  if (argc < 7) die_msg("usage: corral-init hook PID NSFLAGS TIMEOUT PATH ARG0 [ARG...]", nullptr);
  const char *pid = argv[2];
  unsigned long flags = parse_ull(argv[3]);
  long long timeout = parse_ll(argv[4]);
  if (!streq(pid, "0")) {
    // Every namespace file is opened before entering any: once in the container's mount
    // namespace, /proc is the container's, where PID is not.
    int fds[sizeof(kNamespaces) / sizeof(kNamespaces[0])];
    for (size_t i = 0; i < sizeof(kNamespaces) / sizeof(kNamespaces[0]); i++) {
      const NsName &ns = kNamespaces[i];
      fds[i] = -1;
      if (!(flags & (unsigned long)ns.flag)) continue;
      Buf path;
      buf_reset(&path);
      buf_str(&path, "/proc/");
      buf_str(&path, pid);
      buf_str(&path, "/ns/");
      buf_str(&path, ns.name);
      Buf own;
      buf_reset(&own);
      buf_str(&own, "/proc/self/ns/");
      buf_str(&own, ns.name);
      struct stat a, b;
      if (stat(buf_cstr(&path), &a) < 0) die_errno("hook: namespace", buf_cstr(&path), errno);
      if (stat(buf_cstr(&own), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
      if ((fds[i] = open(buf_cstr(&path), O_RDONLY | O_CLOEXEC)) < 0) die_errno("hook: open", buf_cstr(&path), errno);
    }
    for (int pass = 0; pass < 2; pass++)  // the user namespace first
      for (size_t i = 0; i < sizeof(kNamespaces) / sizeof(kNamespaces[0]); i++) {
        if (fds[i] < 0 || (kNamespaces[i].flag == CLONE_NEWUSER) != (pass == 0)) continue;
        if (setns(fds[i], kNamespaces[i].flag) < 0) die_errno("hook: setns", kNamespaces[i].name, errno);
        close(fds[i]);
      }
  }
  // Should corral die meanwhile, so do the hook and its group (see on_parent_death).
  struct sigaction term = {};
  term.sa_handler = on_parent_death;
  sigaction(SIGTERM, &term, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  if (getppid() == 1) on_parent_death(SIGTERM);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  pid_t child = clone_child(nullptr, 0);
  if (child < 0) die_errno("hook: fork", nullptr, errno);
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &chld, nullptr);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    execve(argv[5], argv + 6, envp);
    die_errno("hook: exec", argv[5], errno);
  }
  setpgid(child, child);  // as the child does: whichever runs first
  g_hook_group = child;
  struct timespec left = {(time_t)timeout, 0};
  int status = 0;
  for (;;) {
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0 && errno != EINTR) die_errno("hook: wait", nullptr, errno);
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    if (sigtimedwait(&chld, nullptr, timeout > 0 ? &left : nullptr) < 0 && errno == EAGAIN) {
      kill(-child, SIGKILL);  // the hook and whatever it started in its group
      waitpid(child, nullptr, 0);
      kill(getpid(), SIGKILL);
    }
    if (timeout > 0) {
      clock_gettime(CLOCK_MONOTONIC, &after);
      long long ns = (left.tv_sec - (after.tv_sec - before.tv_sec)) * 1000000000LL + left.tv_nsec - (after.tv_nsec - before.tv_nsec);
      if (ns <= 0) ns = 1;
      left.tv_sec = (time_t)(ns / 1000000000LL);
      left.tv_nsec = (long)(ns % 1000000000LL);
    }
  }
  if (WIFSIGNALED(status)) {  // die as the hook died, so Node reads the same signal
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(WTERMSIG(status), SIG_DFL);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    kill(getpid(), WTERMSIG(status));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv, char **envp) {
  if (argc < 2) die_msg("corral-init is started by corral, not by hand", nullptr);
  // check-plan: parse a plan from stdin and print it back (test/unit/plan-drift.test.ts).
  if (streq(argv[1], "check-plan")) {
    unsigned len;
    char *buf = read_plan(0, &len);
    const char *err = plan_parse(&g_plan, buf, len);
    if (err) die_msg(err, nullptr);
    plan_dump(&g_plan, 1);
    return 0;
  }
  if (streq(argv[1], "errno-text")) {
    for (int i = 2; i < argc; i++) say(1, argv[i], -1, errno_text((int)parse_ll(argv[i])));
    return 0;
  }
  // A hook in the host's namespaces (PID 0) never lets the container near this binary.
  bool host_hook = streq(argv[1], "hook") && argc > 2 && streq(argv[2], "0");
  if (!host_hook) ensure_sealed(argv, envp);
  if (streq(argv[1], "hook")) return mode_hook(argc, argv, envp);
  if (argc < 3) die_msg("usage: corral-init create|exec SOCKFD", nullptr);
  int node = (int)parse_ll(argv[2]);
  g_report_fd = node;
  fcntl(node, F_SETFD, FD_CLOEXEC);
  if (streq(argv[1], "create")) return mode_create(node);
  if (streq(argv[1], "exec")) return mode_exec(node);
  die_msg("unknown mode", argv[1]);
}
