/* Process control limited to this sandbox: niceness, umask, signals. JS-free.
 * Every pid/tid must be a task traced by this sandbox, else ESRCH. */
#pragma once

#include <sys/types.h>

#include "common/error.h"

/* Nice value (-20..19) of thread tid. */
int ctl_get_nice(pid_t tid, int *nice, struct jv_error *e);
/* Set the nice value of every thread of process pid (of one thread when pid
 * is a thread id that is not a process id). Lowering it needs CAP_SYS_NICE. */
int ctl_set_nice(pid_t pid, int nice, struct jv_error *e);
/* Umask of process pid (from /proc/PID/status). */
int ctl_get_umask(pid_t pid, unsigned *mask, struct jv_error *e);
/* Set the umask of the process of `thread` (stopped in a hook call) by
 * injecting umask(2); *old gets the previous one. */
int ctl_set_umask(void *thread, unsigned mask, unsigned *old, struct jv_error *e);
/* kill(pid, sig) for a traced process; tgkill for a traced thread. */
int ctl_kill(pid_t pid, int sig, struct jv_error *e);
int ctl_send_signal(pid_t tid, int sig, struct jv_error *e);
/* Signal every traced process of group pgid (never a process outside the
 * sandbox, even in the same group). Returns how many were signalled. */
int ctl_kill_group(pid_t pgid, int sig, struct jv_error *e);
