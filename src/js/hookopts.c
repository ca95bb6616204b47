/* The options object of AddHookBefore/AddHookAfter: {args: {INDEX: VALUE or
 * {value, mask, op}}, mode: "ptrace", "notify" or "observe"}. */
#include "js/hookopts.h"

#include "common/util.h"
#include "js/internal.h"

/* Own enumerable keys of o (JSObjectCopyPropertyNames), or NULL. */
static JSPropertyNameArrayRef keys_of(JSContextRef ctx, JSValueRef v, JSObjectRef *o)
{
	if (!JSValueIsObject(ctx, v))
		return NULL;
	*o = JSValueToObject(ctx, v, NULL);
	return JSObjectCopyPropertyNames(ctx, *o);
}

static char *key_at(JSPropertyNameArrayRef names, size_t i)
{
	JSStringRef s = JSPropertyNameArrayGetNameAtIndex(names, i);
	size_t n = JSStringGetMaximumUTF8CStringSize(s);
	char *k = xmalloc(n);
	JSStringGetUTF8CString(s, k, n);
	return k;
}

static JSValueRef prop(JSContextRef ctx, JSObjectRef o, const char *name, JSValueRef *exc)
{
	JSStringRef n = JSStringCreateWithUTF8CString(name);
	JSValueRef v = JSObjectGetProperty(ctx, o, n, exc);
	JSStringRelease(n);
	return v;
}

static int one_arg(JSContextRef ctx, struct hook_filter *f, long idx, JSValueRef v,
		   struct jv_error *e)
{
	char why[128];
	uint64_t value = 0, mask = 0;
	JSObjectRef o = NULL;
	if (JSValueIsNumber(ctx, v) || JSValueIsBigInt(ctx, v)) {
		if (js_to_u64(ctx, v, &value, why, sizeof(why)) < 0)
			return jv_err(e, 0, "args[%ld] %s", idx, why);
		return argfilter_add(f, idx, NULL, value, false, 0, e);
	}
	if (!JSValueIsObject(ctx, v))
		return jv_err(e, 0, "args[%ld] must be a Number, a BigInt or {value, mask, op}",
			      idx);
	JSPropertyNameArrayRef names = keys_of(ctx, v, &o);
	size_t n = JSPropertyNameArrayGetCount(names);
	bool has_value = false, has_mask = false;
	_cleanup_free_ char *op = NULL;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		_cleanup_free_ char *k = key_at(names, i);
		JSValueRef exc = NULL;
		JSValueRef x = prop(ctx, o, k, &exc);
		if (exc) {
			rc = jv_err(e, 0, "args[%ld].%s: reading it threw", idx, k);
		} else if (!strcmp(k, "value")) {
			has_value = true;
			if (js_to_u64(ctx, x, &value, why, sizeof(why)) < 0)
				rc = jv_err(e, 0, "args[%ld].value %s", idx, why);
		} else if (!strcmp(k, "mask")) {
			has_mask = true;
			if (js_to_u64(ctx, x, &mask, why, sizeof(why)) < 0)
				rc = jv_err(e, 0, "args[%ld].mask %s", idx, why);
		} else if (!strcmp(k, "op")) {
			if (!JSValueIsString(ctx, x))
				rc = jv_err(e, 0, "args[%ld].op must be a string", idx);
			else
				op = js_cstr(ctx, x);
		} else {
			rc = jv_err(e, 0, "args[%ld]: unknown key '%s' (expected value, mask, op)",
				    idx, k);
		}
	}
	JSPropertyNameArrayRelease(names);
	if (rc < 0)
		return rc;
	if (!has_value)
		return jv_err(e, 0, "args[%ld] needs a value", idx);
	if (argfilter_add(f, idx, op, value, has_mask, mask, e) < 0)
		return jv_err_prefix(e, "args");
	return 0;
}

static bool index_key(const char *k, long *idx)
{
	if (k[0] < '0' || k[0] > '9' || k[1])
		return false;
	*idx = k[0] - '0';
	return true;
}

int js_hook_opts(JSContextRef ctx, JSValueRef opts, struct hook_filter *f, enum hook_mode *mode,
		 struct jv_error *e)
{
	memset(f, 0, sizeof(*f));
	*mode = HOOK_MODE_PTRACE;
	if (!opts || JSValueIsUndefined(ctx, opts) || JSValueIsNull(ctx, opts))
		return 0;
	JSObjectRef o = NULL;
	if (!JSValueIsObject(ctx, opts) ||
	    JSObjectIsFunction(ctx, JSValueToObject(ctx, opts, NULL)))
		return jv_err(e, 0, "the third argument (options) must be an object");
	JSPropertyNameArrayRef names = keys_of(ctx, opts, &o);
	size_t n = JSPropertyNameArrayGetCount(names);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		_cleanup_free_ char *k = key_at(names, i);
		JSValueRef exc = NULL;
		JSValueRef v = prop(ctx, o, k, &exc);
		if (exc) {
			rc = jv_err(e, 0, "options.%s: reading it threw", k);
		} else if (!strcmp(k, "args")) {
			JSObjectRef a = NULL;
			if (!JSValueIsObject(ctx, v)) {
				rc = jv_err(e, 0, "options.args must be an object {INDEX: VALUE}");
				continue;
			}
			JSPropertyNameArrayRef an = keys_of(ctx, v, &a);
			size_t m = JSPropertyNameArrayGetCount(an);
			for (size_t j = 0; j < m && rc == 0; j++) {
				_cleanup_free_ char *ak = key_at(an, j);
				long idx;
				JSValueRef av = NULL;
				if (!index_key(ak, &idx) || idx > 5)
					rc = jv_err(
					    e, 0,
					    "options.args: key '%s' is not an argument index 0..5",
					    ak);
				else if (!(av = prop(ctx, a, ak, &exc)) || exc)
					rc = jv_err(e, 0, "options.args[%s]: reading it threw", ak);
				else
					rc = one_arg(ctx, f, idx, av, e);
			}
			JSPropertyNameArrayRelease(an);
		} else if (!strcmp(k, "mode")) {
			_cleanup_free_ char *m = JSValueIsString(ctx, v) ? js_cstr(ctx, v) : NULL;
			if (m && !strcmp(m, "notify"))
				*mode = HOOK_MODE_NOTIFY;
			else if (m && !strcmp(m, "observe"))
				*mode = HOOK_MODE_OBSERVE;
			else if (!m || strcmp(m, "ptrace"))
				rc = jv_err(e, 0,
					    "options.mode must be \"ptrace\", \"notify\" or "
					    "\"observe\"");
		} else {
			rc = jv_err(e, 0, "options: unknown key '%s' (expected args, mode)", k);
		}
	}
	JSPropertyNameArrayRelease(names);
	return rc;
}
