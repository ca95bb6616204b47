/* Script runs for the control socket: the value a script ends with, as JSON. */
#include "js/js.h"

#include "common/util.h"
#include "js/internal.h"

int js_eval_json(const char *src, const char *url, char **json, struct jv_error *e)
{
	*json = NULL;
	if (!js_ctx)
		return jv_err(e, 0, "the JavaScript engine is not running");
	JSStringRef s = JSStringCreateWithUTF8CString(src);
	JSStringRef u = JSStringCreateWithUTF8CString(url);
	JSValueRef exc = NULL, r = NULL;
	uint64_t t0 = jv_now_ns();
	if (JSCheckScriptSyntax(js_ctx, s, u, 1, &exc))
		r = JSEvaluateScript(js_ctx, s, NULL, u, 1, &exc);
	JSStringRelease(s);
	JSStringRelease(u);
	if (exc) {
		char where[512], msg[768];
		js_exception_info(js_ctx, exc, where, sizeof(where), msg, sizeof(msg));
		if (strstr(msg, "execution terminated") || strstr(msg, "timed out") ||
		    strstr(msg, "Timeout"))
			return jv_err(e, 0, "%s: the script ran past its time limit (%.0f ms)",
				      where[0] ? where : url, (double)(jv_now_ns() - t0) / 1e6);
		return jv_err(e, 0, "%s: %s", where[0] ? where : url, msg);
	}
	if (!r || JSValueIsUndefined(js_ctx, r))
		return 0;
	exc = NULL;
	JSStringRef j = JSValueCreateJSONString(js_ctx, r, 0, &exc);
	if (exc || !j) {
		if (j)
			JSStringRelease(j);
		*json = NULL; /* a cycle, a BigInt: no JSON form */
		return 0;
	}
	*json = js_strref_cstr(j);
	JSStringRelease(j);
	return 0;
}

char *js_hook_name(const struct hook *h)
{
	if (!js_ctx || !h->fn)
		return xstrdup("");
	JSValueRef n = js_get_prop(js_ctx, (JSObjectRef)h->fn, "name");
	if (!n || !JSValueIsString(js_ctx, n))
		return xstrdup("");
	return js_cstr(js_ctx, n);
}
