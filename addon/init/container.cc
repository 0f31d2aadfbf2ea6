#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

#include "fs.h"
#include "plan_records.h"
#include "process.h"
#include "terminal.h"
#include "util.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

void sync_expect(int sock, const char *want) {
  char line[256];
  if (!read_line(sock, line, sizeof(line))) _exit(1);  // the runtime went away: nothing to report to
  if (!streq(line, want)) die_msg("sync: unexpected message", line);
}

static void say(int sock, const char *msg) {
  write_all(sock, msg, cstrlen(msg));
  write_all(sock, "\n", 1);
}

// Flags a bind remount must keep: in a user namespace the kernel refuses to drop
// nosuid/nodev/noexec/atime flags that were locked by the mount's owner.
static unsigned long locked_flags(int fd) {
  struct statvfs sv;
  unsigned long f = 0;
  if (fstatvfs(fd, &sv) < 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static void remount(int rootfd, const char *dst, unsigned long flags, bool keep_flags = false) {
  int fd = open_in_root(rootfd, dst, O_PATH);
  if (fd < 0) die_errno("remount: open", dst, errno);
  if (keep_flags) flags |= locked_flags(fd);
  if (mount("", fd_path(fd, 0), nullptr, flags, nullptr) < 0) {
    if (errno != EPERM || mount("", fd_path(fd, 0), nullptr, flags | locked_flags(fd), nullptr) < 0) die_errno("remount", dst, errno);
  }
  close(fd);
}

static constexpr unsigned long kPropagation = MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE;

static void do_mount(int rootfd, const MountPlan *m) {
  int fd = ensure_in_root(rootfd, m->dst, m->kind);
  if (fd < 0) die_errno("mount: create mount point", m->dst, errno);
  unsigned long flags = m->flags & ~kPropagation;
  if (flags & MS_BIND) {
    // The source is a host path (resolved in the runtime's mount namespace).
    if (mount(m->src, fd_path(fd, 0), nullptr, MS_BIND | (flags & MS_REC), nullptr) < 0) {
      // Name both ends: "no such file" may be either.
      Buf b;
      buf_reset(&b);
      buf_str(&b, "mount: bind ");
      buf_str(&b, m->src);
      buf_str(&b, " on");
      die_errno(buf_cstr(&b), m->dst, errno);
    }
    close(fd);
    unsigned long extra = flags & ~(MS_BIND | MS_REC);
    if (extra) remount(rootfd, m->dst, MS_REMOUNT | MS_BIND | extra);
  } else {
    // tmpcopyup: keep a handle on the directory the tmpfs will cover, to copy it in.
    int below = -1;
    if (m->copyup) {
      below = open_in_root(rootfd, m->dst, O_RDONLY | O_DIRECTORY);
      if (below < 0) die_errno("tmpcopyup: open", m->dst, errno);
    }
    if (mount(m->src, fd_path(fd, 0), m->type, flags, m->data) < 0) {
      Buf b;
      buf_reset(&b);
      buf_str(&b, m->type);
      buf_str(&b, " on");
      die_errno(buf_cstr(&b), m->dst, errno);
    }
    close(fd);
    if (below >= 0) {
      int top = open_in_root(rootfd, m->dst, O_RDONLY | O_DIRECTORY);
      // The contents only: the tmpfs's own mode= and owner stay as mounted (runc's way).
      if (top < 0 || copy_tree(below, top, 0) < 0) die_errno("tmpcopyup: copy into", m->dst, errno);
      close(top);
      close(below);
    }
  }
  if (m->attr_set || m->attr_clr) {  // rro, rnosuid, ...: down the whole mounted tree
    struct {
      uint64_t attr_set, attr_clr, propagation, userns_fd;
    } attr = {m->attr_set, m->attr_clr, 0, 0};
    int afd = open_in_root(rootfd, m->dst, O_PATH);
    if (afd < 0 || syscall(SYS_mount_setattr, afd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) die_errno("mount: set recursive attributes of", m->dst, errno);
    close(afd);
  }
  if (m->prop) {
    int pfd = open_in_root(rootfd, m->dst, O_PATH);
    if (pfd < 0 || mount("", fd_path(pfd, 0), nullptr, m->prop, nullptr) < 0) die_errno("mount: set propagation of", m->dst, errno);
    close(pfd);
  }
}

static void make_device(int rootfd, const DevicePlan *d) {
  const char *base;
  int dfd = parent_in_root(rootfd, d->path, &base, true);
  if (dfd < 0) die_errno("device: create parent of", d->path, errno);
  if (d->bind) {
    int f = openat(dfd, base, O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0) die_errno("device: create mount point", d->path, errno);
    close(f);
    int t = open_in_root(rootfd, d->path, O_PATH);
    if (t < 0 || mount(d->path, fd_path(t, 0), nullptr, MS_BIND, nullptr) < 0) die_errno("device: bind", d->path, errno);
    close(t);
  } else {
    mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
    dev_t dev = makedev(d->major, d->minor);
    if (mknodat(dfd, base, type | (d->mode & 07777), dev) < 0) {
      // An existing node (e.g. from the rootfs image) is replaced, never a directory.
      if (errno != EEXIST || unlinkat(dfd, base, 0) < 0 || mknodat(dfd, base, type | (d->mode & 07777), dev) < 0) die_errno("device: mknod", d->path, errno);
    }
    if (fchownat(dfd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0) die_errno("device: chown", d->path, errno);
  }
  close(dfd);
}

static void make_symlink(int rootfd, const Pair *s) {
  const char *base;
  int dfd = parent_in_root(rootfd, s->b, &base, true);
  if (dfd < 0) die_errno("symlink: create parent of", s->b, errno);
  if (symlinkat(s->a, dfd, base) < 0 && errno != EEXIST) die_errno("symlink", s->b, errno);
  close(dfd);
}

static void write_sysctl(int rootfd, const Pair *s) {
  char path[512];
  unsigned n = 0;
  for (const char *c = "proc/sys/"; *c; c++) path[n++] = *c;
  for (const char *c = s->a; *c && n + 1 < sizeof(path); c++) path[n++] = *c == '.' ? '/' : *c;
  path[n] = 0;
  int fd = open_in_root(rootfd, path, O_WRONLY);
  if (fd < 0) die_errno("sysctl", s->a, errno);
  struct statfs sf;
  // Write only through a real procfs, never through something mounted over it.
  if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) die_msg("sysctl: not on procfs:", s->a);
  if (!write_all(fd, s->b, cstrlen(s->b))) die_errno("sysctl", s->a, errno);
  close(fd);
}

static void mask_path(int rootfd, const char *path) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd < 0) {
    if (errno == ENOENT) return;
    die_errno("maskedPaths: open", path, errno);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) die_errno("maskedPaths: stat", path, errno);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", fd_path(fd, 0), "tmpfs", MS_RDONLY, nullptr) < 0) die_errno("maskedPaths: mount", path, errno);
  } else {
    int nfd = open_in_root(rootfd, "/dev/null", O_PATH);
    struct stat ns;
    // Only the real /dev/null may be used to hide a file (CVE-2025-31133).
    if (nfd < 0 || fstat(nfd, &ns) < 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3))
      die_msg("maskedPaths: /dev/null in the container is not the null device; cannot mask", path);
    if (mount(fd_path(nfd, 1), fd_path(fd, 0), nullptr, MS_BIND, nullptr) < 0) die_errno("maskedPaths: mount", path, errno);
    close(nfd);
  }
  close(fd);
}

