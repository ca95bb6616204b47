/* Subcommands of the jvisor binary; each returns the process exit status. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "hooks/hooks.h"
#include "sandbox/sandbox.h"

#define EXIT_USAGE 2

/* A seed config callback: {sysno, entry-point, source, type}. */
struct run_callback {
	int sysno;
	enum hook_phase phase;
	enum hook_mode mode; /* "mode": "ptrace" (default) or "notify" */
	char *source, *entry, *where;
	struct hook_filter filter; /* "args" (hookargs.c); n == 0: none */
};
struct json_t;
/* A config key's value of the expected JSON type, stored in *out: 1, or -1
 * with *e = "PATH: key 'KEY' must be a string" (or "true or false"). */
int config_string(const char *path, const char *key, struct json_t *v, char **out,
		  struct jv_error *e);
int config_bool(const char *path, const char *key, struct json_t *v, int *out, struct jv_error *e);
/* A callbacks entry's "args" map {"INDEX": VALUE or {value, mask, op}} (hookargs.c). */
int config_hook_args(const char *path, size_t i, struct json_t *v, struct hook_filter *f,
		     struct jv_error *e);

/* The event log's settings; unset: NULL, -1 or 0. */
struct run_log_options {
	char *path;	    /* -o/--log FILE, "-" = stdout */
	int format;	    /* --format: -1 unset, LOG_FORMAT_JSON, LOG_FORMAT_TEXT */
	char *trace;	    /* -e/--trace SET (several -e: joined with ',') */
	char *trace_args;   /* --trace-args SPEC (argfilter_parse) */
	char *socket;	    /* --log-socket ADDR */
	int socket_full;    /* --log-socket-full: -1 unset, LOG_FULL_BLOCK, LOG_FULL_DROP */
	long socket_buffer; /* --log-socket-buffer BYTES */
	long string_limit;  /* --string-limit N */
	int backend;	    /* --log-backend: -1 unset, enum log_backend (src/bpf/backend.h) */
	int full;	    /* --log-full: -1 unset, LOG_FULL_BLOCK, LOG_FULL_DROP */
	int summary;	    /* --summary: -1 unset, 0, 1 */
	char *container_id; /* --container-id ID: "container" in every record */
	char *labels;	    /* --label K=V...: the members of "labels", JSON-encoded */
};

/* The control socket's settings (controlopts.c); unset: NULL, -1. */
struct run_control_options {
	char *addr;	      /* --control ADDR */
	int no_token;	      /* --control-no-token */
	const char *log_path; /* -o FILE, for `subscribe` (set by run.c, not owned) */
};

/* The web viewer's settings (webopts.c); unset: NULL, -1. */
struct run_web_options {
	char *addr;    /* --web ADDR */
	int keep;      /* --web-keep */
	char *dir;     /* private directory of the log when no -o was given */
	char *tmp_log; /* that log (removed at the end) */
	int started;
};

/* Settings of `jvisor run`, filled by the config file then the command line. */
struct run_options {
	char **hook_files;
	size_t n_hook_files;
	struct run_callback *callbacks;
	size_t n_callbacks;
	unsigned timeout_ms;		    /* 0 = default */
	int fail_closed;		    /* -1 unset, 0 open, 1 closed */
	char **command;			    /* from the config's "command" (argv), if any */
	struct run_log_options log;	    /* -o, -e, --format, --log-socket... (logopts.c) */
	struct sandbox_options sb;	    /* --isolate, --policy, ... (sandboxopts.c) */
	struct run_control_options control; /* --control... (controlopts.c) */
	struct run_web_options web;	    /* --web... (webopts.c) */
};

