#pragma once
#include "plan.h"
// The container's init, from clone to execve. Runs in the cloned child: only
// async-signal-safe calls on the plan prepared by the parent.
[[noreturn]] void container_main(const Plan *p, int sock);
// Reads one line from the sync socket into line, dies if the parent went away.
void sync_expect(int sock, const char *want);
