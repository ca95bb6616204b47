/* Process accessors: a declarative table of bindings over src/accessors/
 * (argv, environment, fds, maps, ids, threads, signals, niceness, umask,
 * executable) and the tracer (stopThreads). Objects use the lowerCamel names
 * of seed 000; the PascalCase names of seed 001 are non-enumerable aliases.
 * Failures throw an Error with .errno and .code. */
#include <errno.h>

#include "accessors/ctl.h"
#include "accessors/exe.h"
#include "accessors/fds.h"
#include "accessors/maps.h"
#include "accessors/proc.h"
#include "accessors/signals.h"
#include "common/util.h"
#include "js/internal.h"
#include "tracer/tracer.h"

#define BINDING(fname)                                                                             \
	static JSValueRef fname(JSContextRef ctx, JSObjectRef fn_, JSObjectRef self_, size_t argc, \
				const JSValueRef argv[], JSValueRef *exc)

#define TWO53 9007199254740992ull

/* ---- values ---- */

static JSValueRef num(JSContextRef ctx, double v)
{
	return JSValueMakeNumber(ctx, v);
}

/* An unsigned 64-bit value: a Number up to 2^53, a BigInt above. */
static JSValueRef u64(JSContextRef ctx, uint64_t v)
{
	if (v <= TWO53)
		return JSValueMakeNumber(ctx, (double)v);
	return JSBigIntCreateWithUInt64(ctx, v, NULL);
}

static JSValueRef str_or_null(JSContextRef ctx, const char *s)
{
	return s ? js_str(ctx, s) : JSValueMakeNull(ctx);
}

static JSObjectRef array(JSContextRef ctx, size_t n, const JSValueRef *v)
{
	return JSObjectMakeArray(ctx, n, v, NULL);
}

static JSObjectRef strv_array(JSContextRef ctx, char *const *v)
{
	size_t n = strv_len(v);
	_cleanup_free_ JSValueRef *vals = xmalloc((n ? n : 1) * sizeof(*vals));
	for (size_t i = 0; i < n; i++)
		vals[i] = js_str(ctx, v[i]);
	return array(ctx, n, vals);
}

static JSObjectRef pid_array(JSContextRef ctx, const pid_t *v, size_t n)
{
	_cleanup_free_ JSValueRef *vals = xmalloc((n ? n : 1) * sizeof(*vals));
	for (size_t i = 0; i < n; i++)
		vals[i] = num(ctx, v[i]);
	return array(ctx, n, vals);
}

static void put(JSContextRef ctx, JSObjectRef o, const char *name, JSPropertyAttributes attr,
		JSValueRef v)
{
	JSStringRef n = JSStringCreateWithUTF8CString(name);
	JSObjectSetProperty(ctx, o, n, v, attr, NULL);
	JSStringRelease(n);
}

/* field(o, "fd", "Fd", v): the enumerable name and its hidden alias (NULL: none). */
static void field(JSContextRef ctx, JSObjectRef o, const char *name, const char *alias,
		  JSValueRef v)
{
	put(ctx, o, name, kJSPropertyAttributeNone, v);
	if (alias)
		put(ctx, o, alias, kJSPropertyAttributeDontEnum, v);
}

static JSValueRef signal_names(JSContextRef ctx, uint64_t mask)
{
	char **v = sig_mask_names(mask);
	JSObjectRef a = strv_array(ctx, v);
	strv_free(v);
	return a;
}

/* ---- arguments ---- */

static JSValueRef fail(JSContextRef ctx, const char *api, const struct jv_error *e, JSValueRef *exc)
{
	*exc = js_make_error(ctx, e->errnum, "accessors.%s: %s", api, e->msg);
	return NULL;
}

static bool absent(JSContextRef ctx, size_t argc, const JSValueRef argv[], size_t i)
{
	return i >= argc || JSValueIsUndefined(ctx, argv[i]) || JSValueIsNull(ctx, argv[i]);
}

