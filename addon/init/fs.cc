#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {};
  how.flags = (unsigned long long)(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  while (*path == '/') path++;
  if (!*path) path = ".";
  for (;;) {
    long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    if (fd >= 0 || errno != EAGAIN) return (int)fd;  // EAGAIN: a rename raced; retry
  }
}

// When name (in dirfd, reached by the prefix `dir`) is a symlink, writes the path it
// points to, taken inside the root, followed by `rest`, into out. false otherwise.
static bool follow_dangling(int dirfd, const char *dir, const char *name, const char *rest, char *out, size_t cap) {
  char target[4096];
  ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
  if (n <= 0) return false;
  target[n] = 0;
  size_t len = 0;
  auto put = [&](const char *s) { while (*s && len + 1 < cap) out[len++] = *s++; };
  if (target[0] != '/') { put(dir); put("/"); }  // relative to the link's directory
  put(target);
  if (*rest) { put("/"); put(rest); }
  out[len] = 0;
  return len + 1 < cap;
}

static int mkdir_all_depth(int rootfd, const char *path, mode_t mode, int depth) {
  if (depth > 40) { errno = ELOOP; return -1; }
  char prefix[4096];
  size_t n = 0;
  prefix[0] = 0;
  int fd = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
  const char *p = path;
  while (fd >= 0) {
    while (*p == '/') p++;
    if (!*p) return fd;
    const char *start = p;
    while (*p && *p != '/') p++;
    size_t clen = (size_t)(p - start);
    char comp[256];
    if (clen >= sizeof(comp) || n + clen + 2 >= sizeof(prefix)) { close(fd); errno = ENAMETOOLONG; return -1; }
    for (size_t i = 0; i < clen; i++) comp[i] = start[i];
    comp[clen] = 0;
    char parent[4096];
    for (size_t i = 0; i <= n; i++) parent[i] = prefix[i];
    prefix[n++] = '/';
    for (size_t i = 0; i < clen; i++) prefix[n++] = start[i];
    prefix[n] = 0;
    int next = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
    if (next < 0 && errno == ENOENT) {
      // fd is the already resolved parent: create the component right there.
      if (mkdirat(fd, comp, mode) < 0 && errno != EEXIST) { int e = errno; close(fd); errno = e; return -1; }
      next = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
      char redirected[4096];
      // A dangling symlink: create what it points to, inside the root, as runc does.
      if (next < 0 && errno == ENOENT && follow_dangling(fd, parent, comp, p, redirected, sizeof(redirected))) {
        close(fd);
        return mkdir_all_depth(rootfd, redirected, mode, depth + 1);
      }
    }
    int e = errno;
    close(fd);
    errno = e;
    fd = next;
  }
  return -1;
}

int mkdir_all_in_root(int rootfd, const char *path, mode_t mode) {
  return mkdir_all_depth(rootfd, path, mode, 0);
}

int parent_in_root(int rootfd, const char *path, const char **base, bool create) {
  char dir[4096];
  size_t len = cstrlen(path);
  while (len > 1 && path[len - 1] == '/') len--;
  size_t slash = len;
  while (slash > 0 && path[slash - 1] != '/') slash--;
  if (slash >= sizeof(dir)) { errno = ENAMETOOLONG; return -1; }
  for (size_t i = 0; i < slash; i++) dir[i] = path[i];
  dir[slash] = 0;
  *base = path + slash;
  if (create) return mkdir_all_in_root(rootfd, dir, 0755);
  return open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
}

static int ensure_depth(int rootfd, const char *path, const char *kind, int depth) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;
  if (depth > 40) { errno = ELOOP; return -1; }
  if (streq(kind, "dir")) return mkdir_all_in_root(rootfd, path, 0755);
  if (!streq(kind, "file")) return -1;
  const char *base;
  int dfd = parent_in_root(rootfd, path, &base, true);
  if (dfd < 0) return -1;
  int f = openat(dfd, base, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int e = errno;
  if (f < 0 && e == EEXIST) {
    // The destination itself is a dangling symlink: create its target inside the root.
    char dir[4096], redirected[4096];
    size_t dl = (size_t)(base - path);
    if (dl >= sizeof(dir)) dl = sizeof(dir) - 1;
    for (size_t i = 0; i < dl; i++) dir[i] = path[i];
    dir[dl] = 0;
    bool link = follow_dangling(dfd, dir, base, "", redirected, sizeof(redirected));
    close(dfd);
    if (link) return ensure_depth(rootfd, redirected, kind, depth + 1);
    errno = e;
    return -1;
  }
  close(dfd);
  if (f < 0) { errno = e; return -1; }
  close(f);
  return open_in_root(rootfd, path, O_PATH);
}

int ensure_in_root(int rootfd, const char *path, const char *kind) {
  return ensure_depth(rootfd, path, kind, 0);
}

const char *fd_path(int fd, int slot) {
  static Buf bufs[4];
  Buf *b = &bufs[slot & 3];
  buf_reset(b);
  buf_str(b, "/proc/self/fd/");
  buf_num(b, fd);
  return buf_cstr(b);
}

int open_own_fd_dir() {
  // A procfs of our own pid namespace, attached nowhere, with pid directories only
  // (no sys/, no kcore, no sysrq-trigger: subset=pid, kernel 5.8).
  int fs = (int)syscall(SYS_fsopen, "proc", 1 /* FSOPEN_CLOEXEC */);
  if (fs < 0) return -1;
  int mnt = -1;
  if (syscall(SYS_fsconfig, fs, 1 /* FSCONFIG_SET_STRING */, "subset", "pid", 0) == 0 &&
      syscall(SYS_fsconfig, fs, 6 /* FSCONFIG_CMD_CREATE */, nullptr, nullptr, 0) == 0)
    mnt = (int)syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0x2 | 0x4 | 0x8 /* MOUNT_ATTR_NOSUID|NODEV|NOEXEC */);
  int err = errno;
  close(fs);
  if (mnt < 0) { errno = err; return -1; }
  int dir = openat(mnt, "self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  err = errno;
  close(mnt);
  errno = err;
  return dir;
}
