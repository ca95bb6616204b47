/* The control socket's options of `jvisor run` and their config keys
 * (--control, --control-no-token; "control", "control-no-token" and the
 * seed's "runtime-socket": "host:port"). */
#include <jansson.h>

#include "cli/cli.h"
#include "control/control.h"

int control_option(struct run_control_options *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CONTROL:
		if (arg[0] == '-') {
			fprintf(stderr,
				"jvisor run: --control needs an address: unix (a fresh abstract "
				"socket), unix:@NAME, unix:PATH or tcp:127.0.0.1:PORT\n");
			return -1;
		}
		free(o->addr);
		o->addr = xstrdup(arg);
		return 0;
	case OPT_CONTROL_NO_TOKEN:
		o->no_token = 1;
		return 0;
	default:
		return -1;
	}
}

int control_config_key(const char *path, const char *key, json_t *v, struct run_control_options *o,
		       struct jv_error *e)
{
	if (!strcmp(key, "control") || !strcmp(key, "runtime-socket")) {
		if (!json_is_string(v))
			return jv_err(e, 0, "%s: key '%s' must be a string", path, key);
		const char *s = json_string_value(v);
		free(o->addr);
		/* The seed's runtime socket is "host:port" (TCP). */
		if (key[0] == 'r' && strncmp(s, "tcp:", 4) && strncmp(s, "unix:", 5))
			o->addr = xasprintf("tcp:%s", s);
		else
			o->addr = xstrdup(s);
		return 1;
	}
	if (!strcmp(key, "control-no-token"))
		return config_bool(path, key, v, &o->no_token, e);
	return 0;
}

void control_options_merge(struct run_control_options *o, const struct run_control_options *cli)
{
	if (cli->addr) {
		free(o->addr);
		o->addr = xstrdup(cli->addr);
	}
	if (cli->no_token >= 0)
		o->no_token = cli->no_token;
}

int control_options_open(const struct run_control_options *o, unsigned timeout_ms, int fail_closed,
			 struct jv_error *e)
{
	if (!o->addr)
		return 0;
	const char *a = o->addr;
	struct control_options co = {
	    .addr =
		!strcmp(a, "") || !strcmp(a, "unix") || !strcmp(a, "unix:") || !strcmp(a, "auto")
		    ? NULL
		    : a,
	    .no_token = o->no_token == 1,
	    .timeout_ms = timeout_ms,
	    .fail_closed = fail_closed,
	    .log_path = o->log_path,
	};
	if (co.no_token && (!co.addr || strncmp(co.addr, "tcp:", 4)))
		co.no_token = false; /* unix sockets never need one */
	return control_open(&co, e);
}

void control_options_free(struct run_control_options *o)
{
	free(o->addr);
	o->addr = NULL;
	o->no_token = -1;
}
