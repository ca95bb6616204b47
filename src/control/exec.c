/* The control requests, run on the tracer's thread between two stops.
 * Seed types: change-state, hooks-info/accessors-info,
 * current-callbacks/current-hooks, unregister-callbacks/unregister-hooks.
 * Ours: ps, kill, nice, umask, stats, config. */
#include <signal.h>
#include <sys/syscall.h>

#include "accessors/ctl.h"
#include "accessors/proc.h"
#include "accessors/signals.h"
#include "common/util.h"
#include "bpf/backend.h"
#include "control/internal.h"
#include "control/proto.h"
#include "hooks/observe.h"
#include "js/js.h"
#include "log/log.h"
#include "tracer/grow.h"
#include "tracer/tracer.h"

static unsigned long n_requests, n_scripts;

/* payload of a request: an object, or absent (an empty object). */
static json_t *payload_of(json_t *req)
{
	json_t *p = json_object_get(req, "payload");
	return p;
}

static bool payload_ok(json_t *p, json_t **err)
{
	if (p && !json_is_null(p) && !json_is_object(p)) {
		*err = proto_error("field 'payload' must be an object");
		return false;
	}
	return true;
}

/* After hooks were added: make the running program stop for them. */
static void grow(json_t *payload_obj, char *msg, size_t msglen)
{
	struct jv_error e;
	int n = tracer_grow_filters(&e);
	if (n > 0)
		json_object_set_new(payload_obj, "trapped", json_integer(n));
	if (n < 0) {
		json_object_set_new(payload_obj, "warning", proto_str(e.msg));
		size_t l = strlen(msg);
		snprintf(msg + l, msglen - l, "; warning: %s", e.msg);
	}
}

static json_t *do_change_state(json_t *p)
{
	char err[256];
	const char *src = proto_get_str(p, "source", true, err, sizeof(err));
	if (!src)
		return proto_error("change-state: %s", err);
	char url[64];
	snprintf(url, sizeof(url), "control:%lu", ++n_scripts);
	unsigned before = hooks_count();
	struct jv_error e;
	_cleanup_free_ char *json = NULL;
	if (js_eval_json(src, url, &json, &e) < 0) {
		json_t *a = proto_error("change-state: %s", e.msg);
		if (hooks_count() != before) {
			/* Hooks registered before the error stay: make them work. */
			char m[256] = "";
			grow(a, m, sizeof(m));
		}
		return a;
	}
	unsigned added = hooks_count() - before;
	char msg[1024];
	snprintf(msg, sizeof(msg), "script %s ran; %u hook%s added", url, added,
		 added == 1 ? "" : "s");
	json_t *extra = json_object();
	grow(extra, msg, sizeof(msg));
	json_t *a = proto_ok(msg, json ? proto_str(json) : json_null());
	json_t *value = json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
	json_object_set_new(a, "value", value ? value : json_null());
	json_object_set_new(a, "hooks_added", json_integer(added));
	json_object_update(a, extra);
	json_decref(extra);
	return a;
}

static const char *phase_name(int ph)
{
	return ph == HOOK_BEFORE ? "before" : "after";
}

static json_t *hook_list(void)
{
	json_t *arr = json_array();
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		for (int ph = 0; ph < 2; ph++) {
			for (struct hook *h = hooks_first(nr, (enum hook_phase)ph); h;
			     h = h->next) {
				_cleanup_free_ char *fname = js_hook_name(h);
				json_t *o = json_object();
				json_object_set_new(o, "id", json_integer(h->id));
				json_object_set_new(o, "sysno", json_integer(nr));
				json_object_set_new(o, "name", proto_str(sys_name(nr)));
				json_object_set_new(o, "type", json_string(phase_name(ph)));
				json_object_set_new(o, "mode",
						    json_string(hook_mode_name(h->mode)));
				json_object_set_new(o, "source", proto_str(h->where));
				json_object_set_new(o, "entry-point", proto_str(fname));
				json_object_set_new(o, "calls", json_integer((json_int_t)h->calls));
				json_object_set_new(o, "failures",
						    json_integer((json_int_t)h->failures));
				json_array_append_new(arr, o);
			}
		}
	}
	return arr;
}

static json_t *do_current_hooks(void)
{
	json_t *l = hook_list();
	char msg[64];
	snprintf(msg, sizeof(msg), "%zu hook%s", json_array_size(l),
		 json_array_size(l) == 1 ? "" : "s");
	return proto_ok(msg, l);
}