static bool arg_int(JSContextRef ctx, size_t argc, const JSValueRef argv[], size_t i,
		    const char *api, const char *what, long long lo, long long hi, long long *out,
		    JSValueRef *exc)
{
	uint64_t v;
	char why[128];
	if (absent(ctx, argc, argv, i)) {
		*exc = js_make_error(ctx, EINVAL, "accessors.%s: missing argument '%s'", api, what);
		return false;
	}
	if (js_to_u64(ctx, argv[i], &v, why, sizeof(why)) < 0) {
		*exc = js_make_error(ctx, EINVAL, "accessors.%s: '%s' %s", api, what, why);
		return false;
	}
	if ((long long)v < lo || (long long)v > hi) {
		*exc = js_make_error(ctx, EINVAL, "accessors.%s: '%s' %lld is outside %lld..%lld",
				     api, what, (long long)v, lo, hi);
		return false;
	}
	*out = (long long)v;
	return true;
}

/* A traced thread or process id; absent (or 0) = the thread of the hook call. */
static bool arg_task(JSContextRef ctx, size_t argc, const JSValueRef argv[], size_t i,
		     const char *api, pid_t *out, JSValueRef *exc)
{
	long long v = 0;
	if (!absent(ctx, argc, argv, i) &&
	    !arg_int(ctx, argc, argv, i, api, "pid", 0, INT32_MAX, &v, exc))
		return false;
	if (v == 0) {
		if (!js_current) {
			*exc = js_make_error(
			    ctx, EINVAL, "accessors.%s: outside a hook call a pid is needed", api);
			return false;
		}
		*out = js_current->tid;
		return true;
	}
	if (tracer_traced_tgid((pid_t)v) < 0) {
		*exc = js_make_error(ctx, ESRCH,
				     "accessors.%s: %lld is not a thread or process of "
				     "this sandbox",
				     api, v);
		return false;
	}
	*out = (pid_t)v;
	return true;
}

/* A signal: a number 0..64 or a name ("SIGUSR1", "USR1"). */
static bool arg_signal(JSContextRef ctx, size_t argc, const JSValueRef argv[], size_t i,
		       const char *api, int *out, JSValueRef *exc)
{
	if (i < argc && JSValueIsString(ctx, argv[i])) {
		_cleanup_free_ char *name = js_cstr(ctx, argv[i]);
		*out = sig_number(name);
		if (*out < 0) {
			*exc = js_make_error(ctx, EINVAL, "accessors.%s: unknown signal '%s'", api,
					     name);
			return false;
		}
		return true;
	}
	long long v;
	if (!arg_int(ctx, argc, argv, i, api, "signal", 0, SIG_MAXNUM, &v, exc))
		return false;
	*out = (int)v;
	return true;
}

/* ---- bindings ---- */

BINDING(acc_get_argv)
{
	(void)fn_, (void)self_;
	pid_t pid;
	char **v;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getArgv", &pid, exc))
		return NULL;
	if (proc_argv(pid, &v, &e) < 0)
		return fail(ctx, "getArgv", &e, exc);
	JSObjectRef a = strv_array(ctx, v);
	strv_free(v);
	return a;
}

BINDING(acc_get_envs)
{
	(void)fn_, (void)self_;
	pid_t pid;
	char **v;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getEnvs", &pid, exc))
		return NULL;
	if (proc_environ(pid, &v, &e) < 0)
		return fail(ctx, "getEnvs", &e, exc);
	JSObjectRef a = strv_array(ctx, v);
	strv_free(v);
	return a;
}

BINDING(acc_get_cwd)
{
	(void)fn_, (void)self_;
	pid_t pid;
	struct jv_error e;
	_cleanup_free_ char *s = NULL;
	if (!arg_task(ctx, argc, argv, 0, "getCwd", &pid, exc))
		return NULL;
	if (proc_link(pid, "cwd", &s, &e) < 0)
		return fail(ctx, "getCwd", &e, exc);
	return js_str(ctx, s);
}

