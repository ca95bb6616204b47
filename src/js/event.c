/* The event object hooks get as `this`, as their seventh argument and as the
 * global `args`: {sysno, name, pid, tid, phase, abi, mode, ret, errno, arg0..arg5}.
 * Fields are computed when read, so an unused event costs one allocation. */
#include "common/util.h"
#include "js/internal.h"

struct event_data {
	struct hook_event ev;
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
GETTER(mode, js_str(ctx, ev->notified ? "notify" : "ptrace"))
GETTER(ret, ev->phase == HOOK_AFTER ? js_num64(ctx, (uint64_t)ev->ret) : JSValueMakeUndefined(ctx))
GETTER(errno, ev->phase == HOOK_AFTER ? JSValueMakeNumber(ctx, ev->err) : JSValueMakeUndefined(ctx))
GETTER(arg0, js_num64(ctx, ev->args[0]))
GETTER(arg1, js_num64(ctx, ev->args[1]))
GETTER(arg2, js_num64(ctx, ev->args[2]))
GETTER(arg3, js_num64(ctx, ev->args[3]))
GETTER(arg4, js_num64(ctx, ev->args[4]))
GETTER(arg5, js_num64(ctx, ev->args[5]))

static void finalize(JSObjectRef o)
{
	free(data_of(o));
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
	struct event_data *d = xmalloc(sizeof(*d));
	d->ev = *ev;
	return JSObjectMake(ctx, event_class(), d);
}
