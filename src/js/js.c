/* VM lifetime, the seed's globals, script loading and hook calls. */
#include "js/js.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>

#include "common/util.h"
#include "js/hookopts.h"
#include "js/internal.h"

/* Exported by JavaScriptCore but declared in a private header. */
typedef bool (*JSShouldTerminateCallback)(JSContextRef ctx, void *context);
JS_EXPORT void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group, double limit,
						   JSShouldTerminateCallback callback,
						   void *context);
/* The signal JavaScriptCore uses to suspend its threads; before the first VM. */
JS_EXPORT void JSConfigureSignalForGC(int signal);
/* GLib API of JavaScriptCore (jsc/jsc-options.h): set an engine option before
 * the first VM. Declared here to keep GLib's headers out. */
JS_EXPORT int jsc_options_set_boolean(const char *option, int value);

JSGlobalContextRef js_ctx;
struct hook_event *js_current;
JSObjectRef js_current_obj;
static JSContextGroupRef group;
static unsigned timeout_ms;
static bool timed_out;
/* Calls a hook and lists its result's keys in the same entry into the VM (each
 * entry reads the thread's CPU clock for the time limit, about 1 us here):
 * invoke(fn, event, a0..a5) -> undefined (no change) or [result, keys] or
 * [result, null, exception] when listing the keys threw (a Proxy). Built with
 * Reflect.apply and Object.keys as they were before any script ran. */
static JSObjectRef invoke;
static const char invoke_src[] =
    "(function () {\n"
    "  'use strict';\n"
    "  const apply = Reflect.apply, keys = Object.keys;\n"
    "  return function invoke(fn, ev, a0, a1, a2, a3, a4, a5) {\n"
    "    const r = apply(fn, ev, [a0, a1, a2, a3, a4, a5, ev]);\n"
    "    if (r === null || typeof r !== 'object') return undefined;\n"
    "    try { return [r, keys(r)]; } catch (e) { return [r, null, e]; }\n"
    "  };\n"
    "})()";

/* The seed's API surface, built in JS over the natives so registration can
 * record the caller's file:line from the stack. */
static const char bootstrap[] =
    "(function (n) {\n"
    "  'use strict';\n"
    "  function where() {\n"
    "    const lines = String(new Error().stack || '').split('\\n');\n"
    "    const m = /@(.*):(\\d+):\\d+$/.exec(lines[2] || '');\n"
    "    return m ? m[1] + ':' + m[2] : '?';\n"
    "  }\n"
    "  const api = n.accessors;\n"
    "  api.AddHookBefore = function AddHookBefore(sysno, fn, opts) {\n"
    "    return n.addHook(0, sysno, fn, where(), opts);\n"
    "  };\n"
    "  api.AddHookAfter = function AddHookAfter(sysno, fn, opts) {\n"
    "    return n.addHook(1, sysno, fn, where(), opts);\n"
    "  };\n"
    "  api.AddCbBefore = api.AddHookBefore;\n"
    "  api.AddCbAfter = api.AddHookAfter;\n"
    "  const ro = { writable: false, enumerable: false, configurable: false };\n"
    "  Object.defineProperty(globalThis, 'accessors', Object.assign({ value: api }, ro));\n"
    "  Object.defineProperty(globalThis, 'hooks', Object.assign({ value: api }, ro));\n"
    "  const persistence = { glb: {} };\n"
    "  Object.defineProperty(persistence, 'local', { get: n.local, enumerable: true });\n"
    "  Object.defineProperty(globalThis, 'persistence', Object.assign({ value: persistence }, "
    "ro));\n"
    "  Object.defineProperty(globalThis, 'args', { get: n.args, configurable: false });\n"
    "})";