static JSObjectRef fd_object(JSContextRef ctx, const struct fd_info *f)
{
	JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
	field(ctx, o, "fd", "Fd", num(ctx, f->fd));
	field(ctx, o, "name", "Name", js_str(ctx, f->name));
	field(ctx, o, "mode", "Mode", js_str(ctx, f->mode));
	field(ctx, o, "flags", "Flags", js_str(ctx, f->flags));
	field(ctx, o, "nlinks", "Nlinks", u64(ctx, f->nlinks));
	field(ctx, o, "readable", "Readable", JSValueMakeBoolean(ctx, f->readable));
	/* The seeds spell it "readble". */
	field(ctx, o, "writable", "Writable", JSValueMakeBoolean(ctx, f->writable));
	put(ctx, o, "readble", kJSPropertyAttributeDontEnum, JSValueMakeBoolean(ctx, f->readable));
	put(ctx, o, "Readble", kJSPropertyAttributeDontEnum, JSValueMakeBoolean(ctx, f->readable));
	field(ctx, o, "pos", "Pos", num(ctx, (double)f->pos));
	field(ctx, o, "type", "Type", js_str(ctx, f->type));
	field(ctx, o, "inode", NULL, u64(ctx, f->inode));
	if (!strcmp(f->type, "socket")) {
		JSObjectRef s = JSObjectMake(ctx, NULL, NULL);
		field(ctx, s, "family", NULL, str_or_null(ctx, f->sock_family));
		field(ctx, s, "protocol", NULL, str_or_null(ctx, f->sock_proto));
		field(ctx, s, "localAddress", NULL, str_or_null(ctx, f->sock_local));
		field(ctx, s, "remoteAddress", NULL, str_or_null(ctx, f->sock_remote));
		field(ctx, s, "state", NULL, str_or_null(ctx, f->sock_state));
		field(ctx, o, "socket", "Socket", s);
	}
	return o;
}

BINDING(acc_get_fd_info)
{
	(void)fn_, (void)self_;
	long long fd;
	pid_t pid;
	struct fd_info f;
	struct jv_error e;
	if (!arg_int(ctx, argc, argv, 0, "getFdInfo", "fd", INT32_MIN, INT32_MAX, &fd, exc) ||
	    !arg_task(ctx, argc, argv, 1, "getFdInfo", &pid, exc))
		return NULL;
	if (fd_info(pid, (int)fd, &f, &e) < 0)
		return fail(ctx, "getFdInfo", &e, exc);
	JSObjectRef o = fd_object(ctx, &f);
	fd_info_free(&f);
	return o;
}

BINDING(acc_get_fds_info)
{
	(void)fn_, (void)self_;
	pid_t pid;
	struct fd_info *v;
	size_t n;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getFdsInfo", &pid, exc))
		return NULL;
	if (fds_info(pid, &v, &n, &e) < 0)
		return fail(ctx, "getFdsInfo", &e, exc);
	_cleanup_free_ JSValueRef *vals = xmalloc((n ? n : 1) * sizeof(*vals));
	for (size_t i = 0; i < n; i++)
		vals[i] = fd_object(ctx, &v[i]);
	fds_info_free(v, n);
	return array(ctx, n, vals);
}

static JSValueRef maps_value(JSContextRef ctx, const char *api, pid_t pid, bool text,
			     JSValueRef *exc)
{
	struct jv_error e;
	if (text) {
		_cleanup_free_ char *s = NULL;
		if (maps_text(pid, &s, &e) < 0)
			return fail(ctx, api, &e, exc);
		return js_str(ctx, s);
	}
	struct map_entry *v;
	size_t n;
	if (maps_read(pid, &v, &n, &e) < 0)
		return fail(ctx, api, &e, exc);
	_cleanup_free_ JSValueRef *vals = xmalloc(n * sizeof(*vals));
	for (size_t i = 0; i < n; i++) {
		const struct map_entry *m = &v[i];
		JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
		field(ctx, o, "start", "Start", u64(ctx, m->start));
		field(ctx, o, "end", "End", u64(ctx, m->end));
		field(ctx, o, "readable", "Readable", JSValueMakeBoolean(ctx, m->readable));
		field(ctx, o, "writable", "Writeable", JSValueMakeBoolean(ctx, m->writable));
		put(ctx, o, "writeable", kJSPropertyAttributeDontEnum,
		    JSValueMakeBoolean(ctx, m->writable));
		put(ctx, o, "Writable", kJSPropertyAttributeDontEnum,
		    JSValueMakeBoolean(ctx, m->writable));
		field(ctx, o, "executable", "Executable", JSValueMakeBoolean(ctx, m->executable));
		field(ctx, o, "private", "Private", JSValueMakeBoolean(ctx, m->private_));
		field(ctx, o, "offset", "Offset", u64(ctx, m->offset));
		field(ctx, o, "devMajor", "DevMajor", num(ctx, m->dev_major));
		field(ctx, o, "devMinor", "DevMinor", num(ctx, m->dev_minor));
		field(ctx, o, "inode", "Inode", u64(ctx, m->inode));
		field(ctx, o, "path", "Path", js_str(ctx, m->path));
		vals[i] = o;
	}
	maps_free(v, n);
	return array(ctx, n, vals);
}