static void readonly_path(int rootfd, const char *path) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd < 0) {
    if (errno == ENOENT) return;
    die_errno("readonlyPaths: open", path, errno);
  }
  if (mount(fd_path(fd, 0), fd_path(fd, 0), nullptr, MS_BIND | MS_REC, nullptr) < 0) die_errno("readonlyPaths: bind", path, errno);
  close(fd);
  // Keeps what the mount had (proc's nosuid,nodev,noexec), as runc.
  remount(rootfd, path, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, true);
}

static void enter_root(const Plan *p, int rootfd) {
  if (p->nopivot || !(p->cloneflags & CLONE_NEWNS)) {
    // No private mount namespace (or --no-pivot): pivot_root would move every
    // process of the shared namespace, so only this process changes root.
    if (fchdir(rootfd) < 0) die_errno("chdir", p->rootfs, errno);
    if ((p->cloneflags & CLONE_NEWNS) && mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) die_errno("move root", p->rootfs, errno);
    if (chroot(".") < 0) die_errno("chroot", p->rootfs, errno);
  } else {
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0) die_errno("open /", nullptr, errno);
    if (fchdir(rootfd) < 0) die_errno("chdir", p->rootfs, errno);
    if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno("pivot_root", p->rootfs, errno);
    // The old root is stacked under the new one: detach it without telling the host.
    if (fchdir(oldroot) < 0) die_errno("chdir old root", nullptr, errno);
    if (mount("", ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) die_errno("make old root rslave", nullptr, errno);
    if (umount2(".", MNT_DETACH) < 0) die_errno("unmount old root", nullptr, errno);
    close(oldroot);
  }
  if (chdir("/") < 0) die_errno("chdir /", nullptr, errno);
}

