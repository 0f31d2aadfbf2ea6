// The last steps before execve, shared by the container's init and exec'd
// processes: rlimits, executable lookup, user switch, capabilities, no_new_privs.
#pragma once
#include "plan.h"

void apply_rlimits(const Plan *p);
// Session keyring, personality, I/O priority and scheduler: the process's own attributes.
void apply_process_attrs(const Plan *p);
// The process's environment: the plan's, plus HOME from the container's /etc/passwd
// when it has none (runc's behaviour). Call once inside the container's root.
void prepare_env(const Plan *p);
// Resolves argv[0] against PATH from the plan's env into out; dies with runc's
// wording ("executable file not found in $PATH", "no such file or directory").
void resolve_exec(const Plan *p, char *out, unsigned cap);
// Bounding set, user/groups, umask, capability sets, ambient set, no_new_privs.
void apply_identity(const Plan *p);
// Restores default signal dispositions and an empty mask, marks every fd the
// process must not inherit close-on-exec, applies identity and seccomp, and execs.
[[noreturn]] void exec_process(const Plan *p, const char *path);
