#include <math.h>
#include <stdarg.h>

#include "common/util.h"
#include "js/internal.h"

#define TWO53 9007199254740992LL

JSValueRef js_num64(JSContextRef ctx, uint64_t v)
{
	int64_t s = (int64_t)v;
	if (s >= -TWO53 && s <= TWO53)
		return JSValueMakeNumber(ctx, (double)s);
	return JSBigIntCreateWithInt64(ctx, s, NULL);
}

int js_to_u64(JSContextRef ctx, JSValueRef v, uint64_t *out, char *why, size_t whylen)
{
	if (JSValueIsNumber(ctx, v)) {
		double d = JSValueToNumber(ctx, v, NULL);
		if (isnan(d)) {
			snprintf(why, whylen, "is NaN");
			return -1;
		}
		if (!isfinite(d) || d != trunc(d)) {
			snprintf(why, whylen, "is not an integer (%g)", d);
			return -1;
		}
		if (d < -9223372036854775808.0 || d >= 18446744073709551616.0) {
			snprintf(why, whylen, "is out of the 64-bit range (%g)", d);
			return -1;
		}
		*out = d < 0 ? (uint64_t)(int64_t)d : (uint64_t)d;
		return 0;
	}
	if (JSValueIsBigInt(ctx, v)) {
		if (JSValueCompareInt64(ctx, v, INT64_MIN, NULL) == kJSRelationConditionLessThan ||
		    JSValueCompareUInt64(ctx, v, UINT64_MAX, NULL) ==
			kJSRelationConditionGreaterThan) {
			snprintf(why, whylen, "is a BigInt out of the 64-bit range");
			return -1;
		}
		if (JSValueCompareInt64(ctx, v, 0, NULL) == kJSRelationConditionLessThan)
			*out = (uint64_t)JSValueToInt64(ctx, v, NULL);
		else
			*out = JSValueToUInt64(ctx, v, NULL);
		return 0;
	}
	static const char *const types[] = {"undefined", "null",      "a boolean", "a number",
					    "a string",	 "an object", "a symbol",  "a BigInt"};
	JSType t = JSValueGetType(ctx, v);
	snprintf(why, whylen, "is %s, expected a number or BigInt",
		 (size_t)t < JV_ARRAY_SIZE(types) ? types[t] : "of another type");
	return -1;
}

char *js_strref_cstr(JSStringRef s)
{
	size_t n = JSStringGetMaximumUTF8CStringSize(s);
	char *buf = xmalloc(n);
	JSStringGetUTF8CString(s, buf, n);
	return buf;
}

char *js_cstr(JSContextRef ctx, JSValueRef v)
{
	JSStringRef s = JSValueToStringCopy(ctx, v, NULL);
	if (!s)
		return xstrdup("?");
	char *r = js_strref_cstr(s);
	JSStringRelease(s);
	return r;
}

JSValueRef js_str(JSContextRef ctx, const char *s)
{
	JSStringRef r = JSStringCreateWithUTF8CString(s);
	JSValueRef v = JSValueMakeString(ctx, r);
	JSStringRelease(r);
	return v;
}

void js_set_prop(JSContextRef ctx, JSObjectRef o, const char *name, JSValueRef v)
{
	JSStringRef n = JSStringCreateWithUTF8CString(name);
	JSObjectSetProperty(ctx, o, n, v, kJSPropertyAttributeNone, NULL);
	JSStringRelease(n);
}

JSValueRef js_get_prop(JSContextRef ctx, JSObjectRef o, const char *name)
{
	JSStringRef n = JSStringCreateWithUTF8CString(name);
	JSValueRef v = JSObjectGetProperty(ctx, o, n, NULL);
	JSStringRelease(n);
	return v;
}

void js_exception_info(JSContextRef ctx, JSValueRef exc, char *where, size_t wlen, char *msg,
		       size_t mlen)
{
	_cleanup_free_ char *text = js_cstr(ctx, exc);
	snprintf(msg, mlen, "%s", text);
	if (!where)
		return;
	JSObjectRef o = JSValueIsObject(ctx, exc) ? JSValueToObject(ctx, exc, NULL) : NULL;
	JSValueRef url = o ? js_get_prop(ctx, o, "sourceURL") : NULL;
	JSValueRef line = o ? js_get_prop(ctx, o, "line") : NULL;
	if (url && JSValueIsString(ctx, url) && line && JSValueIsNumber(ctx, line)) {
		_cleanup_free_ char *u = js_cstr(ctx, url);
		snprintf(where, wlen, "%s:%d", u, (int)JSValueToNumber(ctx, line, NULL));
	} else {
		where[0] = '\0';
	}
}

JSValueRef js_make_error(JSContextRef ctx, int err, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	JSValueRef msg = js_str(ctx, buf);
	JSObjectRef o = JSObjectMakeError(ctx, 1, &msg, NULL);
	if (err) {
		js_set_prop(ctx, o, "errno", JSValueMakeNumber(ctx, err));
		const char *name = jv_errno_name(err);
		js_set_prop(ctx, o, "code", js_str(ctx, name ? name : "EUNKNOWN"));
	}
	return o;
}

char *js_display(JSContextRef ctx, JSValueRef v)
{
	if (JSValueIsObject(ctx, v) && !JSObjectIsFunction(ctx, JSValueToObject(ctx, v, NULL))) {
		JSValueRef exc = NULL;
		JSStringRef s = JSValueCreateJSONString(ctx, v, 0, &exc);
		if (s) {
			char *r = js_strref_cstr(s);
			JSStringRelease(s);
			return r;
		}
	}
	return js_cstr(ctx, v);
}
