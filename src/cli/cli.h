/* Subcommands of the jvisor binary; each returns the process exit status. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "hooks/hooks.h"

#define JV_VERSION "0.1.0"
#define EXIT_USAGE 2

/* A seed config callback: {sysno, entry-point, source, type}. */
struct run_callback {
	int sysno;
	enum hook_phase phase;
	char *source, *entry, *where;
};

/* Settings of `jvisor run`, filled by the config file then the command line. */
struct run_options {
	char **hook_files;
	size_t n_hook_files;
	struct run_callback *callbacks;
	size_t n_callbacks;
	unsigned timeout_ms;     /* 0 = default */
	int fail_closed;         /* -1 unset, 0 open, 1 closed */
	char **command;          /* from the config's "command" (argv), if any */
};

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_syscalls(int argc, char **argv);
/* Load a JSON config file into *o. */
int config_load(const char *path, struct run_options *o, struct jv_error *e);
void run_options_free(struct run_options *o);
/* Parse "open"/"closed"; -1 on anything else. */
int parse_failure_policy(const char *s);
/* Parse a time limit in ms (1..3600000); -1 on error. */
long parse_timeout_ms(const char *s);
