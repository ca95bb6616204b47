/* jvisor run [options] -- PROGRAM [ARGS...] */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sys/prctl.h>

#include "bpf/backend.h"
#include "cli/cli.h"
#include "control/control.h"
#include "hooks/observe.h"
#include "js/js.h"
#include "log/log.h"
#include "tracer/grow.h"
#include "tracer/tracer.h"
#include "web/web.h"

static void usage(FILE *f)
{
	fputs(
	    "Usage: jvisor run [options] -- PROGRAM [ARGS...]\n"
	    "Run PROGRAM under the supervisor; JavaScript hooks run before and after\n"
	    "the syscalls they name. The exit status is the program's (128+N when it\n"
	    "was killed by signal N); 2 for a usage or configuration error.\n\n"
	    "Options:\n"
	    "  -s, --hooks FILE.js        load a hook script (repeatable)\n"
	    "  -c, --config FILE.json     configuration file (keys mirror the long options)\n"
	    "      --hook-timeout MS      time limit of one hook call (default 1000)\n"
	    "      --hook-failure POLICY  open: a failed hook lets the syscall proceed (default);\n"
	    "                             closed: the syscall fails with EPERM\n"
	    "      --container            run as a container's PID 1 (jvisor-runc sets it):\n"
	    "                             end with the program, reap orphans, "
	    "non-dumpable\n" LOG_USAGE CONTROL_USAGE WEB_USAGE SANDBOX_USAGE
	    "  -h, --help                 this help\n"
	    "  -V, --version              print the version\n\n"
	    "Environment:\n"
	    "  JVISOR_SPIN_US=N           poll for the next stop up to N us before sleeping\n"
	    "                             (default 50, adaptive; 0: sleep at once)\n"
	    "  JVISOR_OBSERVE_QUEUE=N[,drop]  calls queued for observe-mode hooks (default\n"
	    "                             4096); when full the program waits, or with ,drop\n"
	    "                             the call is counted as dropped\n",
	    f);
}

int parse_failure_policy(const char *s)
{
	if (!strcmp(s, "open"))
		return 0;
	if (!strcmp(s, "closed"))
		return 1;
	return -1;
}

long parse_timeout_ms(const char *s)
{
	return jv_parse_long(s, 1, 3600000);
}

void run_options_free(struct run_options *o)
{
	for (size_t i = 0; i < o->n_hook_files; i++)
		free(o->hook_files[i]);
	free(o->hook_files);
	for (size_t i = 0; i < o->n_callbacks; i++) {
		free(o->callbacks[i].source);
		free(o->callbacks[i].entry);
		free(o->callbacks[i].where);
	}
	free(o->callbacks);
	if (o->command)
		for (char **p = o->command; *p; p++)
			free(*p);
	free(o->command);
	log_options_free(&o->log);
	control_options_free(&o->control);
	web_options_free(&o->web);
	sandbox_options_free(&o->sb);
	memset(o, 0, sizeof(*o));
}

static void add_hook_file(struct run_options *o, const char *path)
{
	o->hook_files = xrealloc(o->hook_files, (o->n_hook_files + 1) * sizeof(char *));
	o->hook_files[o->n_hook_files++] = xstrdup(path);
}

/* --container (docs/containers.md): jvisor is the container's PID 1. It ends
 * when the program ends, with its status (what is left is killed: EXITKILL, and
 * the kernel ends the PID namespace with its init); it reaps the orphans the
 * kernel hands it (the loop waits for any child); signals from the engine are
 * forwarded (src/tracer/loop.c). Non-dumpable: the program, same uid, can
 * neither ptrace it nor read its memory. The program was forked and seized
 * before: it is not affected (and exec makes it dumpable again anyway). */
static int container_mode(struct jv_error *e)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return jv_err(e, errno, "prctl(PR_SET_DUMPABLE)");
	tracer_exit_with_root();
	return 0;
}

