/* jvisor-runc [--jvisor-config FILE] [runc's global options] COMMAND [ARGS...]
 *
 * runc's command line: create, run and restore rewrite the bundle's
 * config.json, exec rewrites its --process file (or its command line), then
 * the real runtime is executed with the same arguments. Everything else passes
 * through untouched. Nothing is ever written to stdout (engines parse it). */
#include <errno.h>
#include <fcntl.h>

#include "runc/runc.h"

/* runc's global options that take a value. */
static const char *const global_vals[] = {"--log", "--log-format", "--root", "--criu",
					  "--rootless"};
/* Subcommand options that take a value (create, run, exec, restore, checkpoint). */
static const char *const cmd_vals[] = {"--bundle",
				       "-b",
				       "--console-socket",
				       "--pid-file",
				       "--preserve-fds",
				       "--process",
				       "-p",
				       "--cwd",
				       "--env",
				       "-e",
				       "--user",
				       "-u",
				       "--additional-gids",
				       "-g",
				       "--process-label",
				       "--apparmor",
				       "--cap",
				       "-c",
				       "--cgroup",
				       "--image-path",
				       "--work-path",
				       "--parent-path",
				       "--manage-cgroups-mode",
				       "--empty-ns",
				       "--status-fd",
				       "--page-server",
				       "--lsm-profile",
				       "--lsm-mount-context"};

static bool in(const char *const *list, size_t n, const char *a, const char **val)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(list[i]);
		if (!strncmp(a, list[i], l) && a[l] == '=') {
			*val = a + l + 1;
			return true;
		}
		if (!strcmp(a, list[i])) {
			*val = NULL;
			return true;
		}
	}
	return false;
}

/* The parsed subcommand. */
struct cmd {
	int at;	   /* argv index of the subcommand */
	int id_at; /* argv index of the container id, or -1 */
	const char *bundle, *process, *preserve;
	int preserve_at;  /* argv index of --preserve-fds's value (or of "--preserve-fds=N") */
	bool preserve_eq; /* the "--preserve-fds=N" form */
};

static void parse_cmd(int argc, char **argv, struct cmd *c)
{
	c->id_at = c->preserve_at = -1;
	for (int i = c->at + 1; i < argc; i++) {
		const char *a = argv[i], *val;
		if (!strcmp(a, "--")) {
			if (i + 1 < argc)
				c->id_at = i + 1;
			return;
		}
		if (a[0] != '-' || !a[1]) {
			c->id_at = i;
			return; /* the rest (exec's command) is not ours */
		}
		if (!in(cmd_vals, JV_ARRAY_SIZE(cmd_vals), a, &val))
			continue; /* a flag without a value */
		bool eq = val != NULL;
		int vi = i;
		if (!val && i + 1 < argc)
			val = argv[vi = ++i];
		if (!val)
			return;
		if (!strcmp(a, "--bundle") || !strcmp(a, "-b") || !strncmp(a, "--bundle=", 9))
			c->bundle = val;
		else if (!strcmp(a, "--process") || !strcmp(a, "-p") ||
			 !strncmp(a, "--process=", 10))
			c->process = val;
		else if (!strncmp(a, "--preserve-fds", 14)) {
			c->preserve = val;
			c->preserve_at = vi;
			c->preserve_eq = eq;
		}
	}
}

static int write_json(const char *path, json_t *j, struct jv_error *e)
{
	_cleanup_free_ char *tmp = xasprintf("%s.jvisor-tmp", path);
	if (json_dump_file(j, tmp, JSON_COMPACT) < 0) {
		unlink(tmp);
		return jv_err(e, errno, "cannot write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int err = errno;
		unlink(tmp);
		return jv_err(e, err, "cannot replace %s", path);
	}
	return 0;
}

static json_t *load_json(const char *path, struct jv_error *e)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		jv_err(e, 0, "%s:%d: %s", path, je.line, je.text);
	else if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
		jv_err(e, 0, "%s: not a JSON object", path);
	}
	return j;
}