/* getMmaps([pid]) or getMmaps({pid, text}) */
BINDING(acc_get_mmaps)
{
	(void)fn_, (void)self_;
	pid_t pid;
	bool text = false;
	if (argc && JSValueIsObject(ctx, argv[0])) {
		JSObjectRef opt = JSValueToObject(ctx, argv[0], NULL);
		JSValueRef p = js_get_prop(ctx, opt, "pid");
		text = JSValueToBoolean(ctx, js_get_prop(ctx, opt, "text"));
		if (!arg_task(ctx, 1, &p, 0, "getMmaps", &pid, exc))
			return NULL;
	} else if (!arg_task(ctx, argc, argv, 0, "getMmaps", &pid, exc)) {
		return NULL;
	}
	return maps_value(ctx, "getMmaps", pid, text, exc);
}

BINDING(acc_get_mmaps_text)
{
	(void)fn_, (void)self_;
	pid_t pid;
	if (!arg_task(ctx, argc, argv, 0, "getMmapsText", &pid, exc))
		return NULL;
	return maps_value(ctx, "getMmapsText", pid, true, exc);
}

BINDING(acc_get_pid_info)
{
	(void)fn_, (void)self_;
	pid_t tid;
	struct proc_ids p;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getPidInfo", &tid, exc))
		return NULL;
	if (proc_ids(tid, &p, &e) < 0)
		return fail(ctx, "getPidInfo", &e, exc);
	JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
	field(ctx, o, "PID", NULL, num(ctx, p.pid));
	field(ctx, o, "GID", NULL, num(ctx, p.gid));
	field(ctx, o, "UID", NULL, num(ctx, p.uid));
	field(ctx, o, "EUID", NULL, num(ctx, p.euid));
	field(ctx, o, "EGID", NULL, num(ctx, p.egid));
	field(ctx, o, "SUID", NULL, num(ctx, p.suid));
	field(ctx, o, "SGID", NULL, num(ctx, p.sgid));
	field(ctx, o, "FSUID", NULL, num(ctx, p.fsuid));
	field(ctx, o, "FSGID", NULL, num(ctx, p.fsgid));
	field(ctx, o, "PPID", NULL, num(ctx, p.ppid));
	field(ctx, o, "TID", NULL, num(ctx, p.tid));
	JSObjectRef s = JSObjectMake(ctx, NULL, NULL);
	field(ctx, s, "sessionID", "SessionID", num(ctx, p.sid));
	field(ctx, s, "PGID", NULL, num(ctx, p.pgid));
	field(ctx, s, "foregroundID", "ForegroundID", num(ctx, p.fg_pgid));
	field(ctx, s, "otherPGIDs", "OtherPGIDs", pid_array(ctx, p.other_pgids, p.n_other_pgids));
	field(ctx, o, "session", "Session", s);
	proc_ids_free(&p);
	return o;
}

BINDING(acc_get_thread_info)
{
	(void)fn_, (void)self_;
	pid_t tid, tgid;
	_cleanup_free_ pid_t *tids = NULL;
	size_t n;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getThreadInfo", &tid, exc))
		return NULL;
	if (proc_threads(tid, &tgid, &tids, &n, &e) < 0)
		return fail(ctx, "getThreadInfo", &e, exc);
	JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
	field(ctx, o, "TID", NULL, num(ctx, tid));
	field(ctx, o, "TGID", NULL, num(ctx, tgid));
	field(ctx, o, "TIDsInTg", NULL, pid_array(ctx, tids, n));
	return o;
}

