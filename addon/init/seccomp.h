// linux.seccomp: the filter is built with libseccomp and exported to BPF in the
// helper's parent (plain process, may allocate); the child only loads the bytes.
#pragma once
#include <stdint.h>

struct SeccompRule {
  const char *action;  // libseccomp action name, e.g. SCMP_ACT_ERRNO
  unsigned errno_ret;
  const char *name;    // syscall name
  const char *args;    // "index:value:valueTwo:op;..." (op = SCMP_CMP_*), "" for none
};

struct Seccomp {
  bool enabled;
  const char *default_action;
  unsigned default_errno;
  const char *archs[32]; int narchs;
  SeccompRule rules[2048]; int nrules;
  unsigned flags;            // SECCOMP_FILTER_FLAG_*
  // Filled by seccomp_compile:
  void *bpf; unsigned bpf_len;
};

// Compiles s into s->bpf; returns an error string or nullptr.
const char *seccomp_compile(Seccomp *s);
// Loads the compiled filter into the calling thread. Async-signal-safe.
int seccomp_load_bpf(const Seccomp *s);
