// The fully resolved container plan Node sends over the socket (its records are
// defined in src/linux/plan-records.ts), parsed into arrays sized to what was sent,
// whose strings point into one buffer. Parsing happens in the helper's parent (a
// normal single-threaded process, free to allocate); the cloned child only reads it.
#pragma once
#include <stdint.h>

#include "seccomp.h"

struct MountPlan {
  const char *src, *dst, *type, *data;
  unsigned long flags, prop;
  const char *kind;             // "dir", "file" or "none": what to create at dst when missing
  bool copyup;                  // tmpcopyup: the tmpfs starts with what it covers
  uint64_t attr_set, attr_clr;  // recursive options (rro, rnosuid, ...): mount_setattr(AT_RECURSIVE)
};
struct DevicePlan {
  const char *path;
  char type;  // c, b, p
  unsigned major, minor, mode, uid, gid;
  bool bind;  // bind-mount the host node instead of mknod (user namespaces)
};
struct NsJoin {
  int type;
  const char *path;
};
struct Rlimit {
  int resource;
  unsigned long long soft, hard;
};
struct Pair {
  const char *a, *b;
};

struct Plan {
  const char *mode;          // create | exec
  unsigned long cloneflags;  // CLONE_NEW* to create
  NsJoin *joins;
  int njoins;  // namespaces to enter by path
  const char *uidmap, *gidmap, *timens;
  const char **cgroups;
  int ncgroups;         // cgroup.procs files to join
  const char *cgroup2;  // the cgroup2 directory among them, to clone into
  const char **cgroup_home;
  int ncgroup_home;  // ours, to return to after the clone
  const char **cleanup_cgroups;
  int ncleanup_cgroups;
  const char **cleanup_files;
  int ncleanup_files;
  const char *cleanup_dir;
  const char *oomscore;
  const char *hostname, *domainname;
  const char *rootfs;
  unsigned long rootprop;  // propagation for "/" after pivot (0 = none)
  bool readonly_root, nopivot, hooks, nnp;
  bool joins_user;  // a user namespace is joined by path
  bool new_net;     // a new network namespace is made
  MountPlan *mounts;
  int nmounts;
  DevicePlan *devices;
  int ndevices;
  Pair *symlinks;
  int nsymlinks;  // target, link path (inside rootfs)
  const char **masked;
  int nmasked;
  const char **readonly;
  int nreadonly;
  Pair *sysctls;
  int nsysctls;
  Rlimit *rlimits;
  int nrlimits;
  bool has_user;
  unsigned uid, gid;
  long umask;
  unsigned *gids;
  int ngids;
  bool has_caps;
  uint64_t caps[5];  // bounding effective inheritable permitted ambient
  const char *cwd;
  const char **argv;
  int nargv;  // NULL-terminated
  const char **envp;
  int nenvp;              // NULL-terminated
  const char **exec_env;  // room for envp, HOME and NULL: filled just before exec
  const char *fifo;
  int fifo_fd;  // opened by the helper's parent, as the host's root, before any namespace
  int preserve_fds;
  const char *console_path;  // console socket to connect to (process.terminal)
  int console_fd;            // ... or already connected: inherited fd
  bool terminal;
  unsigned console_rows, console_cols;
  const char *keyring;  // session keyring name to join (unless --no-new-keyring)
  long personality;     // -1: leave as is
  int ioprio;           // -1: leave as is; else the ioprio_set(2) value
  bool has_sched;
  unsigned sched_policy;
  int sched_nice;
  unsigned sched_priority;
  unsigned long long sched_flags, sched_runtime, sched_deadline, sched_period;
  bool has_mempolicy;
  int mempolicy_mode, mempolicy_flags;
  const char *mempolicy_nodes;  // node numbers, comma-separated ("" for none)
  Seccomp seccomp;
};

// Parses the records of buf (len bytes); returns an error string or nullptr.
const char *plan_parse(Plan *p, char *buf, unsigned len);
// Writes what was parsed back as records (corral-init check-plan, for the drift test).
void plan_dump(const Plan *p, int fd);
