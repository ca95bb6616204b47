/* The sandbox's options of `jvisor run` and their config keys, in one place
 * (the config keys mirror the long options; docs/sandbox.md). */
#include <getopt.h>
#include <jansson.h>

#include "cli/cli.h"

static long long parse_bytes(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	return *end ? -1 : v;
}

static void add_mount(struct sandbox_options *o, int kind, const char *arg)
{
	struct sandbox_mount m = {.kind = kind};
	const char *colon = kind == SB_TMPFS ? NULL : strchr(arg, ':');
	if (colon) {
		m.src = strndup(arg, (size_t)(colon - arg));
		m.dst = xstrdup(colon + 1);
	} else {
		m.src = xstrdup(arg);
		m.dst = xstrdup(arg);
	}
	o->mounts = xrealloc(o->mounts, (o->n_mounts + 1) * sizeof(m));
	o->mounts[o->n_mounts++] = m;
}

static void add_env(struct sandbox_options *o, const char *kv)
{
	o->setenv = xrealloc(o->setenv, (o->n_setenv + 1) * sizeof(char *));
	o->setenv[o->n_setenv++] = xstrdup(kv);
}

static int set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

/* One option (command line or config key); msg says what is wrong. */
static int apply(struct sandbox_options *o, int opt, const char *arg, const char **msg)
{
	long v;
	long long b;
	struct sandbox_rlimit r;
	switch (opt) {
	case OPT_SB_POLICY:
		return set_string(&o->policy, arg);
	case OPT_SB_ROOTFS:
		return set_string(&o->rootfs, arg);
	case OPT_SB_HOSTNAME:
		if (!*arg || strlen(arg) > 64)
			return *msg = "must be 1 to 64 characters", -1;
		return set_string(&o->hostname, arg);
	case OPT_SB_CHDIR:
		return set_string(&o->chdir, arg);
	case OPT_SB_NET:
		if (strcmp(arg, "none") && strcmp(arg, "host"))
			return *msg = "must be 'none' or 'host'", -1;
		o->net_host = !strcmp(arg, "host");
		return 0;
	case OPT_SB_BIND:
	case OPT_SB_RO_BIND:
	case OPT_SB_TMPFS:
		if (!*arg || (opt == OPT_SB_TMPFS && arg[0] != '/'))
			return *msg = "needs a path (SRC[:DST]; DST absolute)", -1;
		add_mount(o,
			  opt == OPT_SB_BIND	  ? SB_BIND
			  : opt == OPT_SB_RO_BIND ? SB_RO_BIND
						  : SB_TMPFS,
			  arg);
		if (o->mounts[o->n_mounts - 1].dst[0] != '/')
			return *msg = "the destination must be an absolute path", -1;
		return 0;
	case OPT_SB_SETENV:
		if (!strchr(arg, '=') || arg[0] == '=')
			return *msg = "must be NAME=VALUE", -1;
		add_env(o, arg);
		return 0;
	case OPT_SB_UID:
	case OPT_SB_GID:
		if ((v = jv_parse_long(arg, 0, 65534)) < 0)
			return *msg = "must be a number in 0..65534", -1;
		*(opt == OPT_SB_UID ? &o->uid : &o->gid) = v;
		return 0;
	case OPT_SB_RLIMIT:
		if (sandbox_parse_rlimit(arg, &r) < 0)
			return *msg =
				   "must be NAME=VALUE with NAME one of nofile, nproc, as, cpu, "
				   "fsize, core, stack, memlock and VALUE a number or 'unlimited'",
			       -1;
		o->rlimits = xrealloc(o->rlimits, (o->n_rlimits + 1) * sizeof(r));
		o->rlimits[o->n_rlimits++] = r;
		return 0;
	case OPT_SB_WALL_TIME:
	case OPT_SB_CPU_TIME:
		if ((v = jv_parse_long(arg, 1, 365L * 86400)) < 0)
			return *msg = "must be a whole number of seconds (1 or more)", -1;
		*(opt == OPT_SB_WALL_TIME ? &o->wall_time : &o->cpu_time) = v;
		return 0;
	case OPT_SB_MEMORY:
		if ((b = parse_bytes(arg)) < 0)
			return *msg = "must be a number of bytes (suffix K, M or G)", -1;
		o->memory = b;
		return 0;
	case OPT_SB_PIDS:
		if ((v = jv_parse_long(arg, 1, 4194304)) < 0)
			return *msg = "must be a number of processes (1 or more)", -1;
		o->pids = v;
		return 0;
	default:
		return *msg = "unknown option", -1;
	}
}

