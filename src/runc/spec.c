/* What a wrapped container gets: the profile chosen by annotation, the
 * jvisor command line in front of its process, the read-only mounts. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "runc/runc.h"

#define ANN_PROFILE "dev.jvisor.profile"
#define ANN_PREFIX "dev.jvisor."

/* Annotations an administrator may allow, and the jvisor option each gives. */
static const struct {
	const char *key, *opt;
} ann_opts[] = {
    {"dev.jvisor.trace", "--trace"},
    {"dev.jvisor.trace-args", "--trace-args"},
    {"dev.jvisor.string-limit", "--string-limit"},
    {"dev.jvisor.hook-failure", "--hook-failure"},
    {"dev.jvisor.hook-timeout", "--hook-timeout"},
    {"dev.jvisor.exec", NULL}, /* "trace" or "deny" */
};

/* Pod metadata the engines put in annotations: CRI (containerd), CRI-O. */
static const struct {
	const char *key, *label;
} ann_labels[] = {
    {"io.kubernetes.cri.sandbox-name", "pod"},
    {"io.kubernetes.pod.name", "pod"},
    {"io.kubernetes.cri.sandbox-namespace", "namespace"},
    {"io.kubernetes.pod.namespace", "namespace"},
    {"io.kubernetes.cri.container-name", "container-name"},
    {"io.kubernetes.container.name", "container-name"},
};

void wrap_free(struct wrap *w)
{
	free(w->profile);
	free(w->profile_dir);
	json_decref(w->extra);
	json_decref(w->labels);
	memset(w, 0, sizeof(*w));
}

/* A profile is a name, never a path. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("._-", s[i]))
			return false;
	return true;
}

static bool allowed(const struct runc_settings *s, const char *key)
{
	size_t i;
	json_t *a;
	json_array_foreach (s->allowed, i, a)
		if (!strcmp(json_string_value(a), key))
			return true;
	return false;
}

static const char *ann(json_t *spec, const char *key)
{
	return json_string_value(json_object_get(json_object_get(spec, "annotations"), key));
}

int wrap_decide(const struct runc_settings *s, json_t *spec, struct wrap *w, struct jv_error *e)
{
	memset(w, 0, sizeof(*w));
	/* Kubernetes' pause containers stay plain runc (CRI: containerd; CRI-O). */
	const char *type = ann(spec, "io.kubernetes.cri.container-type");
	const char *crio = ann(spec, "io.kubernetes.cri-o.ContainerType");
	if ((type && !strcmp(type, "sandbox")) || (crio && !strcmp(crio, "sandbox")))
		return 0;
	const char *name = ann(spec, ANN_PROFILE);
	if (!name)
		name = s->default_profile;
	if (!name)
		return 0;
	if (!valid_name(name))
		return jv_err(e, 0,
			      "annotation %s=%s: a profile is a name (letters, digits, '.', '_', "
			      "'-'; at most 64), not a path",
			      ANN_PROFILE, name);
	w->profile = xstrdup(name);
	w->profile_dir = xasprintf("%s/%s", s->profiles, name);
	struct stat st;
	if (stat(w->profile_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int err = errno ? errno : ENOTDIR;
		jv_err(e, err, "profile '%s': no directory %s", name, w->profile_dir);
		wrap_free(w);
		return -1;
	}
	_cleanup_free_ char *jv = xasprintf("%s/jvisor", s->bundle);
	if (access(jv, R_OK) < 0) {
		jv_err(e, errno,
		       "no jvisor bundle at %s (make bundle BUNDLE=%s; runtime.json's "
		       "\"bundle\")",
		       s->bundle, s->bundle);
		wrap_free(w);
		return -1;
	}
	w->exec_deny = !strcmp(s->exec_policy, "deny");
	w->extra = json_array();
	w->labels = json_array();
	const char *key;
	json_t *v;
	json_object_foreach (json_object_get(spec, "annotations"), key, v) {
		for (size_t i = 0; i < JV_ARRAY_SIZE(ann_labels); i++)
			if (!strcmp(key, ann_labels[i].key) && json_is_string(v))
				json_array_append_new(w->labels,
						      json_sprintf("%s=%s", ann_labels[i].label,
								   json_string_value(v)));
		if (strncmp(key, ANN_PREFIX, strlen(ANN_PREFIX)) || !strcmp(key, ANN_PROFILE) ||
		    !strcmp(key, WRAP_MARK))
			continue;
		size_t i;
		for (i = 0; i < JV_ARRAY_SIZE(ann_opts); i++)
			if (!strcmp(key, ann_opts[i].key))
				break;
		const char *val = json_string_value(v);
		if (i == JV_ARRAY_SIZE(ann_opts) || !allowed(s, key) || !val) {
			jv_err(
			    e, EPERM, "annotation %s: %s", key,
			    i == JV_ARRAY_SIZE(ann_opts)
				? "not a jvisor annotation (docs/containers.md)"
				: "not in the administrator's allowed-annotations (runtime.json)");
			wrap_free(w);
			return -1;
		}
		if (ann_opts[i].opt) {
			json_array_append_new(w->extra, json_string(ann_opts[i].opt));
			json_array_append_new(w->extra, json_string(val));
		} else if (!strcmp(val, "trace") || !strcmp(val, "deny")) {
			w->exec_deny = !strcmp(val, "deny");
		} else {
			jv_err(e, EINVAL, "annotation %s=%s: expected trace or deny", key, val);
			wrap_free(w);
			return -1;
		}
	}
	return 1;
}

