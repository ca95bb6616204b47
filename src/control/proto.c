/* Framing, answers and field checks of the control protocol (see proto.h). */
#include "control/proto.h"

#include <stdarg.h>

#include "common/util.h"

void proto_feed(struct proto_in *in, const void *data, size_t n)
{
	if (in->skipping) {
		/* Only the part after the next newline matters. */
		const char *nl = memchr(data, '\n', n);
		if (!nl)
			return;
		in->skipping = false;
		n -= (size_t)(nl + 1 - (const char *)data);
		data = nl + 1;
	}
	if (in->len + n + 1 > in->cap) {
		size_t cap = in->cap ? in->cap : 4096;
		while (cap < in->len + n + 1)
			cap *= 2;
		in->buf = xrealloc(in->buf, cap);
		in->cap = cap;
	}
	memcpy(in->buf + in->len, data, n);
	in->len += n;
	in->buf[in->len] = 0;
}

static void consume(struct proto_in *in, size_t n)
{
	if (!in->buf)
		return;
	if (n > in->len)
		n = in->len;
	memmove(in->buf, in->buf + n, in->len - n);
	in->len -= n;
	in->buf[in->len] = 0;
}

/* Drop everything up to and including the first newline at or after from;
 * without one, drop the rest and skip until a newline arrives. */
static void skip_line(struct proto_in *in, size_t from)
{
	if (from > in->len)
		from = in->len;
	const char *nl = memchr(in->buf + from, '\n', in->len - from);
	if (nl) {
		consume(in, (size_t)(nl + 1 - in->buf));
	} else {
		consume(in, in->len);
		in->skipping = true;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum proto_frame proto_take(struct proto_in *in, bool eof, struct proto_next *out)
{
	memset(out, 0, sizeof(*out));
	size_t ws = 0;
	while (ws < in->len && is_space(in->buf[ws]))
		ws++;
	consume(in, ws);
	if (in->len == 0)
		return PROTO_MORE;
	json_error_t je;
	size_t n = in->len > PROTO_MAX_REQUEST ? PROTO_MAX_REQUEST : in->len;
	json_t *v = json_loadb(in->buf, n, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);
	if (!v) {
		bool premature = json_error_code(&je) == json_error_premature_end_of_input;
		if (premature && in->len < PROTO_MAX_REQUEST && !eof)
			return PROTO_MORE;
		if (premature && in->len >= PROTO_MAX_REQUEST) {
			out->error = proto_error("request over %d bytes: skipped up to the next "
						 "newline",
						 PROTO_MAX_REQUEST);
			skip_line(in, PROTO_MAX_REQUEST);
			return PROTO_ERROR;
		}
		out->error = proto_error("invalid JSON at line %d column %d: %s", je.line,
					 je.column, je.text);
		skip_line(in, je.position > 0 ? (size_t)je.position - 1 : 0);
		return PROTO_ERROR;
	}
	size_t used = je.position;
	if (used > in->len)
		used = in->len;
	/* What follows the value on its line: a newline keeps the connection. */
	size_t p = used;
	while (p < in->len && (in->buf[p] == ' ' || in->buf[p] == '\t' || in->buf[p] == '\r'))
		p++;
	if (p < in->len && in->buf[p] != '\n') {
		/* More text on the line: two values, or garbage after one. */
		json_decref(v);
		out->error = proto_error("invalid JSON: unexpected text after the request at "
					 "byte %zu (one request per line)",
					 used);
		skip_line(in, used);
		return PROTO_ERROR;
	}
	bool last = p >= in->len;
	consume(in, last ? p : p + 1);
	if (!json_is_object(v)) {
		json_decref(v);
		out->error = proto_error("a request must be a JSON object {\"type\": ..., "
					 "\"payload\": ...}");
		out->last = last;
		return PROTO_ERROR;
	}
	out->req = v;
	out->last = last;
	return PROTO_REQUEST;
}

void proto_in_free(struct proto_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

/* Copy s with invalid UTF-8 sequences replaced by U+FFFD. */
static char *utf8_repair(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(n * 3 + 1);
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		size_t len = c < 0x80		  ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		bool ok = len > 0 && !(len == 2 && c < 0xc2) && !(len == 4 && c > 0xf4);
		for (size_t i = 1; ok && i < len; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (ok && len == 3) {
			unsigned cp = ((c & 0x0f) << 12) | ((p[1] & 0x3f) << 6) | (p[2] & 0x3f);
			ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
		} else if (ok && len == 4) {
			unsigned cp = ((c & 0x07) << 18) | ((p[1] & 0x3f) << 12);
			ok = cp >= 0x10000 && cp <= 0x10ffff;
		}
		if (ok) {
			memcpy(out + o, p, len);
			o += len;
			p += len;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	out[o] = 0;
	return out;
}

json_t *proto_str(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j)
		return j;
	_cleanup_free_ char *fixed = utf8_repair(s);
	j = json_string(fixed);
	return j ? j : json_string("?");
}

static json_t *answer(const char *type, const char *message, json_t *payload)
{
	json_t *a = json_object();
	json_object_set_new(a, "type", json_string(type));
	json_object_set_new(a, "message", proto_str(message));
	json_object_set_new(a, "payload", payload ? payload : json_null());
	return a;
}

json_t *proto_ok(const char *message, json_t *payload)
{
	return answer("ok", message, payload);
}

json_t *proto_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return answer("error", msg, NULL);
}

char *proto_dump(json_t *a, size_t *len)
{
	char *s = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (!s) {
		json_t *e = proto_error("internal error: the answer could not be encoded");
		s = json_dumps(e, JSON_COMPACT);
		json_decref(e);
	}
	size_t n = strlen(s);
	char *line = xmalloc(n + 2);
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = 0;
	free(s);
	*len = n + 1;
	return line;
}

const char *proto_get_str(json_t *o, const char *key, bool required, char *err, size_t errlen)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (!v || json_is_null(v)) {
		if (required)
			snprintf(err, errlen, "missing field '%s' (a string)", key);
		else
			err[0] = 0;
		return NULL;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field '%s' must be a string", key);
		return NULL;
	}
	err[0] = 0;
	return json_string_value(v);
}

int proto_get_int(json_t *o, const char *key, bool required, long long min, long long max,
		  long long *out, char *err, size_t errlen)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "missing field '%s' (an integer)", key);
		return -1;
	}
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "field '%s' must be an integer", key);
		return -1;
	}
	long long x = json_integer_value(v);
	if (x < min || x > max) {
		snprintf(err, errlen, "field '%s' is %lld, outside %lld..%lld", key, x, min, max);
		return -1;
	}
	*out = x;
	return 1;
}
