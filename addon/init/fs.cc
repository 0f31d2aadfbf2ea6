#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <time.h>
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
  auto put = [&](const char *s) {
    while (*s && len + 1 < cap) out[len++] = *s++;
  };
  if (target[0] != '/') {
    put(dir);
    put("/");
  }  // relative to the link's directory
  put(target);
  if (*rest) {
    put("/");
    put(rest);
  }
  out[len] = 0;
  return len + 1 < cap;
}

static int mkdir_all_depth(int rootfd, const char *path, mode_t mode, int depth) {
  if (depth > 40) {
    errno = ELOOP;
    return -1;
  }
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
    if (clen >= sizeof(comp) || n + clen + 2 >= sizeof(prefix)) {
      close(fd);
      errno = ENAMETOOLONG;
      return -1;
    }
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
      if (mkdirat(fd, comp, mode) < 0 && errno != EEXIST) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
      }
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

int mkdir_all_in_root(int rootfd, const char *path, mode_t mode) { return mkdir_all_depth(rootfd, path, mode, 0); }

int parent_in_root(int rootfd, const char *path, const char **base, bool create) {
  char dir[4096];
  size_t len = cstrlen(path);
  while (len > 1 && path[len - 1] == '/') len--;
  size_t slash = len;
  while (slash > 0 && path[slash - 1] != '/') slash--;
  if (slash >= sizeof(dir)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (size_t i = 0; i < slash; i++) dir[i] = path[i];
  dir[slash] = 0;
  *base = path + slash;
  if (create) return mkdir_all_in_root(rootfd, dir, 0755);
  return open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
}

static int ensure_depth(int rootfd, const char *path, const char *kind, int depth) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;
  if (depth > 40) {
    errno = ELOOP;
    return -1;
  }
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
  if (f < 0) {
    errno = e;
    return -1;
  }
  close(f);
  return open_in_root(rootfd, path, O_PATH);
}

int ensure_in_root(int rootfd, const char *path, const char *kind) { return ensure_depth(rootfd, path, kind, 0); }

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
  if (syscall(SYS_fsconfig, fs, 1 /* FSCONFIG_SET_STRING */, "subset", "pid", 0) == 0 && syscall(SYS_fsconfig, fs, 6 /* FSCONFIG_CMD_CREATE */, nullptr, nullptr, 0) == 0)
    mnt = (int)syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0x2 | 0x4 | 0x8 /* MOUNT_ATTR_NOSUID|NODEV|NOEXEC */);
  int err = errno;
  close(fs);
  if (mnt < 0) {
    errno = err;
    return -1;
  }
  int dir = openat(mnt, "self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  err = errno;
  close(mnt);
  errno = err;
  return dir;
}

static int copy_attrs(int dirfd, const char *name, const struct stat *st, bool link) {
  int flags = link ? AT_SYMLINK_NOFOLLOW : 0;
  if (fchownat(dirfd, name, st->st_uid, st->st_gid, flags) < 0) return -1;
  if (!link && fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0) return -1;
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  return utimensat(dirfd, name, times, flags);
}

int copy_tree(int from, int to, int depth) {
  if (depth > 64) {
    errno = ELOOP;
    return -1;
  }
  char buf[8192];
  for (;;) {
    long n = syscall(SYS_getdents64, from, buf, sizeof(buf));
    if (n < 0) return -1;
    if (n == 0) return 0;
    for (long off = 0; off < n;) {
      struct dirent64 {
        unsigned long long ino;
        long long off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      auto *d = (dirent64 *)(buf + off);
      off += d->reclen;
      const char *name = d->name;
      if (streq(name, ".") || streq(name, "..")) continue;
      struct stat st;
      if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
      if (S_ISDIR(st.st_mode)) {
        if (mkdirat(to, name, 0700) < 0 && errno != EEXIST) return -1;
        int s = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int t = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r = (s < 0 || t < 0) ? -1 : copy_tree(s, t, depth + 1);
        int e = errno;
        if (s >= 0) close(s);
        if (t >= 0) close(t);
        if (r < 0) {
          errno = e;
          return -1;
        }
      } else if (S_ISREG(st.st_mode)) {
        int s = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0) return -1;
        int t = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (t < 0) {
          int e = errno;
          close(s);
          errno = e;
          return -1;
        }
        char chunk[16384];
        ssize_t r;
        while ((r = read(s, chunk, sizeof(chunk))) > 0)
          if (!write_all(t, chunk, (size_t)r)) {
            r = -1;
            break;
          }
        int e = errno;
        close(s);
        close(t);
        if (r < 0) {
          errno = e;
          return -1;
        }
      } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t l = readlinkat(from, name, target, sizeof(target) - 1);
        if (l < 0) return -1;
        target[l] = 0;
        if (symlinkat(target, to, name) < 0) return -1;
      } else {
        if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) return -1;
      }
      if (copy_attrs(to, name, &st, S_ISLNK(st.st_mode)) < 0) return -1;
    }
  }
}
