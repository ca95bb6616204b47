/* Native accessors: a declarative table of functions over src/accessors and
 * the tracer. Each binding checks its arguments, never trusts tracee
 * pointers, and throws an Error with .errno/.code on failure. */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "accessors/mem.h"
#include "common/util.h"
#include "js/internal.h"
#include "log/log.h"
#include "tracer/tracer.h"

#define BINDING(fname)                                                                             \
	static JSValueRef fname(JSContextRef ctx, JSObjectRef fn_, JSObjectRef self_, size_t argc, \
				const JSValueRef argv[], JSValueRef *exc)

#define MAX_IO (64u << 20) /* largest single read or write: 64 MiB */

/* The hook call in progress, or throw. */
static struct hook_event *need_call(JSContextRef ctx, const char *api, JSValueRef *exc)
{
	if (!js_current)
		*exc = js_make_error(ctx, 0, "accessors.%s can only be called from a hook", api);
	return js_current;
}

struct hook_event *js_need_stopped(JSContextRef ctx, const char *api, JSValueRef *exc)
{
	if (js_current && js_current->observed) {
		*exc = js_make_error(
		    ctx, ENOTSUP,
		    "accessors.%s is not available in an observe-mode hook: the program was not "
		    "stopped for this call and has gone on (use event.args, or register the hook "
		    "with mode \"ptrace\" or \"notify\")",
		    api);
		return NULL;
	}
	return need_call(ctx, api, exc);
}

static bool arg_u64(JSContextRef ctx, size_t argc, const JSValueRef argv[], size_t i,
		    const char *api, const char *what, uint64_t *out, JSValueRef *exc)
{
	char why[128];
	if (i >= argc) {
		*exc = js_make_error(ctx, EINVAL, "accessors.%s: missing argument '%s'", api, what);
		return false;
	}
	if (js_to_u64(ctx, argv[i], out, why, sizeof(why)) < 0) {
		*exc = js_make_error(ctx, EINVAL, "accessors.%s: '%s' %s", api, what, why);
		return false;
	}
	return true;
}

static JSValueRef throw_err(JSContextRef ctx, const char *api, const struct jv_error *e,
			    JSValueRef *exc)
{
	*exc = js_make_error(ctx, e->errnum, "accessors.%s: %s", api, e->msg);
	return NULL;
}