static JSValueRef native_add_hook(JSContextRef ctx, JSObjectRef fn, JSObjectRef self, size_t argc,
				  const JSValueRef argv[], JSValueRef *exc)
{
	(void)fn;
	(void)self;
	if (argc < 4)
		return NULL;
	int phase = (int)JSValueToNumber(ctx, argv[0], NULL);
	const char *api = phase == HOOK_BEFORE ? "AddHookBefore" : "AddHookAfter";
	int sysno = -1;
	if (JSValueIsString(ctx, argv[1])) {
		_cleanup_free_ char *name = js_cstr(ctx, argv[1]);
		sysno = sys_number(name);
		if (sysno < 0) {
			*exc = js_make_error(ctx, 0, "%s: unknown syscall name '%s'", api, name);
			return NULL;
		}
	} else if (JSValueIsNumber(ctx, argv[1])) {
		double d = JSValueToNumber(ctx, argv[1], NULL);
		if (!(d >= 0 && d < SYS_NR_MAX) || d != (int)d || !sys_name((int)d)) {
			*exc = js_make_error(ctx, 0, "%s: unknown syscall number %g", api, d);
			return NULL;
		}
		sysno = (int)d;
	} else {
		*exc = js_make_error(
		    ctx, 0, "%s: the first argument must be a syscall number or name", api);
		return NULL;
	}
	if (!JSValueIsObject(ctx, argv[2]) ||
	    !JSObjectIsFunction(ctx, JSValueToObject(ctx, argv[2], NULL))) {
		*exc = js_make_error(ctx, 0, "%s: the second argument must be a function", api);
		return NULL;
	}
	JSObjectRef f = JSValueToObject(ctx, argv[2], NULL);
	_cleanup_free_ char *where = js_cstr(ctx, argv[3]);
	struct jv_error e;
	struct hook_filter filter;
	enum hook_mode mode;
	if (js_hook_opts(ctx, argc > 4 ? argv[4] : NULL, &filter, &mode, &e) < 0) {
		*exc = js_make_error(ctx, 0, "%s: %s", api, e.msg);
		return NULL;
	}
	JSValueProtect(ctx, f);
	int id = hooks_add(sysno, (enum hook_phase)phase, mode, (void *)f, where, &e);
	if (id < 0) {
		JSValueUnprotect(ctx, f);
		*exc = js_make_error(ctx, 0, "%s: %s", api, e.msg);
		return NULL;
	}
	if (filter.n)
		hooks_set_filter((unsigned)id, &filter, &e);
	return JSValueMakeNull(ctx);
}

static JSValueRef native_local(JSContextRef ctx, JSObjectRef fn, JSObjectRef self, size_t argc,
			       const JSValueRef argv[], JSValueRef *exc)
{
	(void)fn, (void)self, (void)argc, (void)argv, (void)exc;
	if (!js_current || !js_current->local)
		return JSValueMakeUndefined(ctx);
	if (!*js_current->local) {
		JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
		JSValueProtect(ctx, o);
		*js_current->local = (void *)o;
	}
	return (JSObjectRef)*js_current->local;
}

static JSValueRef native_args(JSContextRef ctx, JSObjectRef fn, JSObjectRef self, size_t argc,
			      const JSValueRef argv[], JSValueRef *exc)
{
	(void)fn, (void)self, (void)argc, (void)argv, (void)exc;
	return js_current_obj ? (JSValueRef)js_current_obj : JSValueMakeUndefined(ctx);
}

static bool should_terminate(JSContextRef ctx, void *context)
{
	(void)ctx, (void)context;
	timed_out = true;
	return true;
}

static void make_native(JSContextRef ctx, JSObjectRef o, const char *name,
			JSObjectCallAsFunctionCallback cb)
{
	JSStringRef n = JSStringCreateWithUTF8CString(name);
	JSObjectSetProperty(ctx, o, n, JSObjectMakeFunctionWithCallback(ctx, n, cb),
			    kJSPropertyAttributeNone, NULL);
	JSStringRelease(n);
}

/* Evaluate src; on failure fill *e with "url:line: message". */
static int evaluate(const char *src, const char *url, int line, JSValueRef *result,
		    struct jv_error *e)
{
	JSStringRef s = JSStringCreateWithUTF8CString(src);
	JSStringRef u = JSStringCreateWithUTF8CString(url);
	JSValueRef exc = NULL;
	timed_out = false;
	JSValueRef r = NULL;
	if (JSCheckScriptSyntax(js_ctx, s, u, line, &exc))
		r = JSEvaluateScript(js_ctx, s, NULL, u, line, &exc);
	JSStringRelease(s);
	JSStringRelease(u);
	if (exc) {
		char where[512], msg[768];
		js_exception_info(js_ctx, exc, where, sizeof(where), msg, sizeof(msg));
		if (timed_out)
			return jv_err(e, 0, "%s: the script ran past its time limit of %u ms",
				      where[0] ? where : url, timeout_ms);
		return jv_err(e, 0, "%s: %s", where[0] ? where : url, msg);
	}
	if (result)
		*result = r;
	return 0;
}

