/* jvisor ctl ADDR COMMAND [ARGS]: one request to a running sandbox's control
 * socket (docs/control.md), its answer printed for humans or as JSON. */
#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cli/cli.h"
#include "common/util.h"

char *control_token_file(const char *host, int port, struct jv_error *e);

static void usage(FILE *f)
{
	fputs("Usage: jvisor ctl [options] ADDR COMMAND [ARGS]\n"
	      "Talk to a sandbox started with `jvisor run --control ADDR`.\n"
	      "ADDR is unix:PATH (or a path), unix:@NAME (abstract) or tcp:127.0.0.1:PORT (its\n"
	      "token file is read).\n\n"
	      "Commands:\n"
	      "  load FILE.js                 run a script in the sandbox (it may add hooks)\n"
	      "  eval SOURCE                  the same with the source given inline\n"
	      "  hooks                        the hooks registered now\n"
	      "  accessors                    the accessors scripts can use\n"
	      "  unhook --all | NAME[:before|after]...  remove hooks\n"
	      "  ps                           the sandbox's processes and threads\n"
	      "  kill PID [SIG]               signal a process (-PGID: a group)\n"
	      "  nice PID [N]                 show or set a process's nice value\n"
	      "  umask PID [MASK]             show or set a process's umask (octal)\n"
	      "  stats                        counters\n"
	      "  config [KEY [VALUE]]         runtime settings\n"
	      "  trace SET                    change which syscalls are logged (as -e)\n"
	      "  events [--all]               follow the event log (run -o FILE) until the\n"
	      "                               sandbox ends; --all: from its first record\n"
	      "  send JSON                    send a raw request\n\n"
	      "Options go before ADDR or anywhere after it, spelled out in full; other\n"
	      "arguments after ADDR are the command's, even when they begin with '-'\n"
	      "(nice PID -5); after --, everything is (eval -- --json).\n"
	      "  --json                       print the answer as JSON\n"
	      "  --token-file FILE            the TCP token file (default: the one jvisor wrote)\n"
	      "  --timeout SECONDS            give up waiting for the answer (default 30)\n"
	      "  -h, --help                   this help\n",
	      f);
}

static int connect_addr(const char *addr, const char *token_file, char **token, struct jv_error *e)
{
	if (!strncmp(addr, "tcp:", 4)) {
		const char *hp = addr + 4, *colon = strrchr(hp, ':');
		if (!colon)
			return jv_err(e, EINVAL, "%s: expected tcp:HOST:PORT", addr);
		_cleanup_free_ char *host = strndup(hp, (size_t)(colon - hp));
		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		int port = atoi(colon + 1);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
			return jv_err(e, EINVAL, "%s: bad IPv4 address", addr);
		_cleanup_free_ char *tf =
		    token_file ? xstrdup(token_file) : control_token_file(host, port, e);
		_cleanup_free_ char *tok = NULL;
		if (tf && jv_read_file(tf, &tok) >= 0) {
			tok[strcspn(tok, "\r\n")] = 0;
			*token = steal_pointer(&tok);
		} else if (token_file) {
			return jv_err(e, errno, "cannot read the token file %s", token_file);
		}
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return jv_err(e, errno, "socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int err = errno;
			close(fd);
			return jv_err(e, err, "cannot connect to %s", addr);
		}
		return fd;
	}
	const char *path = !strncmp(addr, "unix:", 5) ? addr + 5 : addr;
	struct sockaddr_un sa;
	int salen = jv_unix_addr(&sa, path); /* "@NAME": an abstract socket */
	if (salen < 0)
		return jv_err(e, ENAMETOOLONG, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return jv_err(e, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, (socklen_t)salen) < 0) {
		int err = errno;
		close(fd);
		return jv_err(e, err, "cannot connect to %s", path);
	}
	return fd;
}

static json_t *request(const char *type)
{
	json_t *r = json_object();
	json_object_set_new(r, "type", json_string(type));
	json_object_set_new(r, "payload", json_object());
	return r;
}

static json_t *payload(json_t *r)
{
	return json_object_get(r, "payload");
}

static bool parse_long(const char *s, long *v, int base)
{
	char *end;
	errno = 0;
	*v = strtol(s, &end, base);
	return !errno && end != s && !*end;
}

