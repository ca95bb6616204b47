/* The event log's options of `jvisor run` and their config keys: one place
 * for both (the config keys mirror the long options). */
#include <jansson.h>

#include "bpf/backend.h"
#include "cli/cli.h"
#include "log/log.h"

static int parse_format(const char *s)
{
	if (!strcmp(s, "json"))
		return LOG_FORMAT_JSON;
	if (!strcmp(s, "text"))
		return LOG_FORMAT_TEXT;
	return -1;
}

static int parse_full(const char *s)
{
	if (!strcmp(s, "block"))
		return LOG_FULL_BLOCK;
	if (!strcmp(s, "drop"))
		return LOG_FULL_DROP;
	return -1;
}

static int parse_backend(const char *s)
{
	if (!strcmp(s, "auto"))
		return LOG_BACKEND_AUTO;
	if (!strcmp(s, "bpf"))
		return LOG_BACKEND_BPF;
	if (!strcmp(s, "ptrace"))
		return LOG_BACKEND_PTRACE;
	return -1;
}

static void add_trace(struct run_log_options *o, const char *set)
{
	char *joined = o->trace ? xasprintf("%s,%s", o->trace, set) : xstrdup(set);
	free(o->trace);
	o->trace = joined;
}

/* Check a set now, so that a typo is reported before anything runs. */
static int check_trace(const char *set, struct jv_error *e)
{
	struct sys_set s = {{0}};
	return sys_set_parse(set, &s, e);
}

/* A JSON string (jansson escapes it) appended to *out after prefix; -1 when
 * s is not valid UTF-8. */
static int append_json_str(char **out, const char *prefix, const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (!j)
		return -1;
	_cleanup_free_ char *enc = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	char *joined = xasprintf("%s%s%s", *out ? *out : "", prefix, enc ? enc : "\"\"");
	free(*out);
	*out = joined;
	return 0;
}

/* --label KEY=VALUE: KEY non-empty, both valid UTF-8. */
static int add_label(struct run_log_options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	_cleanup_free_ char *add = NULL;
	if (!eq || eq == arg || append_json_str(&add, "", arg, (size_t)(eq - arg)) < 0 ||
	    append_json_str(&add, ":", eq + 1, strlen(eq + 1)) < 0) {
		fprintf(stderr, "jvisor run: --label '%s': expected KEY=VALUE (UTF-8)\n", arg);
		return -1;
	}
	char *joined = xasprintf("%s%s%s", o->labels ? o->labels : "", o->labels ? "," : "", add);
	free(o->labels);
	o->labels = joined;
	return 0;
}

int log_option(struct run_log_options *o, int opt, const char *arg)
{
	struct jv_error e;
	switch (opt) {
	case OPT_CONTAINER_ID:
		free(o->container_id);
		o->container_id = NULL;
		if (!*arg || append_json_str(&o->container_id, "", arg, strlen(arg)) < 0) {
			fprintf(stderr, "jvisor run: --container-id: an empty or non-UTF-8 id\n");
			return -1;
		}
		return 0;
	case OPT_LABEL:
		return add_label(o, arg);
	case 'o':
		free(o->path);
		o->path = xstrdup(arg);
		return 0;
	case 'e':
		if (!strncmp(arg, "trace=", 6))
			arg += 6;
		if (check_trace(arg, &e) < 0) {
			fprintf(stderr, "jvisor run: -e %s: %s\n", arg, e.msg);
			return -1;
		}
		/* Several -e: a negated set cannot be joined; the last one wins. */
		if (arg[0] == '!' || (o->trace && o->trace[0] == '!')) {
			free(o->trace);
			o->trace = NULL;
		}
		add_trace(o, arg);
		return 0;
	case OPT_TRACE_ARGS: {
		struct hook_filter f;
		if (argfilter_parse(arg, &f, &e) < 0) {
			fprintf(stderr, "jvisor run: --trace-args %s\n", e.msg);
			return -1;
		}
		free(o->trace_args);
		o->trace_args = xstrdup(arg);
		return 0;
	}
	case OPT_LOG_FORMAT:
		if ((o->format = parse_format(arg)) < 0) {
			fprintf(stderr, "jvisor run: --format: '%s' is not 'json' or 'text'\n",
				arg);
			return -1;
		}
		return 0;
	case OPT_LOG_SOCKET:
		free(o->socket);
		o->socket = xstrdup(arg);
		return 0;
	case OPT_LOG_SOCKET_FULL:
		if ((o->socket_full = parse_full(arg)) < 0) {
			fprintf(stderr,
				"jvisor run: --log-socket-full: '%s' is not 'block' or 'drop'\n",
				arg);
			return -1;
		}
		return 0;
	case OPT_LOG_SOCKET_BUFFER:
		if ((o->socket_buffer = jv_parse_long(arg, 4096, 1L << 32)) < 0) {
			fprintf(stderr,
				"jvisor run: --log-socket-buffer: '%s' is not a number of "
				"bytes in 4096..4294967296\n",
				arg);
			return -1;
		}
		return 0;
	case OPT_LOG_BACKEND:
		if ((o->backend = parse_backend(arg)) < 0) {
			fprintf(stderr,
				"jvisor run: --log-backend: '%s' is not 'auto', 'bpf' or "
				"'ptrace'\n",
				arg);
			return -1;
		}
		return 0;
	case OPT_SUMMARY:
		o->summary = 1;
		return 0;
	case OPT_LOG_FULL:
		if ((o->full = parse_full(arg)) < 0) {
			fprintf(stderr, "jvisor run: --log-full: '%s' is not 'block' or 'drop'\n",
				arg);
			return -1;
		}
		return 0;
	case OPT_STRING_LIMIT:
		if ((o->string_limit = jv_parse_long(arg, 1, 1L << 20)) < 0) {
			fprintf(stderr,
				"jvisor run: --string-limit: '%s' is not a number in "
				"1..1048576\n",
				arg);
			return -1;
		}
		return 0;
	default:
		return -1;
	}
}