json_t *wrap_prefix(const struct runc_settings *s, const struct wrap *w, const char *id, int logfd)
{
	json_t *a = json_array();
	const char *head[] = {WRAP_BUNDLE_DST "/ld.so",
			      "--library-path",
			      WRAP_BUNDLE_DST "/lib",
			      WRAP_BUNDLE_DST "/jvisor",
			      "run",
			      "--container",
			      "--container-id",
			      id};
	for (size_t i = 0; i < JV_ARRAY_SIZE(head); i++)
		json_array_append_new(a, json_string(head[i]));
	if (logfd >= 0) {
		json_array_append_new(a, json_string("-o"));
		json_array_append_new(a, json_sprintf("fd:%d", logfd));
	}
	json_array_append_new(a, json_sprintf("--label=profile=%s", w->profile));
	size_t i;
	json_t *v;
	json_array_foreach (w->labels, i, v) {
		json_array_append_new(a, json_string("--label"));
		json_array_append(a, v);
	}
	static const char *const files[][2] = {
	    {"config.json", "-c"}, {"policy.json", "--policy"}, {"hooks.js", "-s"}};
	for (i = 0; i < JV_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *host = xasprintf("%s/%s", w->profile_dir, files[i][0]);
		if (access(host, F_OK) < 0)
			continue;
		json_array_append_new(a, json_string(files[i][1]));
		json_array_append_new(a, json_sprintf("%s/%s", WRAP_PROFILE_DST, files[i][0]));
	}
	json_array_extend(a, w->extra);
	json_array_append_new(a, json_string("--"));
	(void)s;
	return a;
}

static void add_mount(json_t *spec, const char *src, const char *dst)
{
	json_t *mounts = json_object_get(spec, "mounts");
	if (!json_is_array(mounts)) {
		mounts = json_array();
		json_object_set_new(spec, "mounts", mounts);
	}
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}", "destination", dst,
						"type", "bind", "source", src, "options", "rbind",
						"ro", "nosuid", "nodev"));
}

