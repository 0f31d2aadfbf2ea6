// process.terminal: a pty made inside the container's devpts, its master sent to
// the console socket (one sendmsg, SCM_RIGHTS, the pty's name as data, as runc),
// its slave made the process's stdio and controlling terminal. Async-signal-safe.
#pragma once
#include "plan.h"

// Connects to the console socket named by the plan (or takes the inherited fd);
// runs in the helper's parent, before any namespace or root change.
void console_connect(Plan *p);
// In the process, inside its root: makes the pty, sends the master, takes the
// slave as stdio. With bind_console, the slave is bound over /dev/console too.
void setup_terminal(const Plan *p, bool bind_console);