static json_t *do_accessors_info(void)
{
	struct jv_error e;
	_cleanup_free_ char *json = NULL;
	if (js_eval_json("Object.getOwnPropertyNames(accessors).sort()", "jvisor:accessors-info",
			 &json, &e) < 0)
		return proto_error("accessors-info: %s", e.msg);
	json_t *v = json ? json_loads(json, 0, NULL) : NULL;
	return proto_ok("accessors available to scripts (globals: accessors, hooks, persistence, "
			"args)",
			v ? v : json_array());
}

/* sysno: a number or a syscall name. */
static int sysno_of(json_t *v)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		return n >= 0 && n < SYS_NR_MAX && sys_name((int)n) ? (int)n : -1;
	}
	if (json_is_string(v))
		return sys_number(json_string_value(v));
	return -1;
}

static json_t *do_unregister(json_t *p)
{
	char err[256];
	const char *opt = proto_get_str(p, "options", false, err, sizeof(err));
	if (err[0])
		return proto_error("unregister: %s", err);
	if (!opt)
		opt = json_object_get(p, "list") ? "list" : "all";
	if (!strcmp(opt, "all")) {
		int n = hooks_remove(-1, -1);
		char msg[64];
		snprintf(msg, sizeof(msg), "%d hook%s removed", n, n == 1 ? "" : "s");
		json_t *a = proto_ok(msg, json_object());
		json_object_set_new(json_object_get(a, "payload"), "removed", json_integer(n));
		return a;
	}
	if (strcmp(opt, "list"))
		return proto_error("unregister: field 'options' must be \"all\" or \"list\"");
	json_t *list = json_object_get(p, "list");
	if (!json_is_array(list))
		return proto_error("unregister: field 'list' must be an array of {sysno, type}");
	/* Check every entry first: a malformed request changes nothing. */
	size_t i;
	json_t *it;
	json_array_foreach (list, i, it) {
		json_t *t = json_object_get(it, "type");
		if (!json_is_object(it) || sysno_of(json_object_get(it, "sysno")) < 0 ||
		    (t && !json_is_null(t) &&
		     (!json_is_string(t) || (strcmp(json_string_value(t), "before") &&
					     strcmp(json_string_value(t), "after")))))
			return proto_error(
			    "unregister: list[%zu] must be {\"sysno\": number or name, "
			    "\"type\": \"before\"|\"after\"}",
			    i);
	}
	int removed = 0;
	json_t *missing = json_array();
	json_array_foreach (list, i, it) {
		int nr = sysno_of(json_object_get(it, "sysno"));
		const char *t = json_string_value(json_object_get(it, "type"));
		int ph = !t ? -1 : !strcmp(t, "before") ? HOOK_BEFORE : HOOK_AFTER;
		int n = hooks_remove(nr, ph);
		removed += n;
		if (!n) {
			json_t *m = json_object();
			json_object_set_new(m, "sysno", json_integer(nr));
			json_object_set_new(m, "name", proto_str(sys_name(nr)));
			json_object_set_new(m, "type", json_string(t ? t : "any"));
			json_array_append_new(missing, m);
		}
	}
	json_t *pl = json_object();
	json_object_set_new(pl, "removed", json_integer(removed));
	json_object_set_new(pl, "missing", missing);
	char msg[512];
	snprintf(msg, sizeof(msg), "%d hook%s removed", removed, removed == 1 ? "" : "s");
	if (json_array_size(missing)) {
		size_t l = strlen(msg);
		snprintf(msg + l, sizeof(msg) - l, "; no hook for:");
		json_t *m;
		json_array_foreach (missing, i, m) {
			l = strlen(msg);
			snprintf(msg + l, sizeof(msg) - l, " %s:%s",
				 json_string_value(json_object_get(m, "name")),
				 json_string_value(json_object_get(m, "type")));
		}
		json_t *a = proto_error("%s", msg);
		json_object_set_new(a, "payload", pl);
		return a;
	}
	return proto_ok(msg, pl);
}

static const char *proc_state(pid_t tid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	_cleanup_free_ char *st = NULL;
	const char *p;
	if (jv_read_file(path, &st) < 0 || !(p = strrchr(st, ')')) || !p[1] || !p[2])
		return "?";
	snprintf(buf, len, "%c", p[2]);
	return buf;
}