/* Build the request of COMMAND ARGS; NULL after printing a usage error. */
static json_t *build(int argc, char **argv)
{
	const char *cmd = argv[0];
	json_t *r = NULL;
	long v;
	if (!strcmp(cmd, "load") && argc == 2) {
		_cleanup_free_ char *src = NULL;
		if (jv_read_file(argv[1], &src) < 0) {
			fprintf(stderr, "jvisor ctl: cannot read %s: %s\n", argv[1],
				strerror(errno));
			return NULL;
		}
		r = request("change-state");
		json_t *s = json_string(src);
		if (!s) {
			fprintf(stderr, "jvisor ctl: %s is not UTF-8 text\n", argv[1]);
			json_decref(r);
			return NULL;
		}
		json_object_set_new(payload(r), "source", s);
		return r;
	}
	if (!strcmp(cmd, "eval") && argc == 2) {
		r = request("change-state");
		json_object_set_new(payload(r), "source", json_string(argv[1]));
		return r;
	}
	if (!strcmp(cmd, "hooks") && argc == 1)
		return request("current-hooks");
	if (!strcmp(cmd, "accessors") && argc == 1)
		return request("accessors-info");
	if (!strcmp(cmd, "ps") && argc == 1)
		return request("ps");
	if (!strcmp(cmd, "stats") && argc == 1)
		return request("stats");
	if (!strcmp(cmd, "unhook") && argc >= 2) {
		r = request("unregister-hooks");
		if (argc == 2 && !strcmp(argv[1], "--all")) {
			json_object_set_new(payload(r), "options", json_string("all"));
			return r;
		}
		json_t *list = json_array();
		for (int i = 1; i < argc; i++) {
			_cleanup_free_ char *name = xstrdup(argv[i]);
			char *colon = strchr(name, ':');
			json_t *it = json_object();
			if (colon) {
				*colon = 0;
				if (strcmp(colon + 1, "before") && strcmp(colon + 1, "after")) {
					fprintf(
					    stderr,
					    "jvisor ctl: unhook %s: expected NAME[:before|after]\n",
					    argv[i]);
					json_decref(it);
					json_decref(list);
					json_decref(r);
					return NULL;
				}
				json_object_set_new(it, "type", json_string(colon + 1));
			}
			json_object_set_new(it, "sysno",
					    parse_long(name, &v, 10) ? json_integer(v)
								     : json_string(name));
			json_array_append_new(list, it);
		}
		json_object_set_new(payload(r), "options", json_string("list"));
		json_object_set_new(payload(r), "list", list);
		return r;
	}
	if ((!strcmp(cmd, "kill") && (argc == 2 || argc == 3)) ||
	    ((!strcmp(cmd, "nice") || !strcmp(cmd, "umask")) && (argc == 2 || argc == 3))) {
		if (!parse_long(argv[1], &v, 10)) {
			fprintf(stderr, "jvisor ctl: %s: '%s' is not a pid\n", cmd, argv[1]);
			return NULL;
		}
		r = request(cmd);
		json_object_set_new(payload(r), "pid", json_integer(v));
		if (argc == 3) {
			const char *key = cmd[0] == 'k'	  ? "signal"
					  : cmd[0] == 'n' ? "value"
							  : "mask";
			json_t *val;
			if (cmd[0] == 'u')
				val = json_string(argv[2]);
			else if (parse_long(argv[2], &v, 10))
				val = json_integer(v);
			else if (cmd[0] == 'k')
				val = json_string(argv[2]);
			else {
				fprintf(stderr, "jvisor ctl: nice: '%s' is not a number\n",
					argv[2]);
				json_decref(r);
				return NULL;
			}
			json_object_set_new(payload(r), key, val);
		}
		return r;
	}
	if (!strcmp(cmd, "config") && argc <= 3) {
		r = request("config");
		if (argc >= 2)
			json_object_set_new(payload(r), "key", json_string(argv[1]));
		if (argc == 3)
			json_object_set_new(payload(r), "value", json_string(argv[2]));
		return r;
	}
	if (!strcmp(cmd, "send") && argc == 2) {
		json_error_t je;
		r = json_loads(argv[1], JSON_DECODE_ANY, &je);
		if (!r) {
			fprintf(stderr, "jvisor ctl: send: invalid JSON: %s\n", je.text);
			return NULL;
		}
		return r;
	}
	if (!strcmp(cmd, "events") && (argc == 1 || (argc == 2 && !strcmp(argv[1], "--all")))) {
		r = request("subscribe");
		if (argc == 2)
			json_object_set_new(payload(r), "from", json_string("start"));
		return r;
	}
	if (!strcmp(cmd, "trace") && argc == 2) {
		r = request("trace");
		json_object_set_new(payload(r), "set", json_string(argv[1]));
		return r;
	}
	fprintf(stderr,
		"jvisor ctl: unknown command or wrong arguments: %s (see jvisor ctl --help)\n",
		cmd);
	return NULL;
}