static JSObjectRef sigaction_object(JSContextRef ctx, const struct sig_action *a)
{
	char buf[16], hex[32];
	JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
	field(ctx, o, "signal", "Signal", num(ctx, a->sig));
	field(ctx, o, "name", "Name", js_str(ctx, sig_name(a->sig, buf)));
	const char *h = a->handler == 0 ? "SIG_DFL" : a->handler == 1 ? "SIG_IGN" : NULL;
	if (!h && a->known) {
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)a->handler);
		h = hex;
	}
	if (!a->known && a->handler != 1)
		h = NULL; /* caught, by a handler of another process we cannot ask */
	field(ctx, o, "handler", "Handler", str_or_null(ctx, h));
	_cleanup_free_ char *flags = a->known ? sig_flags_names(a->flags) : NULL;
	field(ctx, o, "flags", "Flags", str_or_null(ctx, flags));
	field(ctx, o, "restorer", "Restorer",
	      a->known ? u64(ctx, a->restorer) : JSValueMakeNull(ctx));
	field(ctx, o, "signalsInSet", "SignalsInSet",
	      a->known ? signal_names(ctx, a->mask) : JSValueMakeNull(ctx));
	field(ctx, o, "known", NULL, JSValueMakeBoolean(ctx, a->known));
	return o;
}

BINDING(acc_get_signal_info)
{
	(void)fn_, (void)self_;
	pid_t tid;
	struct sig_info s;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getSignalInfo", &tid, exc))
		return NULL;
	if (sig_info(js_current, tid, &s, &e) < 0)
		return fail(ctx, "getSignalInfo", &e, exc);
	JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
	field(ctx, o, "TID", NULL, num(ctx, s.tid));
	field(ctx, o, "signalMask", "SignalMask", u64(ctx, s.blocked));
	field(ctx, o, "signalWaitMask", "SignalWaitMask", u64(ctx, s.has_wait ? s.wait_mask : 0));
	field(ctx, o, "waiting", NULL, JSValueMakeBoolean(ctx, s.has_wait));
	field(ctx, o, "savedSignalMask", "SavedSignalMask",
	      s.has_saved ? u64(ctx, s.saved_mask) : JSValueMakeNull(ctx));
	field(ctx, o, "pending", "Pending", u64(ctx, s.pending | s.shared_pending));
	field(ctx, o, "threadPending", NULL, u64(ctx, s.pending));
	field(ctx, o, "sharedPending", NULL, u64(ctx, s.shared_pending));
	field(ctx, o, "ignored", NULL, u64(ctx, s.ignored));
	field(ctx, o, "caught", NULL, u64(ctx, s.caught));
	_cleanup_free_ JSValueRef *vals = xmalloc((s.n_acts ? s.n_acts : 1) * sizeof(*vals));
	for (size_t i = 0; i < s.n_acts; i++)
		vals[i] = sigaction_object(ctx, &s.acts[i]);
	field(ctx, o, "sigactions", "Sigactions", array(ctx, s.n_acts, vals));
	sig_info_free(&s);
	return o;
}

BINDING(acc_send_signal)
{
	(void)fn_, (void)self_;
	long long tid;
	int sig;
	struct jv_error e;
	if (!arg_int(ctx, argc, argv, 0, "sendSignal", "tid", 1, INT32_MAX, &tid, exc) ||
	    !arg_signal(ctx, argc, argv, 1, "sendSignal", &sig, exc))
		return NULL;
	if (ctl_send_signal((pid_t)tid, sig, &e) < 0)
		return fail(ctx, "sendSignal", &e, exc);
	return JSValueMakeNull(ctx);
}

