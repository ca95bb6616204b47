/* cgroup v2 limits of the program (--memory, --pids). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* Are the controllers delegated to jvisor's cgroup? -1 with a message when not. */
int cgroup_check(bool memory, bool pids, struct jv_error *e);
/* Make a child cgroup with the limits (0 = none) and move pid into it; it is
 * removed when jvisor exits. */
int cgroup_enter(pid_t pid, long long memory, long pids, struct jv_error *e);
