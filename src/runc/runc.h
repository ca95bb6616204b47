/* jvisor-runc: a runc-compatible wrapper that runs a container's processes
 * under jvisor (docs/containers.md). It rewrites the OCI bundle's config.json
 * on create/run/restore and the process file on exec, then execs the real
 * runtime with the same arguments. No JavaScriptCore here: a small binary. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

#define RUNC_CONFIG_DEFAULT "/etc/jvisor/runtime.json"

/* The administrator's settings (runtime.json; every key optional). */
struct runc_settings {
	char *runtime;	       /* "runtime": the real runc (default: "runc" on PATH) */
	char *bundle;	       /* "bundle": make bundle's directory (default /usr/lib/jvisor) */
	char *profiles;	       /* "profiles": default /etc/jvisor/profiles */
	char *default_profile; /* "default-profile": for containers without the annotation */
	char *log_dir;	       /* "log-dir": default /var/log/jvisor */
	char *log_socket;      /* "log-socket": unix:PATH on the host instead of a file */
	char *exec_policy;     /* "exec": "trace" (default) or "deny" */
	json_t *allowed;       /* "allowed-annotations": array of dev.jvisor.* keys */
};

/* Load path (missing file: the defaults; a bad file: -1 naming file and key). */
int settings_load(const char *path, struct runc_settings *s, struct jv_error *e);
void settings_free(struct runc_settings *s);

/* runc's global options, parsed before the subcommand. */
struct runc_globals {
	const char *root, *log, *log_format;
};

/* Errors: to --log in runc's format (json or text) and to stderr. Never stdout. */
void rlog_error(const struct runc_globals *g, const char *fmt, ...) JV_PRINTF(2, 3);

/* What a wrapped process gets: built from the settings, the profile and the
 * annotations (spec.c). */
struct wrap {
	char *profile;	   /* profile name */
	char *profile_dir; /* its directory on the host */
	json_t *extra;	   /* jvisor options from allowed annotations (array of strings) */
	json_t *labels;	   /* --label k=v (pod name and namespace...) */
	bool exec_deny;
};
void wrap_free(struct wrap *w);

/* Decide from a spec's annotations: 1 = wrap (w filled), 0 = plain runc, -1 error. */
int wrap_decide(const struct runc_settings *s, json_t *spec, struct wrap *w, struct jv_error *e);
/* The argv prefix "LOADER --library-path ... jvisor run ... --" for a process
 * of container id with the log at fd logfd (in the container). */
json_t *wrap_prefix(const struct runc_settings *s, const struct wrap *w, const char *id, int logfd);
/* Add the read-only mounts of the bundle and the profile to spec and mark it. */
void wrap_mounts(const struct runc_settings *s, const struct wrap *w, json_t *spec);
/* The profile a running container was wrapped with (from its bundle's spec),
 * NULL when it was not; -1 on error. */
int wrap_of_running(const struct runc_settings *s, const struct runc_globals *g, const char *id,
		    json_t **spec, struct jv_error *e);
/* Open the container's host log (file under log-dir, or the log socket). */
int wrap_open_log(const struct runc_settings *s, const char *id, struct jv_error *e);

/* Where the bundle and the profile appear in the container. */
#define WRAP_BUNDLE_DST "/.jvisor"
#define WRAP_PROFILE_DST "/.jvisor-profile"
#define WRAP_MARK "dev.jvisor.wrapped"