/* nameToSignal(name): the number, or -1 for an unknown name. */
BINDING(acc_name_to_signal)
{
	(void)fn_, (void)self_;
	if (absent(ctx, argc, argv, 0) || !JSValueIsString(ctx, argv[0])) {
		*exc =
		    js_make_error(ctx, EINVAL, "accessors.nameToSignal: the name must be a string");
		return NULL;
	}
	_cleanup_free_ char *name = js_cstr(ctx, argv[0]);
	return num(ctx, sig_number(name));
}

BINDING(acc_signal_mask_to_names)
{
	(void)fn_, (void)self_;
	uint64_t mask;
	char why[128];
	if (absent(ctx, argc, argv, 0)) {
		*exc = js_make_error(ctx, EINVAL,
				     "accessors.signalMaskToNames: missing argument "
				     "'mask'");
		return NULL;
	}
	if (js_to_u64(ctx, argv[0], &mask, why, sizeof(why)) < 0) {
		*exc = js_make_error(ctx, EINVAL, "accessors.signalMaskToNames: 'mask' %s", why);
		return NULL;
	}
	return signal_names(ctx, mask);
}

BINDING(acc_stop_threads)
{
	(void)fn_, (void)self_, (void)argc, (void)argv;
	struct hook_event *ev = js_need_stopped(ctx, "stopThreads", exc);
	struct jv_error e;
	if (!ev)
		return NULL;
	int n = tracer_stop_threads(ev->thread, &e);
	if (n < 0)
		return fail(ctx, "stopThreads", &e, exc);
	return num(ctx, n);
}

BINDING(acc_resume_threads)
{
	(void)fn_, (void)self_, (void)argc, (void)argv;
	if (js_current && !js_need_stopped(ctx, "resumeThreads", exc))
		return NULL;
	return num(ctx, tracer_resume_threads());
}

BINDING(acc_get_nice)
{
	(void)fn_, (void)self_;
	pid_t tid;
	int v;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getNice", &tid, exc))
		return NULL;
	if (ctl_get_nice(tid, &v, &e) < 0)
		return fail(ctx, "getNice", &e, exc);
	return num(ctx, v);
}

BINDING(acc_set_nice)
{
	(void)fn_, (void)self_;
	pid_t pid;
	long long v;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "setNice", &pid, exc) ||
	    !arg_int(ctx, argc, argv, 1, "setNice", "value", -20, 19, &v, exc))
		return NULL;
	if (ctl_set_nice(pid, (int)v, &e) < 0)
		return fail(ctx, "setNice", &e, exc);
	return JSValueMakeNull(ctx);
}

BINDING(acc_kill)
{
	(void)fn_, (void)self_;
	long long pid;
	int sig;
	struct jv_error e;
	if (!arg_int(ctx, argc, argv, 0, "kill", "pid", INT32_MIN, INT32_MAX, &pid, exc) ||
	    !arg_signal(ctx, argc, argv, 1, "kill", &sig, exc))
		return NULL;
	if (ctl_kill((pid_t)pid, sig, &e) < 0)
		return fail(ctx, "kill", &e, exc);
	return JSValueMakeNull(ctx);
}

BINDING(acc_kill_group)
{
	(void)fn_, (void)self_;
	long long pgid;
	int sig;
	struct jv_error e;
	if (!arg_int(ctx, argc, argv, 0, "killGroup", "pgid", INT32_MIN, INT32_MAX, &pgid, exc) ||
	    !arg_signal(ctx, argc, argv, 1, "killGroup", &sig, exc))
		return NULL;
	int n = ctl_kill_group((pid_t)pgid, sig, &e);
	if (n < 0)
		return fail(ctx, "killGroup", &e, exc);
	return num(ctx, n);
}

BINDING(acc_get_umask)
{
	(void)fn_, (void)self_;
	pid_t pid;
	unsigned m;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getUmask", &pid, exc))
		return NULL;
	if (ctl_get_umask(pid, &m, &e) < 0)
		return fail(ctx, "getUmask", &e, exc);
	return num(ctx, m);
}