// runc brings lo up in a network namespace it creates: local services need it.
static void bring_up_lo() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_errno("socket", nullptr, errno);
  struct ifreq ifr = {};
  for (const char *n = "lo"; *n; n++) ifr.ifr_name[n - "lo"] = *n;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die_errno("get flags of", "lo", errno);
  ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die_errno("bring up", "lo", errno);
  close(s);
}

static void exit_on_signal(int sig) { _exit(128 + sig); }

// Until execve a signal that would end a normal process ends this one too,
// although as a pid namespace's init it would otherwise ignore it.
static void exit_on_terminating_signals() {
  struct sigaction sa = {};
  sa.sa_handler = exit_on_signal;
  const int term_sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM};
  for (int s : term_sigs) sigaction(s, &sa, nullptr);
}

// The fifo is reopened for writing through our /proc/self/fd at start time, when
// its path is not reachable by name any more. It was opened by our parent as the
// host's root (a user namespace's root cannot search a 0700/0600 state directory).
// The fd directory is of a procfs of the container's pid namespace, never the
// host's /proc (see fs.h). -1 without a fifo.
static int open_fifo_fd_dir(const Plan *p) {
  if (p->fifo_fd < 0) return -1;
  int fddir = open_own_fd_dir();
  if (fddir < 0) die_errno("open /proc/self/fd", nullptr, errno);
  return fddir;
}

static void become_user_namespace_root(const Plan *p) {
  // In a new or joined user namespace, be its root (the id the maps give 0).
  if (((p->cloneflags & CLONE_NEWUSER) || p->joins_user) && (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0))
    die_errno("become root in the user namespace", nullptr, errno);
  // A new ipc namespace is made here, by the user namespace's root, not by the clone:
  // its mqueue filesystem belongs to whoever makes it (runc's order, too).
  if ((p->cloneflags & CLONE_NEWUSER) && (p->cloneflags & CLONE_NEWIPC) && unshare(CLONE_NEWIPC) < 0) die_errno("unshare ipc namespace", nullptr, errno);
}

static void set_up_network_and_names(const Plan *p) {
  if (p->new_net) bring_up_lo();
  if (p->hostname && sethostname(p->hostname, cstrlen(p->hostname)) < 0) die_errno("sethostname", p->hostname, errno);
  if (p->domainname && setdomainname(p->domainname, cstrlen(p->domainname)) < 0) die_errno("setdomainname", p->domainname, errno);
}