int log_config_key(const char *path, const char *key, json_t *v, struct run_log_options *o,
		   struct jv_error *e)
{
	if (!strcmp(key, "log"))
		return config_string(path, key, v, &o->path, e);
	if (!strcmp(key, "log-socket"))
		return config_string(path, key, v, &o->socket, e);
	if (!strcmp(key, "trace")) {
		size_t n = json_is_array(v) ? json_array_size(v) : 1;
		for (size_t i = 0; i < n; i++) {
			json_t *s = json_is_array(v) ? json_array_get(v, i) : v;
			if (!json_is_string(s))
				return jv_err(e, 0,
					      "%s: key 'trace' must be a string or an array of "
					      "strings",
					      path);
			if (check_trace(json_string_value(s), e) < 0)
				return jv_err_prefix(e, "%s: trace", path);
			add_trace(o, json_string_value(s));
		}
		return 1;
	}
	if (!strcmp(key, "trace-args")) {
		struct hook_filter f;
		if (!json_is_string(v))
			return jv_err(e, 0, "%s: key 'trace-args' must be a string", path);
		if (argfilter_parse(json_string_value(v), &f, e) < 0)
			return jv_err_prefix(e, "%s: trace-args", path);
		free(o->trace_args);
		o->trace_args = xstrdup(json_string_value(v));
		return 1;
	}
	if (!strcmp(key, "format")) {
		if (!json_is_string(v) || (o->format = parse_format(json_string_value(v))) < 0)
			return jv_err(e, 0, "%s: key 'format' must be \"json\" or \"text\"", path);
		return 1;
	}
	if (!strcmp(key, "log-backend")) {
		if (!json_is_string(v) || (o->backend = parse_backend(json_string_value(v))) < 0)
			return jv_err(e, 0,
				      "%s: key 'log-backend' must be \"auto\", \"bpf\" or "
				      "\"ptrace\"",
				      path);
		return 1;
	}
	if (!strcmp(key, "summary"))
		return config_bool(path, key, v, &o->summary, e);
	if (!strcmp(key, "log-full")) {
		if (!json_is_string(v) || (o->full = parse_full(json_string_value(v))) < 0)
			return jv_err(e, 0, "%s: key 'log-full' must be \"block\" or \"drop\"",
				      path);
		return 1;
	}
	if (!strcmp(key, "log-socket-full")) {
		if (!json_is_string(v) || (o->socket_full = parse_full(json_string_value(v))) < 0)
			return jv_err(
			    e, 0, "%s: key 'log-socket-full' must be \"block\" or \"drop\"", path);
		return 1;
	}
	if (!strcmp(key, "log-socket-buffer") || !strcmp(key, "string-limit")) {
		bool buf = key[0] == 'l';
		long min = buf ? 4096 : 1, max = buf ? 1L << 32 : 1L << 20;
		if (!json_is_integer(v) || json_integer_value(v) < min ||
		    json_integer_value(v) > max)
			return jv_err(e, 0, "%s: key '%s' must be an integer in %ld..%ld", path,
				      key, min, max);
		*(buf ? &o->socket_buffer : &o->string_limit) = (long)json_integer_value(v);
		return 1;
	}
	return 0;
}