/* ---- hook calls ---- */

static int result_error(struct hook_failure *f, const char *where, const char *fmt, ...)
    JV_PRINTF(3, 4);
static int result_error(struct hook_failure *f, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	snprintf(f->where, sizeof(f->where), "%s", where);
	return -1;
}

static bool int_key(const char *k, long *idx)
{
	const char *p = k + (k[0] == '-');
	if (!*p || (p[0] == '0' && p[1]))
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	*idx = strtol(k, NULL, 10);
	return true;
}

/* out: invoke()'s value (see invoke_src). */
static int parse_result(JSValueRef out, const struct hook *h, const struct hook_event *ev,
			struct hook_verdict *res, struct hook_failure *f)
{
	if (!out || !JSValueIsObject(js_ctx, out))
		return 0; /* undefined, null, primitives, functions: no change */
	JSObjectRef pair = JSValueToObject(js_ctx, out, NULL);
	JSObjectRef o =
	    JSValueToObject(js_ctx, JSObjectGetPropertyAtIndex(js_ctx, pair, 0, NULL), NULL);
	JSValueRef kv = JSObjectGetPropertyAtIndex(js_ctx, pair, 1, NULL);
	const char *kind = ev->phase == HOOK_BEFORE ? "before" : "after";
	JSValueRef exc = NULL;
	if (!o || !kv || !JSValueIsObject(js_ctx, kv)) {
		char msg[512] = "no key list";
		JSValueRef e = JSObjectGetPropertyAtIndex(js_ctx, pair, 2, NULL);
		if (e && !JSValueIsUndefined(js_ctx, e))
			js_exception_info(js_ctx, e, NULL, 0, msg, sizeof(msg));
		return result_error(f, h->where, "bad %s-hook result: listing its keys threw: %s",
				    kind, msg);
	}
	JSObjectRef names = JSValueToObject(js_ctx, kv, NULL);
	size_t n = (size_t)JSValueToNumber(js_ctx, js_get_prop(js_ctx, names, "length"), NULL);
	bool has_ret = false, has_errno = false;
	uint64_t ret = 0, err = 0;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		_cleanup_free_ char *key =
		    js_cstr(js_ctx, JSObjectGetPropertyAtIndex(js_ctx, names, (unsigned)i, NULL));
		JSStringRef name = JSStringCreateWithUTF8CString(key);
		exc = NULL;
		JSValueRef v = JSObjectGetProperty(js_ctx, o, name, &exc);
		JSStringRelease(name);
		char why[128];
		long idx;
		if (exc) {
			char msg[512];
			js_exception_info(js_ctx, exc, NULL, 0, msg, sizeof(msg));
			rc = result_error(f, h->where, "reading '%s' of the result threw: %s", key,
					  msg);
		} else if (strcmp(key, "ret") == 0) {
			has_ret = true;
			if (js_to_u64(js_ctx, v, &ret, why, sizeof(why)) < 0)
				rc = result_error(f, h->where, "bad %s-hook result: ret %s", kind,
						  why);
		} else if (strcmp(key, "errno") == 0) {
			has_errno = true;
			if (js_to_u64(js_ctx, v, &err, why, sizeof(why)) < 0)
				rc = result_error(f, h->where, "bad %s-hook result: errno %s", kind,
						  why);
			else if ((int64_t)err < 0 || err > 4095)
				rc = result_error(
				    f, h->where,
				    "bad %s-hook result: errno %lld is outside 1..4095 "
				    "(0 = success)",
				    kind, (long long)err);
		} else if (int_key(key, &idx)) {
			uint64_t val;
			if (idx < 0 || idx > 5)
				rc = result_error(
				    f, h->where,
				    "bad %s-hook result: argument index %ld is outside 0..5", kind,
				    idx);
			else if (js_to_u64(js_ctx, v, &val, why, sizeof(why)) < 0)
				rc =
				    result_error(f, h->where, "bad %s-hook result: argument %ld %s",
						 kind, idx, why);
			else if (ev->phase == HOOK_BEFORE || ev->observed) {
				res->args[idx] = ev->abi == SYS_ABI_I386 ? (uint32_t)val : val;
				res->args_set |= 1u << idx;
			}
		} else {
			rc = result_error(
			    f, h->where,
			    "bad %s-hook result: unknown key '%s' (expected 0..5, ret, "
			    "errno)",
			    kind, key);
		}
	}
	if (rc < 0) {
		memset(res, 0, sizeof(*res));
		return rc;
	}
	if (ev->observed) { /* any change is an error (hooks_observe) */
		res->result_set = has_ret || has_errno;
		return 0;
	}
	if (ev->phase == HOOK_BEFORE) {
		if (has_ret != has_errno)
			return result_error(
			    f, h->where,
			    "bad before-hook result: skipping a syscall needs both ret "
			    "and errno (got only '%s')",
			    has_ret ? "ret" : "errno");
		if (has_ret) {
			res->skip = true;
			res->result_set = true;
			res->raw = err ? -(int64_t)err : (int64_t)ret;
		}
		return 0;
	}
	if (has_errno && err) {
		res->result_set = true;
		res->raw = -(int64_t)err;
	} else if (has_ret) {
		res->result_set = true;
		res->raw = (int64_t)ret;
	} else if (has_errno) { /* {errno: 0}: make a failed call succeed */
		res->result_set = true;
		res->raw = ev->err ? 0 : ev->ret;
	}
	return 0;
}