static json_t *do_ps(void)
{
	_cleanup_free_ pid_t *procs = NULL;
	size_t n = tracer_processes(&procs);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		struct jv_error e;
		json_t *o = json_object();
		pid_t pid = procs[i];
		json_object_set_new(o, "pid", json_integer(pid));
		struct proc_ids ids;
		if (proc_ids(pid, &ids, &e) == 0) {
			json_object_set_new(o, "ppid", json_integer(ids.ppid));
			json_object_set_new(o, "pgid", json_integer(ids.pgid));
			json_object_set_new(o, "sid", json_integer(ids.sid));
			json_object_set_new(o, "uid", json_integer(ids.uid));
			proc_ids_free(&ids);
		}
		char **argv = NULL;
		json_t *a = json_array();
		if (proc_argv(pid, &argv, &e) == 0) {
			for (char **p = argv; *p; p++)
				json_array_append_new(a, proto_str(*p));
			strv_free(argv);
		}
		json_object_set_new(o, "argv", a);
		char *exe = NULL;
		if (proc_link(pid, "exe", &exe, &e) == 0) {
			json_object_set_new(o, "exe", proto_str(exe));
			free(exe);
		}
		char sb[4];
		json_object_set_new(o, "state", json_string(proc_state(pid, sb, sizeof(sb))));
		pid_t tgid;
		pid_t *tids = NULL;
		size_t nt = 0;
		json_t *th = json_array();
		if (proc_threads(pid, &tgid, &tids, &nt, &e) == 0) {
			for (size_t k = 0; k < nt; k++) {
				json_t *t = json_object();
				json_object_set_new(t, "tid", json_integer(tids[k]));
				json_object_set_new(
				    t, "state", json_string(proc_state(tids[k], sb, sizeof(sb))));
				json_array_append_new(th, t);
			}
			free(tids);
		}
		json_object_set_new(o, "threads", th);
		json_array_append_new(arr, o);
	}
	char msg[64];
	snprintf(msg, sizeof(msg), "%zu process%s", n, n == 1 ? "" : "es");
	return proto_ok(msg, arr);
}

static int signal_of(json_t *v, char *err, size_t len)
{
	if (!v || json_is_null(v))
		return SIGTERM;
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 64)
		return (int)json_integer_value(v);
	if (json_is_string(v)) {
		int s = sig_number(json_string_value(v));
		if (s > 0)
			return s;
	}
	snprintf(err, len, "field 'signal' must be a signal number (0..64) or name");
	return -1;
}

static json_t *do_kill(json_t *p)
{
	char err[256];
	long long pid;
	if (proto_get_int(p, "pid", true, -(1LL << 31), (1LL << 31) - 1, &pid, err, sizeof(err)) <
	    0)
		return proto_error("kill: %s", err);
	int sig = signal_of(json_object_get(p, "signal"), err, sizeof(err));
	if (sig < 0)
		return proto_error("kill: %s", err);
	struct jv_error e;
	int r = pid < 0 ? ctl_kill_group((pid_t)-pid, sig, &e) : ctl_kill((pid_t)pid, sig, &e);
	if (r < 0)
		return proto_error("kill: %s", e.msg);
	char name[16], msg[128];
	const char *sn = sig_name(sig, name);
	snprintf(msg, sizeof(msg), "signal %s sent to %s %lld", sn ? sn : "0",
		 pid < 0 ? "group" : "pid", pid < 0 ? -pid : pid);
	return proto_ok(msg, NULL);
}

static json_t *do_nice(json_t *p)
{
	char err[256];
	long long pid, val;
	if (proto_get_int(p, "pid", true, 1, (1LL << 31) - 1, &pid, err, sizeof(err)) < 0)
		return proto_error("nice: %s", err);
	int has = proto_get_int(p, "value", false, -20, 19, &val, err, sizeof(err));
	if (has < 0)
		return proto_error("nice: %s", err);
	struct jv_error e;
	if (has && ctl_set_nice((pid_t)pid, (int)val, &e) < 0)
		return proto_error("nice: %s", e.msg);
	int now;
	if (ctl_get_nice((pid_t)pid, &now, &e) < 0)
		return proto_error("nice: %s", e.msg);
	json_t *pl = json_object();
	json_object_set_new(pl, "pid", json_integer(pid));
	json_object_set_new(pl, "nice", json_integer(now));
	char msg[64];
	snprintf(msg, sizeof(msg), "pid %lld: nice %d", pid, now);
	return proto_ok(msg, pl);
}