/* Load the engine, the hooks of the config and the scripts. */
static int load_hooks(const struct run_options *o, struct jv_error *e)
{
	struct js_options jo = {.timeout_ms = o->timeout_ms};
	if (js_init(&jo, e) < 0)
		return -1;
	hooks_set_fail_closed(o->fail_closed == 1);
	for (size_t i = 0; i < o->n_callbacks; i++) {
		const struct run_callback *c = &o->callbacks[i];
		int id =
		    js_add_callback(c->sysno, c->phase, c->mode, c->source, c->entry, c->where, e);
		if (id < 0)
			return -1;
		if (c->filter.n && hooks_set_filter((unsigned)id, &c->filter, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < o->n_hook_files; i++)
		if (js_load_file(o->hook_files[i], e) < 0)
			return -1;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	enum { OPT_TIMEOUT = 256, OPT_FAILURE, OPT_CONTAINER };
	static const struct option longopts[] = {
	    {"hooks", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"hook-timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"hook-failure", required_argument, NULL, OPT_FAILURE},
	    {"container", no_argument, NULL, OPT_CONTAINER},
	    LOG_LONGOPTS,
	    CONTROL_LONGOPTS,
	    WEB_LONGOPTS,
	    SANDBOX_LONGOPTS,
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct run_options cli = {.fail_closed = -1};
	__attribute__((cleanup(run_options_free))) struct run_options o = {.fail_closed = -1};
	const char *config = NULL;
	bool container = false;
	int c;
	cli.log.format = cli.log.socket_full = o.log.format = o.log.socket_full = -1;
	cli.log.backend = cli.log.full = o.log.backend = o.log.full = -1;
	cli.log.summary = o.log.summary = -1;
	cli.control.no_token = o.control.no_token = -1;
	cli.web.keep = o.web.keep = -1;
	sandbox_options_init(&cli.sb);
	sandbox_options_init(&o.sb);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+s:c:hVo:e:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
		case 'e':
		case OPT_LOG_FORMAT:
		case OPT_LOG_SOCKET:
		case OPT_LOG_SOCKET_FULL:
		case OPT_LOG_SOCKET_BUFFER:
		case OPT_STRING_LIMIT:
		case OPT_TRACE_ARGS:
		case OPT_LOG_BACKEND:
		case OPT_LOG_FULL:
		case OPT_SUMMARY:
		case OPT_CONTAINER_ID:
		case OPT_LABEL:
			if (log_option(&cli.log, c, optarg) < 0) {
				run_options_free(&cli);
				return EXIT_USAGE;
			}
			break;
		case OPT_SB_ISOLATE ... OPT_SB_PIDS:
			if (sandbox_option(&cli.sb, c, optarg) < 0) {
				run_options_free(&cli);
				return EXIT_USAGE;
			}
			break;
		case OPT_CONTROL:
		case OPT_CONTROL_NO_TOKEN:
			if (control_option(&cli.control, c, optarg) < 0) {
				run_options_free(&cli);
				return EXIT_USAGE;
			}
			break;
		case OPT_WEB:
		case OPT_WEB_KEEP:
			web_option(&cli.web, c, optarg);
			break;
		case 's':
			add_hook_file(&cli, optarg);
			break;
		case 'c':
			config = optarg;
			break;
		case OPT_CONTAINER:
			container = true;
			break;
		case OPT_TIMEOUT: {
			long v = parse_timeout_ms(optarg);
			if (v < 0) {
				fprintf(stderr,
					"jvisor run: --hook-timeout: '%s' is not a number of "
					"milliseconds in 1..3600000\n",
					optarg);
				run_options_free(&cli);
				return EXIT_USAGE;
			}
			cli.timeout_ms = (unsigned)v;
			break;
		}
		case OPT_FAILURE:
			cli.fail_closed = parse_failure_policy(optarg);
			if (cli.fail_closed < 0) {
				fprintf(stderr,
					"jvisor run: --hook-failure: '%s' is not 'open' or "
					"'closed'\n",
					optarg);
				run_options_free(&cli);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			run_options_free(&cli);
			return 0;
		case 'V':
			print_version();
			run_options_free(&cli);
			return 0;
		default:
			fputs("Try 'jvisor run --help'.\n", stderr);
			run_options_free(&cli);
			return EXIT_USAGE;
		}
	}
	struct jv_error e;
	if (config && config_load(config, &o, &e) < 0) {
		jv_err_print(&e);
		run_options_free(&cli);
		return EXIT_USAGE;
	}
	/* The command line comes after the config file. */
	for (size_t i = 0; i < cli.n_hook_files; i++)
		add_hook_file(&o, cli.hook_files[i]);
	if (cli.timeout_ms)
		o.timeout_ms = cli.timeout_ms;
	if (cli.fail_closed >= 0)
		o.fail_closed = cli.fail_closed;
	log_options_merge(&o.log, &cli.log);
	control_options_merge(&o.control, &cli.control);
	web_options_merge(&o.web, &cli.web);
	sandbox_options_merge(&o.sb, &cli.sb);
	run_options_free(&cli);

	if (container && o.sb.isolate == 1) {
		fputs("jvisor run: --isolate cannot be used with --container (the container "
		      "engine isolates)\n",
		      stderr);
		return EXIT_USAGE;
	}
	char **prog = argv + optind;
	if (!*prog)
		prog = o.command;
	if (!prog || !*prog) {
		fputs("jvisor run: no program given (jvisor run [options] -- PROGRAM [ARGS...])\n",
		      stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < o.n_hook_files; i++) {
		if (access(o.hook_files[i], R_OK) < 0) {
			jv_err(&e, errno, "cannot read hook script %s", o.hook_files[i]);
			jv_err_print(&e);
			return EXIT_USAGE;
		}
	}
	if (web_options_prepare(&o.web, &o.log, &o.control, &e) < 0) {
		jv_err_print(&e);
		return EXIT_USAGE;
	}
	/* The log first: a log socket nobody listens on stops us here. */
	if (log_options_open(&o.log, &e) < 0) {
		jv_err_print(&e);
		return EXIT_USAGE;
	}
	/* Observe-mode hooks: their records show strings as the log does; the
	 * queue's size and policy (--log-full drop, JVISOR_OBSERVE_QUEUE=N[,drop],
	 * docs/hooks.md). */
	tracer_observe_string_limit(o.log.string_limit > 0 ? (size_t)o.log.string_limit : 0);
	if (o.log.full == LOG_FULL_DROP)
		observe_set_queue(0, true); /* nor do the observers hold the program */
	const char *oq = getenv("JVISOR_OBSERVE_QUEUE");
	if (oq && *oq) {
		char *end = NULL;
		unsigned long n = strtoul(oq, &end, 10);
		bool drop = end && !strcmp(end, ",drop");
		if (!end || (*end && !drop) || n == 0 || n > (1ul << 24)) {
			jv_warn("JVISOR_OBSERVE_QUEUE: '%s' is not N or N,drop (N 1..16777216)",
				oq);
			log_close();
			return EXIT_USAGE;
		}
		observe_set_queue(n, drop);
	}
	/* The control socket too: a bad address stops us before anything runs. */
	o.control.log_path = o.log.path;
	if (control_options_open(&o.control, o.timeout_ms, o.fail_closed, &e) < 0) {
		jv_err_prefix(&e, "control socket");
		jv_err_print(&e);
		log_close();
		return EXIT_USAGE;
	}
	o.sb.log_path = o.log.path;		/* hidden from the program under --isolate */
	o.sb.control_port = control_tcp_port(); /* out of the program's reach */
	o.sb.control_abstract = control_is_abstract();
	if (sandbox_prepare(&o.sb, &e) < 0) {
		jv_err_print(&e);
		control_stop();
		log_close();
		return EXIT_USAGE;
	}
	/* Fork first, while jvisor is single-threaded; the engine starts threads. */
	if (tracer_spawn(prog, &e) < 0) {
		jv_err_print(&e);
		control_stop();
		log_close();
		return 1;
	}
	if (log_options_backend(&o.log, tracer_root(), &e) < 0) {
		tracer_abort();
		jv_err_print(&e);
		control_stop();
		log_close();
		return EXIT_USAGE;
	}
	log_ev_spawn(tracer_root(), prog, bpfl_backend_name());
	if (container && container_mode(&e) < 0) {
		bpfl_stop();
		tracer_abort();
		jv_err_print(&e);
		control_stop();
		log_close();
		return 1;
	}
	int loaded = load_hooks(&o, &e);
	bpfl_sync(); /* the kernel's table knows the hooks before the program runs */
	if (loaded < 0 || tracer_release(&e) < 0) {
		bpfl_stop();
		tracer_abort();
		jv_err_print(&e);
		js_shutdown();
		control_stop();
		log_close();
		return EXIT_USAGE;
	}
	if (control_start(&e) < 0) {
		/* The program runs already: go on without the control socket. */
		jv_err_prefix(&e, "control socket");
		jv_err_print(&e);
	}
	if (web_options_start(&o.web, &o.log, &e) < 0) {
		jv_err_prefix(&e, "web viewer");
		jv_err_print(&e);
	}
	tracer_grow_init();
	int status = tracer_run();
	bpfl_stop();
	observe_close(); /* the last observers, their drops reported */
	log_flush();
	web_set_ended();
	control_stop();
	log_close();
	web_options_stop(&o.web);
	unsigned long failures = hooks_failures();
	if (failures)
		jv_warn("%lu hook call%s failed", failures, failures == 1 ? "" : "s");
	js_shutdown();
	return status;
}