int sandbox_option(struct sandbox_options *o, int opt, const char *arg)
{
	const char *msg = "";
	if (opt == OPT_SB_ISOLATE) {
		o->isolate = 1;
		return 0;
	}
	if (opt == OPT_SB_CLEARENV) {
		o->clearenv = 1;
		return 0;
	}
	if (apply(o, opt, arg, &msg) < 0) {
		const struct option *lo = NULL;
		static const struct option all[] = {SANDBOX_LONGOPTS, {NULL, 0, NULL, 0}};
		for (lo = all; lo->name && lo->val != opt; lo++)
			;
		fprintf(stderr, "jvisor run: --%s %s: %s\n", lo->name ? lo->name : "?", arg, msg);
		return -1;
	}
	return 0;
}

int sandbox_config_key(const char *path, const char *key, json_t *v, struct sandbox_options *o,
		       struct jv_error *e)
{
	static const struct option all[] = {SANDBOX_LONGOPTS, {NULL, 0, NULL, 0}};
	const struct option *lo;
	for (lo = all; lo->name && strcmp(lo->name, key); lo++)
		;
	if (!lo->name)
		return 0;
	if (lo->has_arg == no_argument)
		return config_bool(path, key, v,
				   lo->val == OPT_SB_ISOLATE ? &o->isolate : &o->clearenv, e);
	/* Repeatable options take an array; numbers may be JSON numbers. */
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
		char num[32];
		const char *s = json_string_value(x);
		if (json_is_integer(x)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(x));
			s = num;
		}
		if (!s)
			return jv_err(e, 0, "%s: key '%s' must be a string%s", path, key,
				      json_is_array(v) ? " (in the array)"
						       : " or an array of them");
		const char *msg = "";
		_cleanup_free_ char *resolved = NULL;
		if (lo->val == OPT_SB_POLICY && s[0] != '/') {
			_cleanup_free_ char *copy = xstrdup(path);
			char *slash = strrchr(copy, '/');
			resolved = slash ? (slash[1] = 0, xasprintf("%s%s", copy, s)) : xstrdup(s);
			s = resolved;
		}
		if (apply(o, lo->val, s, &msg) < 0)
			return jv_err(e, 0, "%s: key '%s': '%s' %s", path, key, s, msg);
	}
	return 1;
}

void sandbox_options_merge(struct sandbox_options *o, const struct sandbox_options *cli)
{
#define TAKE_STR(f) \
	if (cli->f) \
	set_string(&o->f, cli->f)
	TAKE_STR(policy);
	TAKE_STR(rootfs);
	TAKE_STR(hostname);
	TAKE_STR(chdir);
#undef TAKE_STR
	if (cli->isolate >= 0)
		o->isolate = cli->isolate;
	if (cli->clearenv >= 0)
		o->clearenv = cli->clearenv;
	if (cli->net_host >= 0)
		o->net_host = cli->net_host;
	if (cli->uid >= 0)
		o->uid = cli->uid;
	if (cli->gid >= 0)
		o->gid = cli->gid;
	if (cli->wall_time)
		o->wall_time = cli->wall_time;
	if (cli->cpu_time)
		o->cpu_time = cli->cpu_time;
	if (cli->memory)
		o->memory = cli->memory;
	if (cli->pids)
		o->pids = cli->pids;
	for (size_t i = 0; i < cli->n_setenv; i++)
		add_env(o, cli->setenv[i]);
	for (size_t i = 0; i < cli->n_mounts; i++) {
		struct sandbox_mount m = {cli->mounts[i].kind, xstrdup(cli->mounts[i].src),
					  xstrdup(cli->mounts[i].dst)};
		o->mounts = xrealloc(o->mounts, (o->n_mounts + 1) * sizeof(m));
		o->mounts[o->n_mounts++] = m;
	}
	if (cli->n_rlimits) {
		o->rlimits =
		    xrealloc(o->rlimits, (o->n_rlimits + cli->n_rlimits) * sizeof(*o->rlimits));
		memcpy(o->rlimits + o->n_rlimits, cli->rlimits,
		       cli->n_rlimits * sizeof(*o->rlimits));
		o->n_rlimits += cli->n_rlimits;
	}
}

void sandbox_options_init(struct sandbox_options *o)
{
	memset(o, 0, sizeof(*o));
	o->isolate = o->clearenv = o->net_host = -1;
	o->uid = o->gid = -1;
}

void sandbox_options_free(struct sandbox_options *o)
{
	free(o->policy);
	free(o->rootfs);
	free(o->hostname);
	free(o->chdir);
	for (size_t i = 0; i < o->n_setenv; i++)
		free(o->setenv[i]);
	free(o->setenv);
	for (size_t i = 0; i < o->n_mounts; i++) {
		free(o->mounts[i].src);
		free(o->mounts[i].dst);
	}
	free(o->mounts);
	free(o->rlimits);
	sandbox_options_init(o);
}
