/* Private to src/js/. */
#pragma once

#include <JavaScriptCore/JavaScript.h>

#include "common/error.h"
#include "hooks/hooks.h"

extern JSGlobalContextRef js_ctx;
/* The hook call in progress (NULL outside hook calls). */
extern struct hook_event *js_current;
extern JSObjectRef js_current_obj;

/* Conversions (convert.c). */
JSValueRef js_num64(JSContextRef ctx, uint64_t v);
/* A number or BigInt to 64 bits; -1 with a reason in why on failure. */
int js_to_u64(JSContextRef ctx, JSValueRef v, uint64_t *out, char *why, size_t whylen);
/* A malloc'd UTF-8 copy of String(v) (or of a JSStringRef). */
char *js_cstr(JSContextRef ctx, JSValueRef v);
char *js_strref_cstr(JSStringRef s);
JSValueRef js_str(JSContextRef ctx, const char *s);
/* "file:line" and message of an exception value. */
void js_exception_info(JSContextRef ctx, JSValueRef exc, char *where, size_t wlen, char *msg,
		       size_t mlen);
/* Make an Error to throw, with .errno and .code when err != 0. */
JSValueRef js_make_error(JSContextRef ctx, int err, const char *fmt, ...) JV_PRINTF(3, 4);
/* Text of v for print(): strings as they are, objects as JSON. */
char *js_display(JSContextRef ctx, JSValueRef v);
void js_set_prop(JSContextRef ctx, JSObjectRef o, const char *name, JSValueRef v);
JSValueRef js_get_prop(JSContextRef ctx, JSObjectRef o, const char *name);

/* A declarative table of native functions, installed on an object. */
struct js_binding {
	const char *name;
	JSObjectCallAsFunctionCallback fn;
};
void js_bind_table(JSContextRef ctx, JSObjectRef obj, const struct js_binding *t, size_t n);

/* The hook call in progress when it may use the stopped thread (not an
 * observe-mode call), else NULL with *exc set (bindings.c). */
struct hook_event *js_need_stopped(JSContextRef ctx, const char *api, JSValueRef *exc);
/* Accessor bindings (bindings.c): fill obj with the native accessors. */
void js_bind_accessors(JSContextRef ctx, JSObjectRef obj);
/* The process accessors (bindings_proc.c), called by js_bind_accessors(). */
void js_bind_proc_accessors(JSContextRef ctx, JSObjectRef obj);
/* The event object given to hooks as `this` (event.c). */
JSObjectRef js_make_event(JSContextRef ctx, const struct hook_event *ev);