static int call_hook(struct hook *h, struct hook_event *ev, struct hook_verdict *res,
		     struct hook_failure *f)
{
	JSObjectRef evobj = js_make_event(js_ctx, ev);
	JSValueRef argv[8];
	argv[0] = (JSObjectRef)h->fn;
	argv[1] = evobj;
	for (int i = 0; i < 6; i++)
		argv[2 + i] = js_num64(js_ctx, ev->args[i]);
	struct hook_event *saved = js_current;
	JSObjectRef saved_obj = js_current_obj;
	js_current = ev;
	js_current_obj = evobj;
	JSValueRef exc = NULL;
	timed_out = false;
	JSValueRef r = JSObjectCallAsFunction(js_ctx, invoke, NULL, 8, argv, &exc);
	js_current = saved;
	js_current_obj = saved_obj;
	if (exc) {
		if (timed_out)
			return result_error(
			    f, h->where, "the hook ran past its time limit of %u ms", timeout_ms);
		char where[256];
		js_exception_info(js_ctx, exc, where, sizeof(where), f->msg, sizeof(f->msg));
		snprintf(f->where, sizeof(f->where), "%s", where[0] ? where : h->where);
		return -1;
	}
	return parse_result(r, h, ev, res, f);
}

static void release_hook(struct hook *h)
{
	JSValueUnprotect(js_ctx, (JSObjectRef)h->fn);
}
static void thread_gone(void *local)
{
	JSValueUnprotect(js_ctx, (JSObjectRef)local);
}

static const struct hook_engine_ops ops = {
    .call = call_hook,
    .release = release_hook,
    .thread_gone = thread_gone,
};

