/* The sandbox around the program (docs/sandbox.md): the policy file, and with
 * --isolate new namespaces, a private file system view, no network, limits.
 * Everything here runs before the engine starts threads. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

struct sandbox_mount {
	int kind; /* SB_BIND, SB_RO_BIND, SB_TMPFS */
	char *src, *dst;
};
enum { SB_BIND, SB_RO_BIND, SB_TMPFS };

struct sandbox_rlimit {
	int resource;
	unsigned long long value;
};

/* Settings of the sandbox; unset: NULL, -1 or 0. */
struct sandbox_options {
	char *policy;	/* --policy FILE.json */
	int isolate;	/* --isolate: -1 unset, 0, 1 */
	char *rootfs;	/* --rootfs DIR */
	int net_host;	/* --net none|host: -1 unset, 0 none, 1 host */
	char *hostname; /* --hostname NAME (default jvisor) */
	char *chdir;	/* --chdir DIR */
	int clearenv;	/* --clearenv: -1 unset, 0, 1 */
	char **setenv;	/* --setenv K=V */
	size_t n_setenv;
	long uid, gid; /* --uid/--gid inside the user namespace; -1 unset */
	struct sandbox_mount *mounts;
	size_t n_mounts;
	struct sandbox_rlimit *rlimits;
	size_t n_rlimits;
	long wall_time;	       /* --wall-time SEC; 0 unset */
	long cpu_time;	       /* --cpu-time SEC; 0 unset */
	long long memory;      /* --memory BYTES (cgroup v2); 0 unset */
	long pids;	       /* --pids N (cgroup v2); 0 unset */
	const char *log_path;  /* jvisor's log file (not owned): hidden from the program */
	int control_port;      /* the control socket's TCP port, 0 if none: unreachable */
	bool control_abstract; /* the control socket is an abstract unix socket */
};

/* Apply what must happen before the program is spawned (policy file). */
int sandbox_prepare(const struct sandbox_options *o, struct jv_error *e);
/* Fork the program's process: plain fork() without --isolate; with it, an
 * init in new namespaces whose child is the program. Returns the program's pid
 * (as jvisor sees it) in the parent and 0 in the program, which is set up
 * (mounts, limits, environment) and may exec after the filter arrives. */
pid_t sandbox_fork(struct jv_error *e);
/* Keep the program from the control socket (and under --isolate from
 * signalling the init) with Landlock: the ruleset is built here, before the
 * fork; a kernel without what is needed is an error or a warning (confine.c). */
int sandbox_confine_prepare(const struct sandbox_options *o, struct jv_error *e);
/* In the program's process after no_new_privs: apply it. 0 or an errno. */
int sandbox_confine(void);
/* In jvisor once the program's process exists: close the ruleset. */
void sandbox_confine_forget(void);
/* In the program's process, once it has its filter: limits, environment,
 * working directory (without --isolate). On failure: a message and _exit(126). */
void sandbox_child_setup(void);
/* The program's process stopped in a group-stop (the tracer's loop): with the
 * terminal handed to it under --isolate, jvisor stops too until continued. */
void sandbox_program_stopped(void);
/* The wall-time limit, armed after the program is released (0 = none). */
long sandbox_wall_time(void);
/* Parse "nofile=1024" into r; -1 on error. */
int sandbox_parse_rlimit(const char *s, struct sandbox_rlimit *r);
