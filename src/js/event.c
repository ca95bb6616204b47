/* The event object hooks get as `this`, as their seventh argument and as the
 * global `args`: {sysno, name, pid, tid, phase, abi, mode, ret, errno, arg0..arg5};
 * observe-mode hooks also get args (the decoded arguments, as the log shows
 * them), ts and dur_us. Fields are computed when read, so an unused event costs
 * one allocation. */
#include "common/util.h"
#include "js/internal.h"

struct event_data {
	struct hook_event ev;
	char *args_json; /* observe mode: a copy (the queue reuses its buffer) */
	JSValueRef args; /* parsed on first read, kept alive by a hidden property */
};

static struct event_data *data_of(JSObjectRef o)
{
	return JSObjectGetPrivate(o);
}

#define GETTER(fname, expr)                                                              \
	static JSValueRef get_##fname(JSContextRef ctx, JSObjectRef o, JSStringRef name, \
				      JSValueRef *exc)                                   \
	{                                                                                \
		(void)name;                                                              \
		(void)exc;                                                               \
		const struct hook_event *ev = &data_of(o)->ev;                           \
		(void)ev;                                                                \
		return expr;                                                             \
	}

GETTER(sysno, JSValueMakeNumber(ctx, ev->sysno))
GETTER(name, js_str(ctx, sys_name(ev->sysno) ? sys_name(ev->sysno) : "?"))
GETTER(pid, JSValueMakeNumber(ctx, ev->pid))
GETTER(tid, JSValueMakeNumber(ctx, ev->tid))
GETTER(phase, js_str(ctx, ev->phase == HOOK_BEFORE ? "before" : "after"))
GETTER(abi, js_str(ctx, sys_abi_name(ev->abi)))
GETTER(mode, js_str(ctx, ev->observed ? ev->obs_mode : ev->notified ? "notify" : "ptrace"))
/* The result is known after the call (observers: when the call returned). */
static bool has_result(const struct hook_event *ev)
{
	return ev->phase == HOOK_AFTER && (!ev->observed || ev->has_result);
}
GETTER(ret, has_result(ev) ? js_num64(ctx, (uint64_t)ev->ret) : JSValueMakeUndefined(ctx))
GETTER(errno, has_result(ev) ? JSValueMakeNumber(ctx, ev->err) : JSValueMakeUndefined(ctx))
GETTER(ts, ev->observed ? JSValueMakeNumber(ctx, (double)(ev->ts_ns / 1000) / 1e6)
			: JSValueMakeUndefined(ctx))
GETTER(dur_us, ev->observed && ev->has_result ? JSValueMakeNumber(ctx, (double)(ev->dur_ns / 1000))
					      : JSValueMakeUndefined(ctx))

/* The decoded arguments (observe mode): the log record's "args", parsed once. */
static JSValueRef get_args(JSContextRef ctx, JSObjectRef o, JSStringRef name, JSValueRef *exc)
{
	(void)name, (void)exc;
	struct event_data *d = data_of(o);
	if (!d->args_json)
		return JSValueMakeUndefined(ctx);
	if (!d->args) {
		JSStringRef s = JSStringCreateWithUTF8CString(d->args_json);
		JSValueRef v = JSValueMakeFromJSONString(ctx, s);
		JSStringRelease(s);
		d->args = v ? v : JSValueMakeNull(ctx);
		/* Reachable from the event, so the collector keeps it. */
		JSStringRef hidden = JSStringCreateWithUTF8CString(" args");
		JSObjectSetProperty(ctx, o, hidden, d->args, kJSPropertyAttributeDontEnum, NULL);
		JSStringRelease(hidden);
	}
	return d->args;
}
GETTER(arg0, js_num64(ctx, ev->args[0]))
GETTER(arg1, js_num64(ctx, ev->args[1]))
GETTER(arg2, js_num64(ctx, ev->args[2]))
GETTER(arg3, js_num64(ctx, ev->args[3]))
GETTER(arg4, js_num64(ctx, ev->args[4]))
GETTER(arg5, js_num64(ctx, ev->args[5]))

static void finalize(JSObjectRef o)
{
	struct event_data *d = data_of(o);
	free(d->args_json);
	free(d);
}

static JSClassRef event_class(void)
{
	static JSClassRef cls;
	if (cls)
		return cls;
	static const JSStaticValue values[] = {
	    {"sysno", get_sysno, NULL, kJSPropertyAttributeReadOnly},
	    {"name", get_name, NULL, kJSPropertyAttributeReadOnly},
	    {"pid", get_pid, NULL, kJSPropertyAttributeReadOnly},
	    {"tid", get_tid, NULL, kJSPropertyAttributeReadOnly},
	    {"phase", get_phase, NULL, kJSPropertyAttributeReadOnly},
	    {"abi", get_abi, NULL, kJSPropertyAttributeReadOnly},
	    {"mode", get_mode, NULL, kJSPropertyAttributeReadOnly},
	    {"ret", get_ret, NULL, kJSPropertyAttributeReadOnly},
	    {"errno", get_errno, NULL, kJSPropertyAttributeReadOnly},
	    {"arg0", get_arg0, NULL, kJSPropertyAttributeReadOnly},
	    {"arg1", get_arg1, NULL, kJSPropertyAttributeReadOnly},
	    {"arg2", get_arg2, NULL, kJSPropertyAttributeReadOnly},
	    {"arg3", get_arg3, NULL, kJSPropertyAttributeReadOnly},
	    {"arg4", get_arg4, NULL, kJSPropertyAttributeReadOnly},
	    {"arg5", get_arg5, NULL, kJSPropertyAttributeReadOnly},
	    {"args", get_args, NULL, kJSPropertyAttributeReadOnly},
	    {"ts", get_ts, NULL, kJSPropertyAttributeReadOnly},
	    {"dur_us", get_dur_us, NULL, kJSPropertyAttributeReadOnly},
	    {NULL, NULL, NULL, 0},
	};
	JSClassDefinition def = kJSClassDefinitionEmpty;
	def.className = "SyscallEvent";
	def.staticValues = values;
	def.finalize = finalize;
	cls = JSClassCreate(&def);
	return cls;
}

JSObjectRef js_make_event(JSContextRef ctx, const struct hook_event *ev)
{
	struct event_data *d = xcalloc(1, sizeof(*d));
	d->ev = *ev;
	if (ev->observed && ev->args_json) {
		d->args_json = xmalloc(ev->args_len + 1);
		memcpy(d->args_json, ev->args_json, ev->args_len);
		d->args_json[ev->args_len] = '\0';
	}
	d->ev.args_json = NULL;
	return JSObjectMake(ctx, event_class(), d);
}