/* setUmask(pid, mask): pid must be the calling process (or null/0). */
BINDING(acc_set_umask)
{
	(void)fn_, (void)self_;
	struct hook_event *ev = js_need_stopped(ctx, "setUmask", exc);
	pid_t pid;
	long long mask;
	unsigned old;
	struct jv_error e;
	if (!ev || !arg_task(ctx, argc, argv, 0, "setUmask", &pid, exc) ||
	    !arg_int(ctx, argc, argv, 1, "setUmask", "mask", 0, 0777, &mask, exc))
		return NULL;
	if (tracer_traced_tgid(pid) != ev->pid) {
		*exc = js_make_error(ctx, EINVAL,
				     "accessors.setUmask: only the calling process (%d) can be "
				     "changed, not %d",
				     (int)ev->pid, (int)pid);
		return NULL;
	}
	if (ctl_set_umask(ev->thread, (unsigned)mask, &old, &e) < 0)
		return fail(ctx, "setUmask", &e, exc);
	return num(ctx, old);
}

BINDING(acc_get_exe_info)
{
	(void)fn_, (void)self_;
	pid_t pid;
	struct exe_info x;
	struct jv_error e;
	if (!arg_task(ctx, argc, argv, 0, "getExeInfo", &pid, exc))
		return NULL;
	if (exe_info(pid, &x, &e) < 0)
		return fail(ctx, "getExeInfo", &e, exc);
	JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
	field(ctx, o, "path", "Path", js_str(ctx, x.path));
	field(ctx, o, "dev", "Dev", u64(ctx, x.dev));
	field(ctx, o, "devMajor", "DevMajor", num(ctx, x.dev_major));
	field(ctx, o, "devMinor", "DevMinor", num(ctx, x.dev_minor));
	field(ctx, o, "inode", "Inode", u64(ctx, x.inode));
	field(ctx, o, "size", "Size", u64(ctx, x.size));
	field(ctx, o, "mode", "Mode", js_str(ctx, x.mode_text));
	field(ctx, o, "mtime", "Mtime", num(ctx, (double)x.mtime_sec));
	field(ctx, o, "mtimeNsec", NULL, num(ctx, (double)x.mtime_nsec));
	field(ctx, o, "sha256", "Sha256", js_str(ctx, x.sha256));
	field(ctx, o, "elf", NULL, JSValueMakeBoolean(ctx, x.elf));
	field(ctx, o, "linkage", "Linkage",
	      x.elf ? js_str(ctx, x.is_static ? "static" : "dynamic") : JSValueMakeNull(ctx));
	field(ctx, o, "static", "Static", JSValueMakeBoolean(ctx, x.elf && x.is_static));
	field(ctx, o, "interpreter", "Interpreter", str_or_null(ctx, x.interp));
	field(ctx, o, "pie", NULL, JSValueMakeBoolean(ctx, x.pie));
	field(ctx, o, "arch", NULL, str_or_null(ctx, x.arch));
	exe_info_free(&x);
	return o;
}

static const struct js_binding table[] = {
    {"getArgv", acc_get_argv},
    {"getEnvs", acc_get_envs},
    {"getCwd", acc_get_cwd},
    {"getFdInfo", acc_get_fd_info},
    {"getFdsInfo", acc_get_fds_info},
    {"getMmaps", acc_get_mmaps},
    {"getMmapsText", acc_get_mmaps_text},
    {"getPidInfo", acc_get_pid_info},
    {"getThreadInfo", acc_get_thread_info},
    {"getSignalInfo", acc_get_signal_info},
    {"sendSignal", acc_send_signal},
    {"nameToSignal", acc_name_to_signal},
    {"signalMaskToNames", acc_signal_mask_to_names},
    {"stopThreads", acc_stop_threads},
    {"resumeThreads", acc_resume_threads},
    {"getNice", acc_get_nice},
    {"setNice", acc_set_nice},
    {"kill", acc_kill},
    {"killGroup", acc_kill_group},
    {"getUmask", acc_get_umask},
    {"setUmask", acc_set_umask},
    {"getExeInfo", acc_get_exe_info},
};

void js_bind_proc_accessors(JSContextRef ctx, JSObjectRef obj)
{
	js_bind_table(ctx, obj, table, JV_ARRAY_SIZE(table));
}
