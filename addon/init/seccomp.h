// linux.seccomp: the filter is built with libseccomp and exported to BPF in the
// helper's parent (plain process, may allocate); the child only loads the bytes.
//
// SCMP_ACT_NOTIFY: the parent also connects to linux.seccomp.listenerPath (in the
// runtime's mount namespace and with its credentials, before any namespace is
// joined) and opens the runtime's /proc/self link (the link only, O_PATH|O_NOFOLLOW:
// it reads as the pid of whoever reads it). The child inherits both. It loads the filter
// with SECCOMP_FILTER_FLAG_NEW_LISTENER where it always does, just before execve,
// and hands the listener fd to the agent at once over the connected socket
// (SCM_RIGHTS, with the container process state JSON as data), then closes both:
// the process never holds its own listener. Everything the child does is
// async-signal-safe: socket calls, readlinkat, writes into a buffer allocated here.
#pragma once
#include <stdint.h>

struct SeccompRule {
  const char *action;  // libseccomp action name, e.g. SCMP_ACT_ERRNO
  unsigned errno_ret;
  const char *name;  // syscall name
  const char *args;  // "index:value:valueTwo:op;..." (op = SCMP_CMP_*), "" for none
};

struct Seccomp {
  bool enabled;
  const char *default_action;
  unsigned default_errno;
  const char **archs;
  int narchs;
  SeccompRule *rules;
  int nrules;
  unsigned flags;  // SECCOMP_FILTER_FLAG_* (TSYNC, LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV)
  // "seccomp-listener" record: the agent's socket path, and the container process
  // state JSON with each \x01 standing for the process's pid as the host sees it.
  const char *listener_path, *listener_state;
  // Filled by seccomp_compile:
  void *bpf;
  unsigned bpf_len;
  bool notify;        // some rule notifies: load with a listener and hand it over
  int listener_sock;  // connected to listener_path (valid when notify)
  int host_self;      // the runtime's /proc/self link, to read our own pid (valid when notify)
  char *msg;
  unsigned msg_cap;  // room for the state JSON with the pids filled in
};

// Compiles s into s->bpf (and connects to the listener when a rule notifies);
// returns an error string or nullptr. Runs in the helper's parent.
const char *seccomp_compile(Seccomp *s);
// Loads the compiled filter into the calling thread and, with notify rules, sends
// the listener fd to the agent. Async-signal-safe. Returns <0 with errno set when
// the kernel refuses the filter; dies with a message when the hand-over fails.
int seccomp_load_bpf(const Seccomp *s);
