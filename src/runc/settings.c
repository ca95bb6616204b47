/* runtime.json: the administrator's settings of jvisor-runc. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <time.h>

#include "runc/runc.h"

static const char *const string_keys[] = {"runtime", "bundle",	   "profiles", "default-profile",
					  "log-dir", "log-socket", "exec"};

static char **slot(struct runc_settings *s, size_t i)
{
	char **slots[] = {&s->runtime, &s->bundle,     &s->profiles,   &s->default_profile,
			  &s->log_dir, &s->log_socket, &s->exec_policy};
	return slots[i];
}

int settings_load(const char *path, struct runc_settings *s, struct jv_error *e)
{
	memset(s, 0, sizeof(*s));
	json_error_t je;
	/* Released at return: the error messages below name its keys. */
	json_auto_t *root = NULL;
	if (access(path, F_OK) == 0 || errno != ENOENT) {
		root = json_load_file(path, 0, &je);
		if (!root)
			return jv_err(e, 0, "%s:%d: %s", path, je.line, je.text);
		if (!json_is_object(root))
			return jv_err(e, 0, "%s: not a JSON object", path);
	}
	const char *key;
	json_t *v;
	json_object_foreach (root, key, v) {
		size_t i;
		for (i = 0; i < JV_ARRAY_SIZE(string_keys); i++)
			if (!strcmp(key, string_keys[i]))
				break;
		if (i < JV_ARRAY_SIZE(string_keys)) {
			if (!json_is_string(v) && !json_is_null(v))
				return jv_err(e, 0, "%s: key '%s' must be a string", path, key);
			if (json_is_string(v))
				*slot(s, i) = xstrdup(json_string_value(v));
			continue;
		}
		if (!strcmp(key, "allowed-annotations")) {
			size_t j;
			json_t *a;
			bool ok = json_is_array(v);
			json_array_foreach (v, j, a)
				ok = ok && json_is_string(a);
			if (!ok) {
				return jv_err(e, 0,
					      "%s: key 'allowed-annotations' must be an array of "
					      "strings",
					      path);
			}
			s->allowed = json_incref(v);
			continue;
		}
		return jv_err(e, 0, "%s: unknown key '%s'", path, key);
	}
	const char *defaults[] = {"runc", "/usr/lib/jvisor", "/etc/jvisor/profiles",
				  NULL,	  "/var/log/jvisor", NULL,
				  "trace"};
	for (size_t i = 0; i < JV_ARRAY_SIZE(defaults); i++)
		if (!*slot(s, i) && defaults[i])
			*slot(s, i) = xstrdup(defaults[i]);
	if (strcmp(s->exec_policy, "trace") && strcmp(s->exec_policy, "deny"))
		return jv_err(e, 0, "%s: key 'exec' must be \"trace\" or \"deny\"", path);
	if (s->log_socket && strncmp(s->log_socket, "unix:", 5))
		return jv_err(e, 0, "%s: key 'log-socket' must be unix:PATH", path);
	if (!s->allowed)
		s->allowed = json_array();
	return 0;
}

void settings_free(struct runc_settings *s)
{
	for (size_t i = 0; i < JV_ARRAY_SIZE(string_keys); i++)
		free(*slot(s, i));
	json_decref(s->allowed);
	memset(s, 0, sizeof(*s));
}

/* runc's log line: {"level":"error","msg":...,"time":...} or logrus's text. */
void rlog_error(const struct runc_globals *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	const char *m = msg ? msg : "out of memory";
	fprintf(stderr, "%s\n", m);
	if (!g->log)
		return;
	char ts[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	_cleanup_free_ char *line = NULL;
	if (g->log_format && !strcmp(g->log_format, "json")) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "level", "error", "msg", m, "time", ts);
		char *enc = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		line = enc ? xasprintf("%s\n", enc) : NULL;
		free(enc);
	} else {
		json_t *q = json_string(m);
		_cleanup_free_ char *enc = q ? json_dumps(q, JSON_ENCODE_ANY) : NULL;
		json_decref(q);
		line = xasprintf("time=\"%s\" level=error msg=%s\n", ts, enc ? enc : "\"?\"");
	}
	_cleanup_close_ int fd = open(g->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && line)
		(void)!jv_write_all(fd, line, strlen(line));
}