void wrap_mounts(const struct runc_settings *s, const struct wrap *w, json_t *spec)
{
	add_mount(spec, s->bundle, WRAP_BUNDLE_DST);
	add_mount(spec, w->profile_dir, WRAP_PROFILE_DST);
	json_t *anns = json_object_get(spec, "annotations");
	if (!json_is_object(anns)) {
		anns = json_object();
		json_object_set_new(spec, "annotations", anns);
	}
	json_object_set_new(anns, WRAP_MARK, json_string(w->profile));
}

/* `RUNTIME [--root R] state ID`: the bundle of a container. */
static char *bundle_of(const struct runc_settings *s, const struct runc_globals *g, const char *id,
		       struct jv_error *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return jv_err(e, errno, "pipe"), NULL;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return jv_err(e, errno, "fork"), NULL;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		const char *argv[6] = {s->runtime};
		int n = 1;
		if (g->root) {
			argv[n++] = "--root";
			argv[n++] = g->root;
		}
		argv[n++] = "state";
		argv[n++] = id;
		execvp(s->runtime, (char **)argv);
		_exit(127);
	}
	close(p[1]);
	_cleanup_close_ int rfd = p[0];
	struct sbuf_lite {
		char *p;
		size_t n;
	} b = {NULL, 0};
	char chunk[4096];
	ssize_t r;
	while ((r = read(rfd, chunk, sizeof(chunk))) > 0 || (r < 0 && errno == EINTR)) {
		if (r <= 0)
			continue;
		b.p = xrealloc(b.p, b.n + (size_t)r + 1);
		memcpy(b.p + b.n, chunk, (size_t)r);
		b.n += (size_t)r;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	_cleanup_free_ char *out = b.p;
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !out)
		return jv_err(e, 0, "%s state %s failed", s->runtime, id), NULL;
	json_t *st = json_loadb(out, b.n, 0, NULL);
	const char *bundle = json_string_value(json_object_get(st, "bundle"));
	char *ret = bundle ? xstrdup(bundle) : NULL;
	json_decref(st);
	if (!ret)
		jv_err(e, 0, "%s state %s: no bundle in its answer", s->runtime, id);
	return ret;
}

int wrap_of_running(const struct runc_settings *s, const struct runc_globals *g, const char *id,
		    json_t **spec, struct jv_error *e)
{
	*spec = NULL;
	_cleanup_free_ char *bundle = bundle_of(s, g, id, e);
	if (!bundle)
		return -1;
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return jv_err(e, 0, "%s:%d: %s", path, je.line, je.text);
	if (!ann(j, WRAP_MARK)) {
		json_decref(j);
		return 0;
	}
	*spec = j;
	return 1;
}

/* Container ids name files: runc's own rule ([A-Za-z0-9_+.-], not . or ..). */
static bool valid_id(const char *id)
{
	if (!*id || !strcmp(id, ".") || !strcmp(id, "..") || strlen(id) > 1024)
		return false;
	for (const char *c = id; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && !strchr("_+.-", *c))
			return false;
	return true;
}

int wrap_open_log(const struct runc_settings *s, const char *id, struct jv_error *e)
{
	if (!valid_id(id))
		return jv_err(e, EINVAL, "container id '%s' is not a valid runc id", id);
	if (s->log_socket) {
		struct sockaddr_un un = {.sun_family = AF_UNIX};
		const char *path = s->log_socket + 5;
		if (strlen(path) >= sizeof(un.sun_path))
			return jv_err(e, ENAMETOOLONG, "log-socket %s", s->log_socket);
		strcpy(un.sun_path, path);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
			int err = errno;
			if (fd >= 0)
				close(fd);
			return jv_err(e, err, "cannot connect the log socket %s", s->log_socket);
		}
		return fd;
	}
	if (mkdir(s->log_dir, 0700) < 0 && errno != EEXIST)
		return jv_err(e, errno, "cannot create the log directory %s", s->log_dir);
	_cleanup_free_ char *path = xasprintf("%s/%s.jsonl", s->log_dir, id);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return jv_err(e, errno, "cannot open the log %s", path);
	return fd;
}