int js_init(const struct js_options *o, struct jv_error *e)
{
	timeout_ms = o->timeout_ms ? o->timeout_ms : 1000;
	/* JavaScriptCore suspends its threads (GC, the time limit's VM traps) with
	 * SIGUSR1 unless told otherwise, but SIGUSR1 sent to jvisor is the program's.
	 * Once per process, before the engine starts. */
	static bool signal_set;
	if (!signal_set) {
		JSConfigureSignalForGC(SIGRTMAX - 1);
		/* The time limit interrupts optimized (DFG/FTL) loops only with
		 * polling traps: with the default signal-based traps a `while (true) {}`
		 * hook that tiered up is never stopped (jvisor hangs on its third call). */
		jsc_options_set_boolean("usePollingTraps", 1);
		signal_set = true;
	}
	group = JSContextGroupCreate();
	JSContextGroupSetExecutionTimeLimit(group, timeout_ms / 1000.0, should_terminate, NULL);
	js_ctx = JSGlobalContextCreateInGroup(group, NULL);
	if (!js_ctx)
		return jv_err(e, 0, "cannot create the JavaScript context");
	JSContextRef ctx = js_ctx;
	JSObjectRef natives = JSObjectMake(ctx, NULL, NULL);
	make_native(ctx, natives, "addHook", native_add_hook);
	make_native(ctx, natives, "local", native_local);
	make_native(ctx, natives, "args", native_args);
	JSObjectRef acc = JSObjectMake(ctx, NULL, NULL);
	js_bind_accessors(ctx, acc);
	js_set_prop(ctx, natives, "accessors", acc);
	JSValueRef boot;
	if (evaluate(bootstrap, "jvisor:bootstrap", 1, &boot, e) < 0)
		return jv_err_prefix(e, "internal error");
	JSValueRef exc = NULL;
	JSValueRef argv[1] = {natives};
	JSObjectCallAsFunction(ctx, JSValueToObject(ctx, boot, NULL), NULL, 1, argv, &exc);
	if (exc) {
		char msg[512];
		js_exception_info(ctx, exc, NULL, 0, msg, sizeof(msg));
		return jv_err(e, 0, "internal error: bootstrap: %s", msg);
	}
	JSValueRef inv;
	if (evaluate(invoke_src, "jvisor:invoke", 1, &inv, e) < 0)
		return jv_err_prefix(e, "internal error");
	invoke = JSValueToObject(ctx, inv, NULL);
	JSValueProtect(ctx, invoke);
	hooks_set_engine(&ops);
	return 0;
}

void js_set_timeout(unsigned ms)
{
	timeout_ms = ms;
	if (group)
		JSContextGroupSetExecutionTimeLimit(group, timeout_ms / 1000.0, should_terminate,
						    NULL);
}

int js_load_source(const char *src, const char *url, int line, struct jv_error *e)
{
	return evaluate(src, url, line, NULL, e);
}

int js_load_file(const char *path, struct jv_error *e)
{
	_cleanup_free_ char *src = NULL;
	if (jv_read_file(path, &src) < 0)
		return jv_err(e, errno, "cannot read hook script %s", path);
	return evaluate(src, path, 1, NULL, e);
}

int js_add_callback(int sysno, enum hook_phase phase, enum hook_mode mode, const char *source,
		    const char *entry, const char *where, struct jv_error *e)
{
	JSValueRef v = NULL;
	if (evaluate(source, where, 1, &v, e) < 0)
		return -1;
	if (entry && *entry) {
		JSStringRef n = JSStringCreateWithUTF8CString(entry);
		v = JSObjectGetProperty(js_ctx, JSContextGetGlobalObject(js_ctx), n, NULL);
		JSStringRelease(n);
	}
	if (!v || !JSValueIsObject(js_ctx, v) ||
	    !JSObjectIsFunction(js_ctx, JSValueToObject(js_ctx, v, NULL)))
		return jv_err(e, 0, "%s: entry-point '%s' is not a function defined by the source",
			      where, entry ? entry : "(script value)");
	JSObjectRef f = JSValueToObject(js_ctx, v, NULL);
	JSValueProtect(js_ctx, f);
	int id = hooks_add(sysno, phase, mode, (void *)f, where, e);
	if (id < 0) {
		JSValueUnprotect(js_ctx, f);
		return jv_err_prefix(e, "%s", where);
	}
	return id;
}

void js_shutdown(void)
{
	hooks_remove(-1, -1);
	hooks_set_engine(NULL);
	if (js_ctx && invoke)
		JSValueUnprotect(js_ctx, invoke);
	invoke = NULL;
	if (js_ctx)
		JSGlobalContextRelease(js_ctx);
	if (group)
		JSContextGroupRelease(group);
	js_ctx = NULL;
	group = NULL;
}