static void print_human(const char *cmd, json_t *a)
{
	const char *msg = json_string_value(json_object_get(a, "message"));
	json_t *p = json_object_get(a, "payload");
	size_t i;
	json_t *it;
	if (!strcmp(cmd, "hooks") && json_is_array(p)) {
		if (!json_array_size(p))
			puts("no hooks");
		json_array_foreach (p, i, it) {
			const char *ep = json_string_value(json_object_get(it, "entry-point"));
			const char *mode = json_string_value(json_object_get(it, "mode"));
			char type[32];
			bool other = mode && (!strcmp(mode, "notify") || !strcmp(mode, "observe"));
			snprintf(type, sizeof(type), "%s%s%s",
				 json_string_value(json_object_get(it, "type")), other ? "/" : "",
				 other ? mode : "");
			printf("%-4lld %-16s %-13s %s%s%s  calls=%lld\n",
			       json_integer_value(json_object_get(it, "id")),
			       json_string_value(json_object_get(it, "name")), type,
			       json_string_value(json_object_get(it, "source")),
			       ep && *ep ? " " : "", ep ? ep : "",
			       json_integer_value(json_object_get(it, "calls")));
		}
		return;
	}
	if (!strcmp(cmd, "ps") && json_is_array(p)) {
		printf("%7s %7s %-5s %7s  %s\n", "PID", "PPID", "STATE", "THREADS", "COMMAND");
		json_array_foreach (p, i, it) {
			printf("%7lld %7lld %-5s %7zu  ",
			       json_integer_value(json_object_get(it, "pid")),
			       json_integer_value(json_object_get(it, "ppid")),
			       json_string_value(json_object_get(it, "state")),
			       json_array_size(json_object_get(it, "threads")));
			size_t k;
			json_t *arg;
			json_array_foreach (json_object_get(it, "argv"), k, arg)
				printf("%s%s", k ? " " : "", json_string_value(arg));
			putchar('\n');
		}
		return;
	}
	if (!strcmp(cmd, "accessors") && json_is_array(p)) {
		json_array_foreach (p, i, it)
			puts(json_string_value(it));
		return;
	}
	if (msg && *msg)
		puts(msg);
	bool show = !strcmp(cmd, "stats") || !strcmp(cmd, "config") || !strcmp(cmd, "send") ||
		    !strcmp(cmd, "load") || !strcmp(cmd, "eval");
	if (show && p && !json_is_null(p) && (!json_is_object(p) || json_object_size(p) > 0)) {
		if (json_is_string(p)) {
			puts(json_string_value(p));
		} else {
			char *s = json_dumps(p, JSON_INDENT(2) | JSON_ENCODE_ANY);
			if (s)
				puts(s);
			free(s);
		}
	}
}

struct ctl_options {
	bool as_json;
	const char *token_file;
	long timeout_s;
};