/* The log goes to fd 3 + the engine's --preserve-fds count in the container.
 * Whatever the engine left open at that number is beyond what it asked runc to
 * pass, so runc would not have used it (containerd's shim leaks its socket as
 * fd 3 into every runc): replaced. */
static int place_log(int fd, int target, struct jv_error *e)
{
	if (fd != target) {
		if (dup2(fd, target) < 0)
			return jv_err(e, errno, "dup2 of the log");
		close(fd);
	} else if (fcntl(fd, F_SETFD, 0) < 0) {
		return jv_err(e, errno, "fcntl on the log");
	}
	return 0;
}

/* Prepend prefix to the args array of a process object. */
static int wrap_process(json_t *process, json_t *prefix, const char *where, struct jv_error *e)
{
	json_t *args = json_object_get(process, "args");
	if (!json_is_array(args) || !json_array_size(args))
		return jv_err(e, 0, "%s: process.args is missing or empty", where);
	json_t *all = json_copy(prefix);
	json_array_extend(all, args);
	json_object_set_new(process, "args", all);
	return 0;
}

/* The new argv: argv with --preserve-fds N+1 (inserted after the subcommand
 * when absent) and, for exec without --process, the prefix before the command. */
static char **new_argv(int argc, char **argv, const struct cmd *c, int preserve, json_t *prefix,
		       const char *runtime)
{
	size_t n = (size_t)argc + 3 + (prefix ? json_array_size(prefix) : 0);
	char **out = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	out[k++] = (char *)runtime;
	for (int i = 1; i < argc; i++) {
		if (i == c->preserve_at) {
			out[k++] = c->preserve_eq ? xasprintf("--preserve-fds=%d", preserve + 1)
						  : xasprintf("%d", preserve + 1);
			continue;
		}
		out[k++] = argv[i];
		if (i == c->at && c->preserve_at < 0) {
			out[k++] = (char *)"--preserve-fds";
			out[k++] = xasprintf("%d", preserve + 1);
		}
		if (prefix && i == c->id_at) {
			size_t j;
			json_t *v;
			json_array_foreach (prefix, j, v)
				out[k++] = xstrdup(json_string_value(v));
		}
	}
	out[k] = NULL;
	return out;
}