/* "jvisor VERSION (commit COMMIT)" on stdout (version.c). */
void print_version(void);

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_syscalls(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_view(int argc, char **argv);
/* Load a JSON config file into *o. */
int config_load(const char *path, struct run_options *o, struct jv_error *e);
void run_options_free(struct run_options *o);
/* Parse "open"/"closed"; -1 on anything else. */
int parse_failure_policy(const char *s);
/* Event log options (logopts.c). log_option: one command-line option (opt is
 * the getopt code), 0 or -1 with the message printed; log_config_key: 1 when
 * key is a log key (loaded), 0 when it is not, -1 on error. */
enum {
	OPT_LOG_FORMAT = 300,
	OPT_LOG_SOCKET,
	OPT_LOG_SOCKET_FULL,
	OPT_LOG_SOCKET_BUFFER,
	OPT_STRING_LIMIT,
	OPT_TRACE_ARGS,
	OPT_LOG_BACKEND,
	OPT_LOG_FULL,
	OPT_SUMMARY,
	OPT_CONTAINER_ID,
	OPT_LABEL
};
#define LOG_LONGOPTS                                                                    \
	{"log", required_argument, NULL, 'o'}, {"trace", required_argument, NULL, 'e'}, \
	    {"format", required_argument, NULL, OPT_LOG_FORMAT},                        \
	    {"log-socket", required_argument, NULL, OPT_LOG_SOCKET},                    \
	    {"log-socket-full", required_argument, NULL, OPT_LOG_SOCKET_FULL},          \
	    {"log-socket-buffer", required_argument, NULL, OPT_LOG_SOCKET_BUFFER},      \
	    {"string-limit", required_argument, NULL, OPT_STRING_LIMIT},                \
	    {"trace-args", required_argument, NULL, OPT_TRACE_ARGS},                    \
	    {"log-backend", required_argument, NULL, OPT_LOG_BACKEND},                  \
	    {"log-full", required_argument, NULL, OPT_LOG_FULL},                        \
	    {"summary", no_argument, NULL, OPT_SUMMARY},                                \
	    {"container-id", required_argument, NULL, OPT_CONTAINER_ID},                \
	{                                                                               \
		"label", required_argument, NULL, OPT_LABEL                             \
	}
#define LOG_USAGE                                                                                 \
	"  -o, --log FILE             write events as JSON lines to FILE ('-' = stdout)\n"        \
	"  -e, --trace SET            syscalls to log: names, numbers, %classes (%file,\n"        \
	"                             %network, ...), /regex, all, none; '!' in front\n"          \
	"                             negates (default with -o or --log-socket: all)\n"           \
	"      --trace-args SPEC      log only calls whose arguments match, e.g. 0=2 or\n"        \
	"                             1>=0x100,0&1=1 (the filter is compiled into seccomp)\n"     \
	"      --format json|text     format of -o (default json; text on a terminal when\n"      \
	"                             only -e is given: the log goes to stderr)\n"                \
	"      --log-socket ADDR      stream JSON lines to HOST:PORT or unix:PATH\n"              \
	"      --log-socket-full block|drop  the listener is slow or away: the program\n"         \
	"                             waits (block, default) or events are counted and dropped\n" \
	"      --log-socket-buffer BYTES  events kept meanwhile (default 4194304)\n"              \
	"      --string-limit N       bytes of strings and buffers shown\n"                       \
	"                             (default 256 in JSON, 32 in text)\n"                        \
	"      --log-backend auto|bpf|ptrace  where syscall records come from: BPF\n"             \
	"                             (no stop per call) or ptrace stops (default auto:\n"        \
	"                             BPF when jvisor may use it)\n"                              \
	"      --log-full block|drop  BPF's ring buffer is full: the program waits (block,\n"     \
	"                             default) or records are dropped and counted\n"              \
	"      --summary              count calls, errors and time per syscall: a table\n"        \
	"                             on stderr at exit (and a summary record in the log)\n"      \
	"      --container-id ID      add \"container\":ID to every JSON record\n"                \
	"      --label KEY=VALUE      add KEY to every JSON record's \"labels\" (repeatable)\n"
int log_option(struct run_log_options *o, int opt, const char *arg);
/* Start the BPF backend as --log-backend says (after tracer_spawn: pid is the
 * program); auto falls back to ptrace with a note on stderr. */
int log_options_backend(const struct run_log_options *o, int pid, struct jv_error *e);
struct json_t;
int log_config_key(const char *path, const char *key, struct json_t *v, struct run_log_options *o,
		   struct jv_error *e);
/* Command-line settings (cli) override the config file's (o). */
void log_options_merge(struct run_log_options *o, const struct run_log_options *cli);
/* Open the log (before the program is spawned). */
int log_options_open(const struct run_log_options *o, struct jv_error *e);
void log_options_free(struct run_log_options *o);

/* Control socket options (controlopts.c), as the log's. */
enum { OPT_CONTROL = 320, OPT_CONTROL_NO_TOKEN };
#define CONTROL_LONGOPTS                                                    \
	{"control", required_argument, NULL, OPT_CONTROL},                  \
	{                                                                   \
		"control-no-token", no_argument, NULL, OPT_CONTROL_NO_TOKEN \
	}
#define CONTROL_USAGE                                                                        \
	"      --control ADDR         control socket (jvisor ctl): unix (a fresh abstract\n" \
	"                             socket), unix:@NAME, unix:PATH, tcp:127.0.0.1:PORT\n"  \
	"                             (token file)\n"                                        \
	"      --control-no-token     tcp: accept requests without the token (seed clients)\n"
int control_option(struct run_control_options *o, int opt, const char *arg);
int control_config_key(const char *path, const char *key, struct json_t *v,
		       struct run_control_options *o, struct jv_error *e);
void control_options_merge(struct run_control_options *o, const struct run_control_options *cli);
/* Create the control socket when --control was given (before the spawn; the
 * server starts with control_start() after tracer_release()). */
int control_options_open(const struct run_control_options *o, unsigned timeout_ms, int fail_closed,
			 struct jv_error *e);
void control_options_free(struct run_control_options *o);

/* Parse a time limit in ms (1..3600000); -1 on error. */
long parse_timeout_ms(const char *s);

/* Sandbox options (sandboxopts.c): the same contract as the log's. */
enum {
	OPT_SB_ISOLATE = 400,
	OPT_SB_POLICY,
	OPT_SB_ROOTFS,
	OPT_SB_BIND,
	OPT_SB_RO_BIND,
	OPT_SB_TMPFS,
	OPT_SB_NET,
	OPT_SB_HOSTNAME,
	OPT_SB_CHDIR,
	OPT_SB_SETENV,
	OPT_SB_CLEARENV,
	OPT_SB_UID,
	OPT_SB_GID,
	OPT_SB_RLIMIT,
	OPT_SB_WALL_TIME,
	OPT_SB_CPU_TIME,
	OPT_SB_MEMORY,
	OPT_SB_PIDS
};
#define SANDBOX_LONGOPTS                                              \
	{"isolate", no_argument, NULL, OPT_SB_ISOLATE},               \
	    {"policy", required_argument, NULL, OPT_SB_POLICY},       \
	    {"rootfs", required_argument, NULL, OPT_SB_ROOTFS},       \
	    {"bind", required_argument, NULL, OPT_SB_BIND},           \
	    {"ro-bind", required_argument, NULL, OPT_SB_RO_BIND},     \
	    {"tmpfs", required_argument, NULL, OPT_SB_TMPFS},         \
	    {"net", required_argument, NULL, OPT_SB_NET},             \
	    {"hostname", required_argument, NULL, OPT_SB_HOSTNAME},   \
	    {"chdir", required_argument, NULL, OPT_SB_CHDIR},         \
	    {"setenv", required_argument, NULL, OPT_SB_SETENV},       \
	    {"clearenv", no_argument, NULL, OPT_SB_CLEARENV},         \
	    {"uid", required_argument, NULL, OPT_SB_UID},             \
	    {"gid", required_argument, NULL, OPT_SB_GID},             \
	    {"rlimit", required_argument, NULL, OPT_SB_RLIMIT},       \
	    {"wall-time", required_argument, NULL, OPT_SB_WALL_TIME}, \
	    {"cpu-time", required_argument, NULL, OPT_SB_CPU_TIME},   \
	    {"memory", required_argument, NULL, OPT_SB_MEMORY},       \
	{                                                             \
		"pids", required_argument, NULL, OPT_SB_PIDS          \
	}
#define SANDBOX_USAGE                                                                              \
	"      --policy FILE.json     syscall policy (default: docs/sandbox.md's list)\n"          \
	"      --isolate              new user, pid, mount, ipc, uts and net namespaces; host /\n" \
	"                             read-only, private /tmp, writable working directory\n"       \
	"      --rootfs DIR           use DIR as / (with --isolate)\n"                             \
	"      --bind SRC[:DST]       bind SRC at DST, writable (with --isolate)\n"                \
	"      --ro-bind SRC[:DST]    bind SRC at DST, read-only (with --isolate)\n"               \
	"      --tmpfs DIR            a fresh tmpfs at DIR (with --isolate)\n"                     \
	"      --net none|host        network: loopback only (default) or the host's\n"            \
	"      --hostname NAME        host name inside (default jvisor)\n"                         \
	"      --chdir DIR            working directory of the program\n"                          \
	"      --setenv NAME=VALUE    set an environment variable (repeatable)\n"                  \
	"      --clearenv             start from an empty environment\n"                           \
	"      --uid N, --gid N       user and group inside (with --isolate; default: yours)\n"    \
	"      --rlimit NAME=VALUE    nofile, nproc, as, cpu, fsize, core, stack, memlock\n"       \
	"      --wall-time SEC        kill the program after SEC seconds\n"                        \
	"      --cpu-time SEC         CPU time limit (RLIMIT_CPU)\n"                               \
	"      --memory BYTES, --pids N  cgroup v2 limits (when the machine delegates them)\n"
int sandbox_option(struct sandbox_options *o, int opt, const char *arg);
int sandbox_config_key(const char *path, const char *key, struct json_t *v,
		       struct sandbox_options *o, struct jv_error *e);
void sandbox_options_merge(struct sandbox_options *o, const struct sandbox_options *cli);
void sandbox_options_init(struct sandbox_options *o);
void sandbox_options_free(struct sandbox_options *o);

/* Web viewer options (webopts.c), as the log's. prepare: before the log is
 * opened (a private log file when there is no -o, a control socket when there
 * is no --control); start: after the control socket; stop: at the end. */
enum { OPT_WEB = 340, OPT_WEB_KEEP };
#define WEB_LONGOPTS                                        \
	{"web", required_argument, NULL, OPT_WEB},          \
	{                                                   \
		"web-keep", no_argument, NULL, OPT_WEB_KEEP \
	}
#define WEB_USAGE                                                                            \
	"      --web ADDR             serve the web viewer on HOST:PORT (127.0.0.1:0: any\n" \
	"                             free port; URL and token on stderr)\n"                 \
	"      --web-keep             keep serving after the program ends, until SIGINT\n"
int web_option(struct run_web_options *o, int opt, const char *arg);
int web_config_key(const char *path, const char *key, struct json_t *v, struct run_web_options *o,
		   struct jv_error *e);
void web_options_merge(struct run_web_options *o, const struct run_web_options *cli);
int web_options_prepare(struct run_web_options *o, struct run_log_options *log,
			struct run_control_options *control, struct jv_error *e);
int web_options_start(struct run_web_options *o, const struct run_log_options *log,
		      struct jv_error *e);
void web_options_stop(struct run_web_options *o);
void web_options_free(struct run_web_options *o);