// The rootfs bound onto itself (so it is a mount pivot_root can move), opened.
static int bind_rootfs(const Plan *p, bool private_ns) {
  if (private_ns) {
    // Nothing mounted from here on may propagate back to the host.
    unsigned long rootflag = (p->rootprop & (MS_PRIVATE | MS_SLAVE)) ? p->rootprop : (MS_SLAVE | MS_REC);
    if (mount("", "/", nullptr, rootflag | MS_REC, nullptr) < 0) die_errno("make / rslave", nullptr, errno);
  }
  if (mount(p->rootfs, p->rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0) die_errno("bind rootfs", p->rootfs, errno);
  int rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die_errno("open rootfs", p->rootfs, errno);
  return rootfd;
}

// Mounts, devices, symlinks, sysctls, masked and read-only paths, and the cwd.
static void populate_rootfs(const Plan *p, int rootfd) {
  for (int i = 0; i < p->nmounts; i++) do_mount(rootfd, &p->mounts[i]);
  for (int i = 0; i < p->ndevices; i++) make_device(rootfd, &p->devices[i]);
  for (int i = 0; i < p->nsymlinks; i++) make_symlink(rootfd, &p->symlinks[i]);
  for (int i = 0; i < p->nsysctls; i++) write_sysctl(rootfd, &p->sysctls[i]);
  for (int i = 0; i < p->nmasked; i++) mask_path(rootfd, p->masked[i]);
  for (int i = 0; i < p->nreadonly; i++) readonly_path(rootfd, p->readonly[i]);
  if (p->cwd) {
    int c = mkdir_all_in_root(rootfd, p->cwd, 0755);
    if (c < 0) die_errno("cwd", p->cwd, errno);
    close(c);
  }
}

// createRuntime/createContainer hooks run now, before the root changes.
static void wait_for_create_hooks(const Plan *p, int sock) {
  if (!p->hooks) return;
  say(sock, kMsgHooks);
  sync_expect(sock, kMsgContinue);
}

// In the new root: read-only if asked, its propagation, the process's cwd.
static void finish_root(const Plan *p, bool private_ns) {
  if (p->readonly_root) {
    int r = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r < 0 || mount("", "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(r), nullptr) < 0) die_errno("remount / read-only", nullptr, errno);
    close(r);
  }
  if (private_ns && p->rootprop && mount("", "/", nullptr, p->rootprop, nullptr) < 0) die_errno("set rootfsPropagation", nullptr, errno);
  if (p->cwd && chdir(p->cwd) < 0) die_errno("chdir", p->cwd, errno);
}

// Everything the process gets before execve; path receives the program's path.
static void prepare_process(const Plan *p, char *path, size_t cap) {
  apply_rlimits(p);
  apply_process_attrs(p);
  // A container created without a process can never be started: it only waits.
  if (p->nargv) {
    resolve_exec(p, path, cap);
    prepare_env(p);
  }
  if (p->terminal) setup_terminal(p, true);
}

// Ready, then the runtime's commit: from here on we depend on no one and errors go
// to the container's stderr.
static void report_ready_and_commit(int sock) {
  say(sock, kMsgReady);
  sync_expect(sock, kMsgCommit);
  if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) die_errno("prctl pdeathsig", nullptr, errno);
  close(sock);
  g_report_fd = -1;
}

// Blocks until `start` opens the fifo for reading, then tells it we run.
static void wait_for_start(int fifo, int fddir) {
  if (fifo < 0) return;
  Buf name;
  buf_reset(&name);
  buf_num(&name, fifo);
  int w;
  do w = openat(fddir, buf_cstr(&name), O_WRONLY | O_CLOEXEC);
  while (w < 0 && errno == EINTR);
  if (w < 0) die_errno("open exec fifo", nullptr, errno);
  if (!write_all(w, "0", 1)) die_errno("write exec fifo", nullptr, errno);
  close(w);
  close(fifo);
  close(fddir);
}

void container_main(const Plan *p, int sock) {
  g_report_fd = sock;
  sync_expect(sock, kMsgGo);  // the parent has written our id maps
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl pdeathsig", nullptr, errno);
  int fifo = p->fifo_fd, fddir = open_fifo_fd_dir(p);
  become_user_namespace_root(p);
  exit_on_terminating_signals();
  umask(0);
  set_up_network_and_names(p);
  bool private_ns = p->cloneflags & CLONE_NEWNS;
  int rootfd = bind_rootfs(p, private_ns);
  populate_rootfs(p, rootfd);
  wait_for_create_hooks(p, sock);
  enter_root(p, rootfd);
  close(rootfd);
  finish_root(p, private_ns);
  char path[4096];
  prepare_process(p, path, sizeof(path));
  report_ready_and_commit(sock);
  wait_for_start(fifo, fddir);
  if (!p->nargv) _exit(0);  // created without a process: nothing to run
  exec_process(p, path);
}