static int run(int argc, char **argv, const struct runc_globals *g, const char *config)
{
	struct jv_error e = {0};
	__attribute__((cleanup(settings_free))) struct runc_settings s = {0};
	if (settings_load(config, &s, &e) < 0) {
		rlog_error(g, "jvisor-runc: %s", e.msg);
		return 1;
	}
	struct cmd c = {.at = -1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val;
		if (a[0] != '-') {
			c.at = i;
			break;
		}
		if (in(global_vals, JV_ARRAY_SIZE(global_vals), a, &val) && !val)
			i++;
	}
	const char *sub = c.at > 0 ? argv[c.at] : "";
	bool create = !strcmp(sub, "create") || !strcmp(sub, "run") || !strcmp(sub, "restore");
	bool exec = !strcmp(sub, "exec"), checkpoint = !strcmp(sub, "checkpoint");
	char **out = NULL;
	if (create || exec || checkpoint) {
		parse_cmd(argc, argv, &c);
		const char *id = c.id_at > 0 ? argv[c.id_at] : NULL;
		if (!id) {
			rlog_error(g, "jvisor-runc %s: no container id", sub);
			return 1;
		}
		json_t *spec = NULL;
		_cleanup_free_ char *path = NULL;
		int r;
		if (create) {
			path = xasprintf("%s/config.json", c.bundle ? c.bundle : ".");
			spec = load_json(path, &e);
			r = spec ? 0 : -1;
			/* Set by the rewrite only: never twice, never by the container's owner. */
			if (spec &&
			    json_object_get(json_object_get(spec, "annotations"), WRAP_MARK))
				r = jv_err(&e, EINVAL,
					   "%s: annotation %s is set (the bundle was rewritten "
					   "already, or the annotation is forged)",
					   path, WRAP_MARK);
		} else {
			r = wrap_of_running(&s, g, id, &spec, &e);
		}
		__attribute__((cleanup(wrap_free))) struct wrap w = {0};
		if (r >= 0 && spec)
			r = wrap_decide(&s, spec, &w, &e);
		if (r < 0) {
			json_decref(spec);
			rlog_error(g, "jvisor-runc %s %s: %s", sub, id, e.msg);
			return 1;
		}
		if (r == 0) {
			json_decref(spec);
			goto pass;
		}
		if (checkpoint || !strcmp(sub, "restore")) {
			json_decref(spec);
			rlog_error(g,
				   "jvisor-runc %s %s: checkpoint and restore are not supported "
				   "for containers under jvisor (profile %s)",
				   sub, id, w.profile);
			return 1;
		}
		if (exec && w.exec_deny) {
			json_decref(spec);
			rlog_error(g,
				   "jvisor-runc exec %s: exec into this container is denied "
				   "(exec policy of profile %s)",
				   id, w.profile);
			return 1;
		}
		long preserve = c.preserve ? jv_parse_long(c.preserve, 0, 1 << 20) : 0;
		if (preserve < 0) {
			json_decref(spec);
			rlog_error(g, "jvisor-runc %s: bad --preserve-fds %s", sub, c.preserve);
			return 1;
		}
		int logfd = wrap_open_log(&s, id, &e);
		json_t *prefix = logfd >= 0 ? wrap_prefix(&s, &w, id, 3 + (int)preserve) : NULL;
		if (logfd < 0 || place_log(logfd, 3 + (int)preserve, &e) < 0) {
			json_decref(prefix);
			json_decref(spec);
			rlog_error(g, "jvisor-runc %s %s: %s", sub, id, e.msg);
			return 1;
		}
		if (create) {
			wrap_mounts(&s, &w, spec);
			r = wrap_process(json_object_get(spec, "process"), prefix, path, &e);
			if (r == 0)
				r = write_json(path, spec, &e);
		} else if (c.process) {
			json_t *proc = load_json(c.process, &e);
			r = proc ? wrap_process(proc, prefix, c.process, &e) : -1;
			if (r == 0)
				r = write_json(c.process, proc, &e);
			json_decref(proc);
		}
		json_decref(spec);
		if (r < 0) {
			json_decref(prefix);
			rlog_error(g, "jvisor-runc %s %s: %s", sub, id, e.msg);
			return 1;
		}
		out = new_argv(argc, argv, &c, (int)preserve, exec && !c.process ? prefix : NULL,
			       s.runtime);
		json_decref(prefix);
	}
pass:
	if (!out) {
		out = xcalloc((size_t)argc + 1, sizeof(char *));
		out[0] = s.runtime;
		for (int i = 1; i < argc; i++)
			out[i] = argv[i];
	}
	execvp(s.runtime, out);
	rlog_error(g, "jvisor-runc: cannot execute the runtime %s: %s", s.runtime, strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	struct runc_globals g = {0};
	const char *config = getenv("JVISOR_RUNC_CONFIG");
	/* Our own global option (podman: --runtime-flag jvisor-config=FILE) is not
	 * passed on. */
	for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *name = argv[i], *val;
		int drop = 0;
		if (!strncmp(name, "--jvisor-config=", 16)) {
			config = name + 16;
			drop = 1;
		} else if (!strcmp(name, "--jvisor-config") && i + 1 < argc) {
			config = argv[i + 1];
			drop = 2;
		}
		if (drop) {
			memmove(argv + i, argv + i + drop,
				(size_t)(argc - i - drop + 1) * sizeof(char *));
			argc -= drop;
			i--;
			continue;
		}
		if (!in(global_vals, JV_ARRAY_SIZE(global_vals), name, &val))
			continue;
		if (!val && i + 1 < argc)
			val = argv[++i];
		if (!strncmp(name, "--log-format", 12))
			g.log_format = val;
		else if (!strncmp(name, "--log", 5))
			g.log = val;
		else if (!strncmp(name, "--root", 6))
			g.root = val;
	}
	return run(argc, argv, &g, config && *config ? config : RUNC_CONFIG_DEFAULT);
}
