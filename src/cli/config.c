/* The JSON configuration file of `jvisor run` (docs/config.md). Its keys
 * mirror the long options; the seed's "callbacks" entries are accepted as
 * the seed wrote them. */
#include <jansson.h>
#include <libgen.h>

#include "cli/cli.h"

/* Paths in the config are relative to the config file's directory. */
int config_string(const char *path, const char *key, json_t *v, char **out, struct jv_error *e)
{
	if (!json_is_string(v))
		return jv_err(e, 0, "%s: key '%s' must be a string", path, key);
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 1;
}

int config_bool(const char *path, const char *key, json_t *v, int *out, struct jv_error *e)
{
	if (!json_is_boolean(v))
		return jv_err(e, 0, "%s: key '%s' must be true or false", path, key);
	*out = json_is_true(v);
	return 1;
}

static char *resolve(const char *config, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	_cleanup_free_ char *copy = xstrdup(config);
	return xasprintf("%s/%s", dirname(copy), path);
}

static int load_callbacks(const char *path, json_t *arr, struct run_options *o, struct jv_error *e)
{
	if (!json_is_array(arr))
		return jv_err(e, 0, "%s: key 'callbacks' must be an array", path);
	size_t i;
	json_t *cb;
	json_array_foreach (arr, i, cb) {
		if (!json_is_object(cb))
			return jv_err(e, 0, "%s: callbacks[%zu] must be an object", path, i);
		struct run_callback c = {.sysno = -1};
		const char *key;
		json_t *v;
		json_object_foreach (cb, key, v) {
			if (!strcmp(key, "sysno")) {
				json_int_t nr = json_is_integer(v) ? json_integer_value(v) : -1;
				if (nr >= 0 && nr < SYS_NR_MAX && sys_name((int)nr))
					c.sysno = (int)nr;
				else if (json_is_string(v))
					c.sysno = sys_number(json_string_value(v));
				if (c.sysno < 0)
					return jv_err(
					    e, 0,
					    "%s: callbacks[%zu].sysno: not a known syscall "
					    "number or name",
					    path, i);
			} else if (!strcmp(key, "type")) {
				const char *t = json_string_value(v);
				if (t && !strcmp(t, "before"))
					c.phase = HOOK_BEFORE;
				else if (t && !strcmp(t, "after"))
					c.phase = HOOK_AFTER;
				else
					return jv_err(
					    e, 0,
					    "%s: callbacks[%zu].type must be \"before\" or "
					    "\"after\"",
					    path, i);
			} else if (!strcmp(key, "args")) {
				if (config_hook_args(path, i, v, &c.filter, e) < 0)
					return -1;
			} else if (!strcmp(key, "mode")) {
				const char *m = json_string_value(v);
				if (m && !strcmp(m, "notify"))
					c.mode = HOOK_MODE_NOTIFY;
				else if (m && !strcmp(m, "observe"))
					c.mode = HOOK_MODE_OBSERVE;
				else if (!m || strcmp(m, "ptrace"))
					return jv_err(e, 0,
						      "%s: callbacks[%zu].mode must be \"ptrace\", "
						      "\"notify\" or \"observe\"",
						      path, i);
			} else if (!strcmp(key, "source") || !strcmp(key, "entry-point")) {
				if (!json_is_string(v))
					return jv_err(e, 0,
						      "%s: callbacks[%zu].%s must be a string",
						      path, i, key);
			} else {
				return jv_err(
				    e, 0,
				    "%s: callbacks[%zu]: unknown key '%s' (expected sysno, "
				    "type, source, entry-point, args, mode)",
				    path, i, key);
			}
		}
		const char *src = json_string_value(json_object_get(cb, "source"));
		const char *entry = json_string_value(json_object_get(cb, "entry-point"));
		if (c.sysno < 0 || !json_object_get(cb, "type") || !src)
			return jv_err(e, 0, "%s: callbacks[%zu] needs sysno, type and source", path,
				      i);
		c.source = xstrdup(src);
		c.entry = entry ? xstrdup(entry) : NULL;
		c.where = xasprintf("%s:callbacks[%zu]", path, i);
		o->callbacks = xrealloc(o->callbacks, (o->n_callbacks + 1) * sizeof(c));
		o->callbacks[o->n_callbacks++] = c;
	}
	return 0;
}

