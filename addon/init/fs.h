// Path handling inside the container's root: every lookup goes through
// openat2(RESOLVE_IN_ROOT) on a root directory fd, so a symlink in the rootfs can
// never lead a mount, device or write outside it. Async-signal-safe.
#pragma once
#include <sys/types.h>

// O_PATH fd of path (absolute or relative, taken inside root). -1 with errno on failure.
int open_in_root(int rootfd, const char *path, int flags);
// Creates missing directories of path inside root; returns an O_PATH fd of the last one.
int mkdir_all_in_root(int rootfd, const char *path, mode_t mode);
// O_PATH fd of path, creating it (and its parents) first when missing:
// kind "dir" makes a directory, "file" an empty file, anything else creates nothing.
int ensure_in_root(int rootfd, const char *path, const char *kind);
// Copies the tree under directory fd from into directory fd to: files, directories,
// symlinks, device nodes and fifos, with modes, owners and times. 0 or -1 with errno.
int copy_tree(int from, int to, int depth);
// "/proc/self/fd/N" for fd (a static buffer per slot 0..3).
const char *fd_path(int fd, int slot);
// Splits path into its parent directory and last component, inside root: returns an
// O_PATH fd of the (created) parent and points *base at the last component.
int parent_in_root(int rootfd, const char *path, const char **base, bool create);
// O_PATH fd of the calling process's own /proc/<pid>/fd, in a procfs of its pid
// namespace that is mounted nowhere and has pid directories only. The init holds it
// until start (to reopen the exec fifo): unlike the runtime's /proc, nothing reached
// through it (/proc/1/fd/N/../..) is more than the container's own /proc shows.
int open_own_fd_dir();