static const struct option ctl_longopts[] = {
    {"json", no_argument, NULL, 'j'},
    {"token-file", required_argument, NULL, 't'},
    {"timeout", required_argument, NULL, 'T'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One option: 0, 1 after printing the help, or -1 after a usage error. */
static int ctl_option(struct ctl_options *o, int c, const char *arg)
{
	switch (c) {
	case 'j':
		o->as_json = true;
		return 0;
	case 't':
		o->token_file = arg;
		return 0;
	case 'T':
		if (!parse_long(arg, &o->timeout_s, 10) || o->timeout_s < 1) {
			fprintf(stderr, "jvisor ctl: --timeout: '%s' is not a number of seconds\n",
				arg);
			return -1;
		}
		return 0;
	case 'h':
		usage(stdout);
		return 1;
	default:
		fputs("Try 'jvisor ctl --help'.\n", stderr);
		return -1;
	}
}

/* argv[*i], after ADDR: the code of one of ctl's own options spelled out in
 * full (--json, --token-file FILE or =FILE, --timeout S or =S, --help, -h),
 * with its argument in *arg (*i moved past it); 0 for anything else, which
 * is an operand (a command's arguments may begin with '-': nice PID -5,
 * kill -PGID, unhook --all); '?' when the option's argument is missing. */
static int late_option(int argc, char **argv, int *i, const char **arg)
{
	const char *a = argv[*i];
	*arg = NULL;
	if (!strcmp(a, "-h"))
		return 'h';
	if (strncmp(a, "--", 2))
		return 0;
	for (const struct option *lo = ctl_longopts; lo->name; lo++) {
		size_t len = strlen(lo->name);
		if (strncmp(a + 2, lo->name, len))
			continue;
		const char *rest = a + 2 + len;
		if (!*rest && lo->has_arg == no_argument)
			return lo->val;
		if (lo->has_arg == no_argument)
			continue;
		if (*rest == '=') {
			*arg = rest + 1;
			return lo->val;
		}
		if (*rest)
			continue;
		if (*i + 1 >= argc) {
			fprintf(stderr, "jvisor ctl: option '%s' requires an argument\n", a);
			return '?';
		}
		*arg = argv[++*i];
		return lo->val;
	}
	return 0;
}

int cmd_ctl(int argc, char **argv)
{
	struct ctl_options o = {.timeout_s = 30};
	int c, st;
	optind = 1;
	/* Before ADDR: every option, as getopt knows them. */
	while ((c = getopt_long(argc, argv, "+h", ctl_longopts, NULL)) != -1)
		if ((st = ctl_option(&o, c, optarg)) != 0)
			return st > 0 ? 0 : EXIT_USAGE;
	/* After ADDR: ctl's own options in full, until "--" (late_option). */
	bool options = strcmp(argv[optind - 1], "--") != 0;
	int k = optind;
	for (int i = optind; i < argc; i++) {
		const char *arg;
		if (options && !strcmp(argv[i], "--")) {
			options = false;
			continue;
		}
		if (options && (c = late_option(argc, argv, &i, &arg)) != 0) {
			if ((st = ctl_option(&o, c, arg)) != 0)
				return st > 0 ? 0 : EXIT_USAGE;
			continue;
		}
		argv[k++] = argv[i];
	}
	argc = k;
	if (argc - optind < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *addr = argv[optind];
	const char *cmd = argv[optind + 1];
	json_auto_t *req = build(argc - optind - 1, argv + optind + 1);
	if (!req)
		return EXIT_USAGE;
	struct jv_error e;
	_cleanup_free_ char *token = NULL;
	_cleanup_close_ int fd = connect_addr(addr, o.token_file, &token, &e);
	if (fd < 0) {
		jv_err_print(&e);
		return EXIT_USAGE;
	}
	if (token && json_is_object(req) && !json_object_get(req, "token"))
		json_object_set_new(req, "token", json_string(token));
	_cleanup_free_ char *dump = json_dumps(req, JSON_COMPACT | JSON_ENCODE_ANY);
	_cleanup_free_ char *line = dump ? xasprintf("%s\n", dump) : NULL;
	signal(SIGPIPE, SIG_IGN);
	if (!line || jv_write_all(fd, line, strlen(line)) < 0) {
		fprintf(stderr, "jvisor ctl: cannot send the request: %s\n", strerror(errno));
		return 1;
	}
	/* One answer line. */
	size_t len = 0, cap = 65536;
	_cleanup_free_ char *buf = xmalloc(cap);
	uint64_t deadline = jv_now_ns() + (uint64_t)o.timeout_s * 1000000000ull;
	for (;;) {
		if (memchr(buf, '\n', len))
			break;
		struct pollfd pfd = {fd, POLLIN, 0};
		uint64_t now = jv_now_ns();
		if (now >= deadline) {
			fprintf(stderr, "jvisor ctl: no answer within %ld s\n", o.timeout_s);
			return 1;
		}
		int pr = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		if (len + 4096 > cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	json_error_t je;
	json_auto_t *a = json_loads(buf, JSON_DISABLE_EOF_CHECK, &je);
	if (!a) {
		fprintf(stderr, "jvisor ctl: bad answer from the sandbox: %s\n",
			len ? je.text : "connection closed");
		return 1;
	}
	bool ok = !strcmp(json_string_value(json_object_get(a, "type")) ?: "", "ok");
	if (ok && !strcmp(cmd, "events")) {
		/* The records follow the answer line, until the sandbox ends. */
		char *nl = memchr(buf, '\n', len);
		size_t rest = nl ? len - (size_t)(nl + 1 - buf) : 0;
		if (rest && fwrite(nl + 1, 1, rest, stdout) != rest)
			return 1;
		fflush(stdout);
		for (;;) {
			ssize_t r = read(fd, buf, cap);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
				return 1;
			fflush(stdout);
		}
		return 0;
	}
	if (o.as_json) {
		char *s = json_dumps(a, JSON_COMPACT);
		puts(s ? s : "null");
		free(s);
	} else if (ok) {
		print_human(cmd, a);
	} else {
		const char *m = json_string_value(json_object_get(a, "message"));
		fprintf(stderr, "jvisor ctl: %s\n", m ? m : "error");
	}
	return ok ? 0 : 1;
}