static json_t *do_umask(json_t *p)
{
	char err[256];
	long long pid, mask = -1;
	if (proto_get_int(p, "pid", true, 1, (1LL << 31) - 1, &pid, err, sizeof(err)) < 0)
		return proto_error("umask: %s", err);
	json_t *m = json_object_get(p, "mask");
	if (json_is_string(m)) {
		char *end;
		mask = strtoll(json_string_value(m), &end, 8);
		if (*end || end == json_string_value(m) || mask < 0 || mask > 0777)
			return proto_error("umask: field 'mask' must be an octal string (\"022\") "
					   "or a number in 0..0777");
	} else if (proto_get_int(p, "mask", false, 0, 0777, &mask, err, sizeof(err)) < 0) {
		return proto_error("umask: %s", err);
	}
	struct jv_error e;
	unsigned cur;
	if (ctl_get_umask((pid_t)pid, &cur, &e) < 0)
		return proto_error("umask: %s", e.msg);
	json_t *pl = json_object();
	json_object_set_new(pl, "pid", json_integer(pid));
	char msg[96];
	if (mask >= 0) {
		if (tracer_traced_tgid((pid_t)pid) != pid)
			return proto_error("umask: pid %lld is not a process of this sandbox", pid);
		uint64_t args[6] = {(uint64_t)mask, 0, 0, 0, 0, 0};
		int64_t rv;
		if (tracer_inject_process((pid_t)pid, SYS_umask, args, &rv, &e) < 0) {
			json_decref(pl);
			return proto_error("umask: %s", e.msg);
		}
		json_object_set_new(pl, "old", json_integer(rv));
		json_object_set_new(pl, "umask", json_integer(mask));
		snprintf(msg, sizeof(msg), "pid %lld: umask %04llo (was %04llo)", pid, mask,
			 (long long)rv);
	} else {
		json_object_set_new(pl, "umask", json_integer(cur));
		snprintf(msg, sizeof(msg), "pid %lld: umask %04o", pid, cur);
	}
	return proto_ok(msg, pl);
}

static json_t *do_stats(void)
{
	json_t *pl = json_object();
	_cleanup_free_ pid_t *procs = NULL;
	size_t n = tracer_processes(&procs);
	unsigned long calls = 0;
	for (int nr = 0; nr < SYS_NR_MAX; nr++)
		for (int ph = 0; ph < 2; ph++)
			for (struct hook *h = hooks_first(nr, (enum hook_phase)ph); h; h = h->next)
				calls += h->calls;
	json_t *seen = json_object();
	unsigned long total = 0;
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		unsigned long k = tracer_seen(nr);
		if (k && sys_name(nr)) {
			json_object_set_new(seen, sys_name(nr), json_integer((json_int_t)k));
			total += k;
		}
	}
	json_object_set_new(pl, "syscalls_stopped", json_integer((json_int_t)total));
	json_object_set_new(pl, "syscalls", seen);
	json_object_set_new(pl, "processes", json_integer((json_int_t)n));
	unsigned long rec, lost, dropped;
	log_counts(&rec, &lost, &dropped);
	json_object_set_new(pl, "events_written", json_integer((json_int_t)rec));
	json_object_set_new(pl, "events_lost", json_integer((json_int_t)lost));
	json_object_set_new(pl, "events_dropped", json_integer((json_int_t)dropped));
	json_object_set_new(pl, "log_backend", json_string(bpfl_backend_name()));
	unsigned long held = 0;
	json_object_set_new(pl, "bpf_events_lost", json_integer((json_int_t)bpfl_lost(&held)));
	json_object_set_new(pl, "bpf_holds", json_integer((json_int_t)held));
	json_t *brec = json_object();
	for (int nr = 0; nr < SYS_NR_MAX; nr++)
		if (bpfl_records(nr) && sys_name(nr))
			json_object_set_new(brec, sys_name(nr),
					    json_integer((json_int_t)bpfl_records(nr)));
	json_object_set_new(pl, "bpf_records", brec);
	struct observe_stats os;
	observe_stats(&os);
	json_t *ob = json_object();
	json_object_set_new(ob, "delivered", json_integer((json_int_t)os.delivered));
	json_object_set_new(ob, "dropped", json_integer((json_int_t)os.dropped));
	json_object_set_new(ob, "held", json_integer((json_int_t)os.held));
	json_object_set_new(ob, "max_queued", json_integer((json_int_t)os.max_queued));
	json_object_set_new(pl, "observed", ob);
	json_object_set_new(pl, "hooks", json_integer(hooks_count()));
	json_object_set_new(pl, "hook_calls", json_integer((json_int_t)calls));
	json_object_set_new(pl, "hook_errors", json_integer((json_int_t)hooks_failures()));
	json_object_set_new(pl, "control_requests", json_integer((json_int_t)n_requests));
	json_object_set_new(pl, "hooks_detail", hook_list());
	return proto_ok("statistics", pl);
}

