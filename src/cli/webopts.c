/* The web viewer's options of `jvisor run` (--web ADDR, --web-keep; config
 * keys "web", "web-keep") and `jvisor view LOG.jsonl`. docs/web.md. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "control/internal.h"
#include "log/log.h"
#include "web/web.h"

int web_option(struct run_web_options *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_WEB:
		free(o->addr);
		o->addr = xstrdup(arg);
		return 0;
	case OPT_WEB_KEEP:
		o->keep = 1;
		return 0;
	default:
		return -1;
	}
}

int web_config_key(const char *path, const char *key, json_t *v, struct run_web_options *o,
		   struct jv_error *e)
{
	if (!strcmp(key, "web"))
		return config_string(path, key, v, &o->addr, e);
	if (!strcmp(key, "web-keep"))
		return config_bool(path, key, v, &o->keep, e);
	return 0;
}

void web_options_merge(struct run_web_options *o, const struct run_web_options *cli)
{
	if (cli->addr) {
		free(o->addr);
		o->addr = xstrdup(cli->addr);
	}
	if (cli->keep >= 0)
		o->keep = cli->keep;
}

int web_options_prepare(struct run_web_options *o, struct run_log_options *log,
			struct run_control_options *control, struct jv_error *e)
{
	if (!o->addr)
		return 0;
	if (log->format == LOG_FORMAT_TEXT)
		return jv_err(e, 0,
			      "--web reads the JSON log: --format text cannot be used with it");
	if (log->path && !strcmp(log->path, "-"))
		return jv_err(e, 0, "--web reads the log from a file: use -o FILE, not -o -");
	if (!log->path) {
		const char *base = getenv("TMPDIR");
		if (!base || base[0] != '/')
			base = "/tmp";
		o->dir = xasprintf("%s/jvisor-web.XXXXXX", base);
		if (!mkdtemp(o->dir)) {
			int err = errno;
			free(o->dir);
			o->dir = NULL;
			return jv_err(e, err, "cannot create a directory for the web viewer's log");
		}
		chmod(o->dir, 0700);
		log->path = xasprintf("%s/events.jsonl", o->dir);
		o->tmp_log = xstrdup(log->path);
	}
	if (!control->addr)
		control->addr = xstrdup("unix");
	return 0;
}

int web_options_start(struct run_web_options *o, const struct run_log_options *log,
		      struct jv_error *e)
{
	if (!o->addr)
		return 0;
	struct web_options wo = {
	    .addr = o->addr,
	    .log_path = log->path,
	    .control = control_addr_shown,
	    .live = true,
	};
	if (web_start(&wo, e) < 0)
		return -1;
	o->started = 1;
	return 0;
}

static void interrupt_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGTERM);
}

/* Block until SIGINT or SIGTERM (blocked already, see web_options_stop). */
static void wait_for_interrupt(void)
{
	sigset_t s;
	interrupt_set(&s);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	int sig;
	sigwait(&s, &sig);
}

void web_options_stop(struct run_web_options *o)
{
	if (o->started) {
		web_set_ended();
		if (o->keep == 1) {
			/* Blocked before the message: a SIGTERM sent by whoever read it
			 * must wait in sigwait, not meet the tracer's forwarding handler
			 * (and be lost, leaving the viewer up). */
			sigset_t s;
			interrupt_set(&s);
			pthread_sigmask(SIG_BLOCK, &s, NULL);
			jv_warn("the program has ended; the web viewer stays up until SIGINT or "
				"SIGTERM (--web-keep)");
			wait_for_interrupt();
		}
		web_stop();
		o->started = 0;
	}
	if (o->tmp_log)
		unlink(o->tmp_log);
	if (o->dir)
		rmdir(o->dir);
}

void web_options_free(struct run_web_options *o)
{
	free(o->addr);
	free(o->dir);
	free(o->tmp_log);
	memset(o, 0, sizeof(*o));
	o->keep = -1;
}

static void view_usage(FILE *f)
{
	fputs("Usage: jvisor view [--web ADDR] LOG.jsonl\n"
	      "Browse a JSON-lines event log (jvisor run -o) in the web viewer until\n"
	      "SIGINT or SIGTERM. The address (with its token) is printed on stderr.\n\n"
	      "Options (before or after LOG.jsonl):\n"
	      "      --web ADDR   listen on HOST:PORT, [V6]:PORT or PORT (default\n"
	      "                   127.0.0.1:0: any free port on loopback)\n"
	      "  -h, --help       this help\n",
	      f);
}

int cmd_view(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"web", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *addr = "127.0.0.1:0", *log = NULL;
	int c, n = 0;
	optind = 1;
	/* "-": options anywhere; the operands come back as option 1. */
	while ((c = getopt_long(argc, argv, "-h", longopts, NULL)) != -1) {
		switch (c) {
		case 1:
			log = optarg;
			n++;
			break;
		case 'w':
			addr = optarg;
			break;
		case 'h':
			view_usage(stdout);
			return 0;
		default:
			fputs("Try 'jvisor view --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++, n++) /* after -- */
		log = argv[optind];
	if (n != 1) {
		fputs("jvisor view: expected one log file (jvisor view [--web ADDR] LOG.jsonl)\n",
		      stderr);
		return EXIT_USAGE;
	}
	/* The server's threads must not take SIGINT/SIGTERM: block them first. */
	sigset_t s;
	interrupt_set(&s);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	struct jv_error e;
	struct web_options wo = {.addr = addr, .log_path = log};
	if (web_start(&wo, &e) < 0) {
		jv_err_print(&e);
		return EXIT_USAGE;
	}
	wait_for_interrupt();
	web_stop();
	return 0;
}
