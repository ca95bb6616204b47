/* Process introspection from procfs: argv, environment, cwd, ids and session,
 * threads. JS-free, so the JS bindings and the control socket share it.
 * pid/tid are host ids. Errors: ESRCH when the task is gone, else the errno
 * of the failed procfs access. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Read /proc/PID/WHAT whole (binary safe); ENOENT becomes ESRCH. Returns its length. */
ssize_t procfs_read(pid_t pid, const char *what, char **out, struct jv_error *e);
/* The value after "Key:" in a /proc status text, or NULL. */
const char *procfs_field(const char *status, const char *key);
/* Has the task exited or begun to (zombie, or its memory already gone)? */
bool procfs_exiting(pid_t pid);

/* NULL-terminated vectors of malloc'd strings. */
void strv_free(char **v);
size_t strv_len(char *const *v);

/* argv of the process (/proc/PID/cmdline, as the program may have rewritten
 * it) and its environment as of its last execve (/proc/PID/environ: changes
 * the program made in its own memory since are not visible). */
int proc_argv(pid_t pid, char ***out, struct jv_error *e);
int proc_environ(pid_t pid, char ***out, struct jv_error *e);
/* Current directory and executable path (readlink of /proc/PID/cwd, exe). */
int proc_link(pid_t pid, const char *which, char **out, struct jv_error *e);

struct proc_ids {
	pid_t pid, tid, ppid;
	uid_t uid, euid, suid, fsuid;
	gid_t gid, egid, sgid, fsgid;
	pid_t pgid, sid;
	pid_t fg_pgid;	    /* foreground group of the controlling terminal; -1 without one */
	int tty_nr;	    /* 0 without a controlling terminal */
	pid_t *other_pgids; /* other groups of the session among the sandbox's processes */
	size_t n_other_pgids;
};
int proc_ids(pid_t tid, struct proc_ids *out, struct jv_error *e);
void proc_ids_free(struct proc_ids *p);

/* The thread group of tid: its tgid and every tid in it (ascending). */
int proc_threads(pid_t tid, pid_t *tgid, pid_t **tids, size_t *n, struct jv_error *e);