static int add_hooks(const char *path, json_t *v, struct run_options *o, struct jv_error *e)
{
	json_t *single = json_is_string(v) ? v : NULL;
	if (!single && !json_is_array(v))
		return jv_err(e, 0, "%s: key 'hooks' must be a file name or an array of them",
			      path);
	size_t n = single ? 1 : json_array_size(v);
	for (size_t i = 0; i < n; i++) {
		json_t *f = single ? single : json_array_get(v, i);
		if (!json_is_string(f))
			return jv_err(e, 0, "%s: hooks[%zu] must be a string", path, i);
		o->hook_files = xrealloc(o->hook_files, (o->n_hook_files + 1) * sizeof(char *));
		o->hook_files[o->n_hook_files++] = resolve(path, json_string_value(f));
	}
	return 0;
}

int config_load(const char *path, struct run_options *o, struct jv_error *e)
{
	json_error_t je;
	json_auto_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root && je.line < 1) /* not a syntax error: the file cannot be read */
		return jv_err(e, 0, "cannot read the configuration: %s", je.text);
	if (!root)
		return jv_err(e, 0, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	if (!json_is_object(root))
		return jv_err(e, 0, "%s: the configuration must be a JSON object", path);
	const char *key;
	json_t *v;
	json_object_foreach (root, key, v) {
		if (!strcmp(key, "hooks")) {
			if (add_hooks(path, v, o, e) < 0)
				return -1;
		} else if (!strcmp(key, "callbacks")) {
			if (load_callbacks(path, v, o, e) < 0)
				return -1;
		} else if (!strcmp(key, "hook-timeout")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 3600000)
				return jv_err(e, 0,
					      "%s: key 'hook-timeout' must be an integer number of "
					      "milliseconds in 1..3600000",
					      path);
			o->timeout_ms = (unsigned)json_integer_value(v);
		} else if (!strcmp(key, "hook-failure")) {
			o->fail_closed =
			    json_is_string(v) ? parse_failure_policy(json_string_value(v)) : -1;
			if (o->fail_closed < 0)
				return jv_err(
				    e, 0, "%s: key 'hook-failure' must be \"open\" or \"closed\"",
				    path);
		} else if (!strcmp(key, "command")) {
			size_t n = json_array_size(v);
			if (!json_is_array(v) || n == 0)
				return jv_err(
				    e, 0, "%s: key 'command' must be a non-empty array of strings",
				    path);
			o->command = xcalloc(n + 1, sizeof(char *));
			for (size_t i = 0; i < n; i++) {
				const char *s = json_string_value(json_array_get(v, i));
				if (!s)
					return jv_err(e, 0, "%s: command[%zu] must be a string",
						      path, i);
				o->command[i] = xstrdup(s);
			}
		} else {
			int r = log_config_key(path, key, v, &o->log, e);
			if (r == 0)
				r = control_config_key(path, key, v, &o->control, e);
			if (r == 0)
				r = sandbox_config_key(path, key, v, &o->sb, e);
			if (r == 0)
				r = web_config_key(path, key, v, &o->web, e);
			if (r < 0)
				return -1;
			if (r == 0)
				return jv_err(
				    e, 0,
				    "%s: unknown key '%s' (known: hooks, callbacks, "
				    "hook-timeout, hook-failure, command, log, trace, "
				    "trace-args, format, log-socket, log-socket-full, "
				    "log-socket-buffer, "
				    "string-limit, control, control-no-token, runtime-socket, "
				    "and the sandbox's: isolate, policy, rootfs, "
				    "bind, ro-bind, tmpfs, net, hostname, chdir, setenv, clearenv, "
				    "uid, gid, rlimit, wall-time, cpu-time, memory, pids; web, "
				    "web-keep)",
				    path, key);
		}
	}
	return 0;
}