void log_options_merge(struct run_log_options *o, const struct run_log_options *cli)
{
	if (cli->path) {
		free(o->path);
		o->path = xstrdup(cli->path);
	}
	if (cli->trace) {
		free(o->trace);
		o->trace = xstrdup(cli->trace);
	}
	if (cli->trace_args) {
		free(o->trace_args);
		o->trace_args = xstrdup(cli->trace_args);
	}
	if (cli->socket) {
		free(o->socket);
		o->socket = xstrdup(cli->socket);
	}
	if (cli->format >= 0)
		o->format = cli->format;
	if (cli->socket_full >= 0)
		o->socket_full = cli->socket_full;
	if (cli->socket_buffer)
		o->socket_buffer = cli->socket_buffer;
	if (cli->string_limit)
		o->string_limit = cli->string_limit;
	if (cli->backend >= 0)
		o->backend = cli->backend;
	if (cli->full >= 0)
		o->full = cli->full;
	if (cli->summary >= 0)
		o->summary = cli->summary;
	if (cli->container_id) {
		free(o->container_id);
		o->container_id = xstrdup(cli->container_id);
	}
	if (cli->labels) {
		free(o->labels);
		o->labels = xstrdup(cli->labels);
	}
}

int log_options_backend(const struct run_log_options *o, int pid, struct jv_error *e)
{
	/* Without a log, BPF only feeds observe-mode hooks: when asked for. */
	if (o->backend == LOG_BACKEND_PTRACE || (!log_active && o->backend != LOG_BACKEND_BPF))
		return 0;
	char why[256];
	if (!bpfl_usable(why, sizeof(why))) {
		if (o->backend == LOG_BACKEND_BPF)
			return jv_err(e, EPERM, "--log-backend bpf: %s", why);
		jv_warn("log backend ptrace: %s", why);
		return 0;
	}
	const char *ring = getenv("JVISOR_BPF_RING");
	struct bpfl_options bo = {
	    .ring_bytes = ring ? (size_t)jv_parse_long(ring, 4096, 1L << 30) : 0,
	    .str_max = (size_t)(o->string_limit ? o->string_limit : 256),
	    .full_drop = o->full == LOG_FULL_DROP,
	};
	if (bpfl_start(&bo, (pid_t)pid, e) == 0)
		return 0;
	if (o->backend == LOG_BACKEND_BPF)
		return jv_err_prefix(e, "--log-backend bpf");
	jv_warn("log backend ptrace: %s", e->msg);
	return 0;
}

int log_options_open(const struct run_log_options *o, struct jv_error *e)
{
	struct log_options lo = {
	    .path = o->path,
	    .format = o->format,
	    .socket = o->socket,
	    .socket_full = o->socket_full < 0 ? LOG_FULL_BLOCK : o->socket_full,
	    .socket_buffer = (size_t)o->socket_buffer,
	    .trace_given = o->trace != NULL,
	    .string_limit = (size_t)o->string_limit,
	    .summary = o->summary > 0,
	};
	_cleanup_free_ char *tags = NULL;
	if (o->container_id || o->labels)
		tags = xasprintf("%s%s%s%s%s", o->container_id ? ",\"container\":" : "",
				 o->container_id ? o->container_id : "",
				 o->labels ? ",\"labels\":{" : "", o->labels ? o->labels : "",
				 o->labels ? "}" : "");
	lo.tags = tags;
	if (o->trace && sys_set_parse(o->trace, &lo.trace, e) < 0)
		return jv_err_prefix(e, "-e %s", o->trace);
	struct hook_filter args;
	if (o->trace_args) {
		if (argfilter_parse(o->trace_args, &args, e) < 0)
			return jv_err_prefix(e, "--trace-args");
		lo.trace_args = &args;
	}
	return log_open(&lo, e);
}

void log_options_free(struct run_log_options *o)
{
	free(o->path);
	free(o->trace);
	free(o->trace_args);
	free(o->socket);
	free(o->container_id);
	free(o->labels);
	memset(o, 0, sizeof(*o));
	o->format = o->socket_full = o->backend = o->full = o->summary = -1;
}