static json_t *do_config(json_t *p)
{
	char err[256];
	const char *key = proto_get_str(p, "key", false, err, sizeof(err));
	if (err[0])
		return proto_error("config: %s", err);
	json_t *v = json_object_get(p, "value");
	if (key && v && !json_is_null(v) && !strcmp(key, "hook-timeout")) {
		long long ms = -1;
		if (json_is_integer(v))
			ms = json_integer_value(v);
		else if (json_is_string(v) && *json_string_value(v)) {
			char *end;
			ms = strtoll(json_string_value(v), &end, 10);
			if (*end)
				ms = -1;
		}
		if (ms < 1 || ms > 3600000)
			return proto_error(
			    "config: hook-timeout must be a number of milliseconds in "
			    "1..3600000");
		control_opts.timeout_ms = (unsigned)ms;
		js_set_timeout((unsigned)ms);
	} else if (key && v && !json_is_null(v)) {
		if (strcmp(key, "hook-failure"))
			return proto_error("config: '%s' cannot be changed at run time (settable: "
					   "hook-failure, hook-timeout)",
					   key);
		const char *s = json_string_value(v);
		if (!s || (strcmp(s, "open") && strcmp(s, "closed")))
			return proto_error("config: hook-failure must be \"open\" or \"closed\"");
		control_opts.fail_closed = !strcmp(s, "closed");
		hooks_set_fail_closed(control_opts.fail_closed == 1);
	}
	json_t *all = json_object();
	json_object_set_new(all, "hook-failure",
			    json_string(control_opts.fail_closed == 1 ? "closed" : "open"));
	json_object_set_new(all, "hook-timeout",
			    json_integer(control_opts.timeout_ms ? control_opts.timeout_ms : 1000));
	json_object_set_new(all, "control", proto_str(control_addr_shown));
	if (!key)
		return proto_ok("settings", all);
	json_t *one = json_object_get(all, key);
	if (!one) {
		json_decref(all);
		return proto_error("config: unknown key '%s' (known: hook-failure, hook-timeout, "
				   "control)",
				   key);
	}
	json_t *pl = json_object();
	json_object_set(pl, key, one);
	json_decref(all);
	return proto_ok(key, pl);
}

static json_t *do_trace(json_t *p)
{
	char err[256];
	const char *set = proto_get_str(p, "set", true, err, sizeof(err));
	if (!set)
		return proto_error("trace: %s", err);
	struct sys_set s;
	memset(&s, 0, sizeof(s));
	struct jv_error e;
	if (sys_set_parse(set, &s, &e) < 0)
		return proto_error("trace: %s", e.msg);
	if (log_set_trace(&s) < 0)
		return proto_error("trace: no event log is open (start jvisor run with -o FILE, -e "
				   "SET or --log-socket)");
	char msg[1024];
	snprintf(msg, sizeof(msg), "logging %s", set);
	json_t *pl = json_object();
	grow(pl, msg, sizeof(msg));
	return proto_ok(msg, pl);
}

struct cmd {
	const char *type;
	json_t *(*fn)(json_t *payload);
	json_t *(*fn0)(void);
};

static const struct cmd cmds[] = {
    {"change-state", do_change_state, NULL},
    {"hooks-info", NULL, do_accessors_info},
    {"accessors-info", NULL, do_accessors_info},
    {"current-callbacks", NULL, do_current_hooks},
    {"current-hooks", NULL, do_current_hooks},
    {"unregister-callbacks", do_unregister, NULL},
    {"unregister-hooks", do_unregister, NULL},
    {"ps", NULL, do_ps},
    {"kill", do_kill, NULL},
    {"nice", do_nice, NULL},
    {"umask", do_umask, NULL},
    {"stats", NULL, do_stats},
    {"config", do_config, NULL},
    {"trace", do_trace, NULL},
};

bool control_known_type(const char *type)
{
	for (size_t i = 0; i < JV_ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].type, type))
			return true;
	return false;
}

json_t *control_exec(json_t *req)
{
	n_requests++;
	const char *type = json_string_value(json_object_get(req, "type"));
	json_t *p = payload_of(req);
	json_t *err = NULL;
	if (!type)
		return proto_error("missing field 'type' (a string)");
	if (!payload_ok(p, &err))
		return err;
	for (size_t i = 0; i < JV_ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].type, type))
			return cmds[i].fn ? cmds[i].fn(p) : cmds[i].fn0();
	return proto_error("unknown request type '%s'", type);
}