/* "file.js:12" of the script line that called the native accessor now running. */
static void caller_where(JSContextRef ctx, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	JSObjectRef err = JSObjectMakeError(ctx, 0, NULL, NULL);
	if (!err)
		return;
	_cleanup_free_ char *stack = js_cstr(ctx, js_get_prop(ctx, err, "stack"));
	/* Frames are "fn@url:line:col", innermost first; skip native frames. */
	char *save = NULL;
	for (char *l = strtok_r(stack, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *at = strrchr(l, '@');
		char *url = at ? at + 1 : l;
		char *col = strrchr(url, ':');
		if (!col || strstr(url, "[native code]"))
			continue;
		*col = '\0';
		snprintf(buf, len, "%s", url);
		return;
	}
}

BINDING(acc_print)
{
	(void)fn_, (void)self_, (void)exc;
	size_t cap = 256, len = 0;
	_cleanup_free_ char *line = xmalloc(cap);
	for (size_t i = 0; i < argc; i++) {
		_cleanup_free_ char *s = js_display(ctx, argv[i]);
		size_t n = strlen(s);
		if (len + n + 2 > cap)
			line = xrealloc(line, cap = (len + n + 2) * 2);
		if (i)
			line[len++] = ' ';
		memcpy(line + len, s, n);
		len += n;
	}
	if (log_active && log_has_sinks()) {
		/* Into the event log, with who printed it and where (a log that only
		 * counts for --summary has no sink: then stderr). */
		char where[256];
		caller_where(ctx, where, sizeof(where));
		line[len] = '\0';
		const struct hook_event *ev = js_current;
		log_hook_print(ev ? ev->pid : 0, ev ? ev->tid : 0, where, line);
		return JSValueMakeNull(ctx);
	}
	line[len++] = '\n';
	fflush(stdout);
	(void)jv_write_all(2, line, len);
	return JSValueMakeNull(ctx);
}

BINDING(acc_log_json)
{
	(void)fn_, (void)self_, (void)exc;
	/* Always valid JSON: strings quoted, undefined and functions as null. */
	JSStringRef js = argc ? JSValueCreateJSONString(ctx, argv[0], 0, NULL) : NULL;
	_cleanup_free_ char *s = js ? js_strref_cstr(js) : xstrdup("null");
	if (js)
		JSStringRelease(js);
	const struct hook_event *ev = js_current;
	if (log_active && log_has_sinks()) {
		char where[256];
		caller_where(ctx, where, sizeof(where));
		log_hook_json(ev ? ev->pid : 0, ev ? ev->tid : 0, where, s);
		return JSValueMakeNull(ctx);
	}
	fprintf(stderr, "{\"type\":\"log\",\"pid\":%d,\"tid\":%d,\"value\":%s}\n",
		ev ? (int)ev->pid : 0, ev ? (int)ev->tid : 0, s);
	return JSValueMakeNull(ctx);
}

BINDING(acc_read_bytes)
{
	(void)fn_, (void)self_;
	struct hook_event *ev = js_need_stopped(ctx, "readBytes", exc);
	uint64_t addr, n;
	if (!ev || !arg_u64(ctx, argc, argv, 0, "readBytes", "addr", &addr, exc) ||
	    !arg_u64(ctx, argc, argv, 1, "readBytes", "count", &n, exc))
		return NULL;
	if (n > MAX_IO) {
		*exc = js_make_error(ctx, EINVAL, "accessors.readBytes: count %llu is over %u",
				     (unsigned long long)n, MAX_IO);
		return NULL;
	}
	void *buf = xmalloc((size_t)n);
	struct jv_error e;
	ssize_t r = mem_read(ev->tid, addr, buf, (size_t)n, &e);
	if (r < 0) {
		free(buf);
		return throw_err(ctx, "readBytes", &e, exc);
	}
	return JSObjectMakeArrayBufferWithBytesNoCopy(
	    ctx, buf, (size_t)r, (JSTypedArrayBytesDeallocator)(void (*)(void))free, NULL, exc);
}

/* A JS string of tracee bytes: UTF-8 decoded, each invalid byte as U+FFFD
 * (JSStringCreateWithUTF8CString would give "" for the whole string). */
static JSValueRef lenient_str(JSContextRef ctx, const char *s, size_t n)
{
	_cleanup_free_ JSChar *u = xmalloc((n ? n : 1) * sizeof(JSChar));
	size_t k = 0;
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		uint32_t c = *p, min = 0;
		int len = 0; /* 0: not a lead byte */
		if (c < 0x80)
			len = 1;
		else if ((c & 0xe0) == 0xc0)
			len = 2;
		else if ((c & 0xf0) == 0xe0)
			len = 3;
		else if ((c & 0xf8) == 0xf0)
			len = 4;
		if (len == 2)
			c &= 0x1f, min = 0x80;
		else if (len == 3)
			c &= 0x0f, min = 0x800;
		else if (len == 4)
			c &= 0x07, min = 0x10000;
		bool ok = len > 0 && end - p >= len;
		for (int i = 1; ok && i < len; i++) {
			ok = (p[i] & 0xc0) == 0x80;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if (!ok || c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
			u[k++] = 0xfffd;
			p++;
			continue;
		}
		p += len;
		if (c >= 0x10000) {
			c -= 0x10000;
			u[k++] = (JSChar)(0xd800 + (c >> 10));
			u[k++] = (JSChar)(0xdc00 + (c & 0x3ff));
		} else {
			u[k++] = (JSChar)c;
		}
	}
	JSStringRef r = JSStringCreateWithCharacters(u, k);
	JSValueRef v = JSValueMakeString(ctx, r);
	JSStringRelease(r);
	return v;
}

BINDING(acc_read_string)
{
	(void)fn_, (void)self_;
	struct hook_event *ev = js_need_stopped(ctx, "readString", exc);
	uint64_t addr, max = 4096;
	if (!ev || !arg_u64(ctx, argc, argv, 0, "readString", "addr", &addr, exc))
		return NULL;
	if (argc > 1 && !JSValueIsUndefined(ctx, argv[1]) &&
	    !arg_u64(ctx, argc, argv, 1, "readString", "max", &max, exc))
		return NULL;
	if (max > MAX_IO)
		max = MAX_IO;
	_cleanup_free_ char *s = NULL;
	struct jv_error e;
	ssize_t n = mem_read_string(ev->tid, addr, (size_t)max, &s, &e);
	if (n < 0)
		return throw_err(ctx, "readString", &e, exc);
	return lenient_str(ctx, s, (size_t)n);
}

/* Bytes of an ArrayBuffer, typed array, DataView or array of numbers. */
static uint8_t *bytes_of(JSContextRef ctx, JSValueRef v, size_t *n, JSValueRef *exc)
{
	if (JSValueIsString(ctx, v)) {
		char *s = js_cstr(ctx, v);
		*n = strlen(s);
		return (uint8_t *)s;
	}
	if (!JSValueIsObject(ctx, v)) {
		*exc = js_make_error(ctx, EINVAL,
				     "accessors.writeBytes: buffer must be an "
				     "ArrayBuffer, a typed array or an array of bytes");
		return NULL;
	}
	JSObjectRef o = JSValueToObject(ctx, v, NULL);
	JSTypedArrayType t = JSValueGetTypedArrayType(ctx, v, NULL);
	const uint8_t *src = NULL;
	if (t == kJSTypedArrayTypeArrayBuffer) {
		src = JSObjectGetArrayBufferBytesPtr(ctx, o, NULL);
		*n = JSObjectGetArrayBufferByteLength(ctx, o, NULL);
	} else if (t != kJSTypedArrayTypeNone) {
		src = (const uint8_t *)JSObjectGetTypedArrayBytesPtr(ctx, o, NULL);
		*n = JSObjectGetTypedArrayByteLength(ctx, o, NULL);
		if (src)
			src += JSObjectGetTypedArrayByteOffset(ctx, o, NULL);
	} else if (JSValueIsArray(ctx, v)) {
		size_t len = (size_t)JSValueToNumber(ctx, js_get_prop(ctx, o, "length"), NULL);
		if (len > MAX_IO) {
			*exc = js_make_error(ctx, EINVAL, "accessors.writeBytes: array too long");
			return NULL;
		}
		uint8_t *buf = xmalloc(len);
		for (size_t i = 0; i < len; i++) {
			double d = JSValueToNumber(
			    ctx, JSObjectGetPropertyAtIndex(ctx, o, (unsigned)i, NULL), NULL);
			if (!(d >= 0 && d <= 255 && d == (int)d)) {
				free(buf);
				*exc = js_make_error(ctx, EINVAL,
						     "accessors.writeBytes: element %zu is not a "
						     "byte (0..255)",
						     i);
				return NULL;
			}
			buf[i] = (uint8_t)d;
		}
		*n = len;
		return buf;
	} else {
		*exc = js_make_error(ctx, EINVAL,
				     "accessors.writeBytes: buffer must be an "
				     "ArrayBuffer, a typed array or an array of bytes");
		return NULL;
	}
	uint8_t *copy = xmalloc(*n);
	if (*n && src)
		memcpy(copy, src, *n);
	return copy;
}

BINDING(acc_write_bytes)
{
	(void)fn_, (void)self_;
	struct hook_event *ev = js_need_stopped(ctx, "writeBytes", exc);
	uint64_t addr;
	if (!ev || !arg_u64(ctx, argc, argv, 0, "writeBytes", "addr", &addr, exc))
		return NULL;
	if (argc < 2) {
		*exc =
		    js_make_error(ctx, EINVAL, "accessors.writeBytes: missing argument 'buffer'");
		return NULL;
	}
	size_t n = 0;
	_cleanup_free_ uint8_t *buf = bytes_of(ctx, argv[1], &n, exc);
	if (!buf)
		return NULL;
	struct jv_error e;
	ssize_t w = mem_write(ev->tid, addr, buf, n, &e);
	if (w < 0)
		return throw_err(ctx, "writeBytes", &e, exc);
	return JSValueMakeNumber(ctx, (double)w);
}

BINDING(acc_write_string)
{
	(void)fn_, (void)self_;
	struct hook_event *ev = js_need_stopped(ctx, "writeString", exc);
	uint64_t addr;
	if (!ev || !arg_u64(ctx, argc, argv, 0, "writeString", "addr", &addr, exc))
		return NULL;
	if (argc < 2) {
		*exc = js_make_error(ctx, EINVAL, "accessors.writeString: missing argument 'str'");
		return NULL;
	}
	_cleanup_free_ char *s = js_cstr(ctx, argv[1]);
	/* writeString(addr, str, {nul: true}) or writeString(addr, str, true) also
	 * writes the terminating NUL. */
	bool nul = false;
	if (argc > 2 && JSValueIsObject(ctx, argv[2]))
		nul = JSValueToBoolean(
		    ctx, js_get_prop(ctx, JSValueToObject(ctx, argv[2], NULL), "nul"));
	else if (argc > 2)
		nul = JSValueToBoolean(ctx, argv[2]);
	struct jv_error e;
	ssize_t w = mem_write(ev->tid, addr, s, strlen(s) + nul, &e);
	if (w < 0)
		return throw_err(ctx, "writeString", &e, exc);
	return JSValueMakeNumber(ctx, (double)w);
}

BINDING(acc_anon_mmap)
{
	(void)fn_, (void)self_;
	struct hook_event *ev = js_need_stopped(ctx, "anonMmap", exc);
	uint64_t len;
	if (!ev || !arg_u64(ctx, argc, argv, 0, "anonMmap", "length", &len, exc))
		return NULL;
	uint64_t a[6] = {0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1,
			 0};
	int64_t r;
	struct jv_error e;
	if (tracer_inject(ev->thread, SYS_mmap, a, &r, &e) < 0)
		return throw_err(ctx, "anonMmap", &e, exc);
	if (r < 0 && r >= -4095) {
		jv_err(&e, (int)-r, "mmap of %llu bytes in the program failed",
		       (unsigned long long)len);
		return throw_err(ctx, "anonMmap", &e, exc);
	}
	return js_num64(ctx, (uint64_t)r);
}

BINDING(acc_munmap)
{
	(void)fn_, (void)self_;
	struct hook_event *ev = js_need_stopped(ctx, "munmap", exc);
	uint64_t addr, len;
	if (!ev || !arg_u64(ctx, argc, argv, 0, "munmap", "addr", &addr, exc) ||
	    !arg_u64(ctx, argc, argv, 1, "munmap", "length", &len, exc))
		return NULL;
	uint64_t a[6] = {addr, len, 0, 0, 0, 0};
	int64_t r;
	struct jv_error e;
	if (tracer_inject(ev->thread, SYS_munmap, a, &r, &e) < 0)
		return throw_err(ctx, "munmap", &e, exc);
	if (r < 0) {
		jv_err(&e, (int)-r, "munmap(0x%llx, %llu) in the program failed",
		       (unsigned long long)addr, (unsigned long long)len);
		return throw_err(ctx, "munmap", &e, exc);
	}
	return JSValueMakeNull(ctx);
}

/* pinString(argIndex, max = 4096) / pinBytes(argIndex, length): the argument
 * copied where the program cannot write it, and the register pointed at the
 * copy (src/tracer/pin.c). */
static JSValueRef pin(JSContextRef ctx, size_t argc, const JSValueRef argv[], bool string,
		      JSValueRef *exc)
{
	const char *api = string ? "pinString" : "pinBytes";
	struct hook_event *ev = js_need_stopped(ctx, api, exc);
	uint64_t argi, max = 4096;
	if (!ev || !arg_u64(ctx, argc, argv, 0, api, "argIndex", &argi, exc))
		return NULL;
	if ((string && argc > 1 && !JSValueIsUndefined(ctx, argv[1])) || !string) {
		if (!arg_u64(ctx, argc, argv, 1, api, string ? "max" : "length", &max, exc))
			return NULL;
	}
	if (argi > 5 || max > MAX_IO) {
		*exc = js_make_error(ctx, EINVAL, "accessors.%s: %s", api,
				     argi > 5 ? "'argIndex' is not 0..5" : "size too large");
		return NULL;
	}
	uint8_t *copy = NULL;
	struct jv_error e;
	ssize_t n = tracer_pin(ev->thread, (int)argi, (size_t)max, string, &copy, &e);
	if (n < 0)
		return throw_err(ctx, api, &e, exc);
	if (string) {
		JSValueRef v = lenient_str(ctx, (const char *)copy, (size_t)n);
		free(copy);
		return v;
	}
	return JSObjectMakeArrayBufferWithBytesNoCopy(
	    ctx, copy, (size_t)n, (JSTypedArrayBytesDeallocator)(void (*)(void))free, NULL, exc);
}

BINDING(acc_pin_string)
{
	(void)fn_, (void)self_;
	return pin(ctx, argc, argv, true, exc);
}

BINDING(acc_pin_bytes)
{
	(void)fn_, (void)self_;
	return pin(ctx, argc, argv, false, exc);
}

static const struct js_binding table[] = {
    {"print", acc_print},
    {"logJson", acc_log_json},
    {"readBytes", acc_read_bytes},
    {"readString", acc_read_string},
    {"writeBytes", acc_write_bytes},
    {"writeString", acc_write_string},
    {"anonMmap", acc_anon_mmap},
    {"munmap", acc_munmap},
    {"pinString", acc_pin_string},
    {"pinBytes", acc_pin_bytes},
};

void js_bind_table(JSContextRef ctx, JSObjectRef obj, const struct js_binding *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		JSStringRef name = JSStringCreateWithUTF8CString(t[i].name);
		JSObjectSetProperty(ctx, obj, name,
				    JSObjectMakeFunctionWithCallback(ctx, name, t[i].fn),
				    kJSPropertyAttributeDontDelete, NULL);
		JSStringRelease(name);
	}
}

void js_bind_accessors(JSContextRef ctx, JSObjectRef obj)
{
	js_bind_table(ctx, obj, table, JV_ARRAY_SIZE(table));
	js_bind_proc_accessors(ctx, obj);
}
