/* The web viewer's HTTP server (libmicrohttpd, a thread per connection):
 * routes, parameters, tokens, the live stream and the control forwarding. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "common/sbuf.h"
#include "syscalls/syscalls.h"
#include "web/index.h"
#include "web/web.h"

struct asset {
	const char *path, *type;
	const unsigned char *data;
	size_t len;
};
#include "web_assets.inc"

#define MAX_BODY (1024 * 1024)
#define MAX_LIMIT 1000
#define SSE_BATCH 200

static struct MHD_Daemon *daemon_;
static struct web_index *idx;
static pthread_mutex_t ilock = PTHREAD_MUTEX_INITIALIZER;
static char token[33];
static bool loopback, live;
static volatile bool ended, stopping;
static char *control_path; /* the control socket (unix) or NULL */
static int sse_unended;	   /* streams that have not said "ended" yet (atomic) */
static int reqs_open;	   /* requests other than streams not yet answered (atomic) */

struct req {
	struct sbuf body;
	bool too_big;
	bool counted; /* in reqs_open */
};

/* ---- responses ---- */

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type,
				char *data, size_t len, bool owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    len, data, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_sb(struct MHD_Connection *c, unsigned status, struct sbuf *b)
{
	if (!b->p)
		sb_puts(b, "null");
	return send_buf(c, status, "application/json", b->p, b->len, true);
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return MHD_NO;
	return send_buf(c, status, "application/json", s, strlen(s), true);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    JV_PRINTF(3, 4);
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_json(c, status, json_pack("{s:s}", "error", msg));
}

/* ---- parameters ---- */

static const char *arg(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

/* A non-negative integer parameter; def when absent; -1 (with msg) when bad. */
static long long num_arg(struct MHD_Connection *c, const char *k, long long def, long long max,
			 char *msg, size_t msglen)
{
	const char *s = arg(c, k);
	if (!s || !*s)
		return def;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || v > max || !isdigit((unsigned char)s[0])) {
		snprintf(msg, msglen, "parameter '%s': '%.40s' is not a number in 0..%lld", k, s,
			 max);
		return -1;
	}
	return v;
}

static int bool_arg(struct MHD_Connection *c, const char *k, char *msg, size_t msglen)
{
	const char *s = arg(c, k);
	if (!s || !*s || !strcmp(s, "0") || !strcmp(s, "false"))
		return 0;
	if (!strcmp(s, "1") || !strcmp(s, "true"))
		return 1;
	snprintf(msg, msglen, "parameter '%s': '%.40s' is not 0, 1, true or false", k, s);
	return -1;
}

static const struct {
	const char *name;
	unsigned mask;
} class_names[] = {
    {"file", SC_FILE},	     {"desc", SC_DESC},	    {"network", SC_NETWORK}, {"net", SC_NETWORK},
    {"process", SC_PROCESS}, {"signal", SC_SIGNAL}, {"memory", SC_MEMORY},   {"ipc", SC_IPC},
    {"creds", SC_CREDS},     {"clock", SC_CLOCK},   {"stat", SC_STAT},	     {"lstat", SC_LSTAT},
    {"fstat", SC_FSTAT},     {"statfs", SC_STATFS}, {"fstatfs", SC_FSTATFS}, {"pure", SC_PURE},
};

/* Parse the event filter of a request; -1 with msg on a bad parameter. */
static int parse_filter(struct MHD_Connection *c, struct wi_filter *f, char *msg, size_t ml)
{
	struct sbuf key = {0};
	long long v;
	memset(f, 0, sizeof(*f));
	if ((v = num_arg(c, "pid", 0, INT32_MAX, msg, ml)) < 0)
		goto bad;
	f->pid = (int)v;
	if ((v = num_arg(c, "tid", 0, INT32_MAX, msg, ml)) < 0)
		goto bad;
	f->tid = (int)v;
	int b;
	if ((b = bool_arg(c, "errors", msg, ml)) < 0)
		goto bad;
	f->errors = b;
	if ((b = bool_arg(c, "hooked", msg, ml)) < 0)
		goto bad;
	f->hooked = b;
	if ((b = bool_arg(c, "syscalls", msg, ml)) < 0)
		goto bad;
	f->syscalls_only = b;
	const char *s = arg(c, "name");
	if (s && *s) {
		size_t n = 0;
		_cleanup_free_ char *copy = xstrdup(s);
		for (char *save, *t = strtok_r(copy, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			for (const char *p = t; *p; p++)
				if (!isalnum((unsigned char)*p) && *p != '_') {
					snprintf(msg, ml,
						 "parameter 'name': '%.40s' is not a syscall name",
						 t);
					goto bad;
				}
			f->names = xrealloc(f->names, (n + 2) * sizeof(char *));
			f->names[n++] = xstrdup(t);
			f->names[n] = NULL;
		}
		if (!n) {
			snprintf(msg, ml, "parameter 'name': no syscall name");
			goto bad;
		}
	}
	s = arg(c, "class");
	if (s && *s) {
		_cleanup_free_ char *copy = xstrdup(s);
		for (char *save, *t = strtok_r(copy, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			const char *name = t[0] == '%' ? t + 1 : t;
			size_t i;
			for (i = 0; i < JV_ARRAY_SIZE(class_names); i++)
				if (!strcmp(name, class_names[i].name))
					break;
			if (i == JV_ARRAY_SIZE(class_names)) {
				snprintf(msg, ml, "parameter 'class': unknown class '%.40s'", t);
				goto bad;
			}
			f->classes |= class_names[i].mask;
		}
	}
	s = arg(c, "q");
	if (s && *s) {
		if (strlen(s) > 256) {
			snprintf(msg, ml, "parameter 'q': longer than 256 bytes");
			goto bad;
		}
		f->text = xstrdup(s);
		for (char *p = f->text; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	sb_printf(&key, "p%d t%d e%d h%d s%d c%u", f->pid, f->tid, f->errors, f->hooked,
		  f->syscalls_only, f->classes);
	if (f->names)
		for (char **p = f->names; *p; p++)
			sb_printf(&key, " n%s", *p);
	if (f->text)
		sb_printf(&key, " q%s", f->text);
	sb_putc(&key, 0);
	if (!strcmp(key.p, "p0 t0 e0 h0 s0 c0"))
		key.p[0] = 0;
	f->key = key.p;
	return 0;
bad:
	sb_free(&key);
	wi_filter_free(f);
	return -1;
}

/* ---- tokens and hosts ---- */

static bool token_eq(const char *t)
{
	return jv_secret_eq(t, token);
}

static bool header_token(struct MHD_Connection *c)
{
	return token_eq(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Jvisor-Token"));
}

static bool read_allowed(struct MHD_Connection *c)
{
	if (loopback)
		return true;
	return header_token(c) || token_eq(arg(c, "token"));
}

/* A loopback server answers only to loopback host names (DNS rebinding). */
static bool host_ok(struct MHD_Connection *c)
{
	if (!loopback)
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	if (!h)
		return true;
	if (!strcmp(h, "[::1]") || !strncmp(h, "[::1]:", 6))
		return true;
	char name[64];
	size_t n = strcspn(h, ":");
	if (n >= sizeof(name))
		return false;
	memcpy(name, h, n);
	name[n] = 0;
	if (h[n] == ':' && (!h[n + 1] || strspn(h + n + 1, "0123456789") != strlen(h + n + 1)))
		return false;
	struct in_addr a;
	if (inet_pton(AF_INET, name, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return !strcasecmp(name, "localhost");
}

/* ---- the control socket ---- */

static json_t *control_ask(json_t *req, char *msg, size_t ml)
{
	if (!control_path) {
		snprintf(msg, ml, "%s",
			 live ? "the viewer reaches the sandbox through a unix control socket "
				"(--control unix, unix:@NAME or unix:PATH), not this one"
			      : "this viewer shows a saved log: there is no sandbox to control");
		json_decref(req);
		return NULL;
	}
	if (ended) {
		snprintf(msg, ml, "the sandbox has ended");
		json_decref(req);
		return NULL;
	}
	/* One write for the request and its newline: the server answers a complete object
	 * at once and closes a seed-style connection soon after, so a newline sent on its
	 * own could meet a closed socket (EPIPE) on a loaded machine. */
	_cleanup_free_ char *obj = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	_cleanup_free_ char *line = xasprintf("%s\n", obj);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	int salen = jv_unix_addr(&sa, control_path); /* a path or "@NAME" */
	struct timeval tv = {.tv_sec = 20};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (fd < 0 || salen < 0 || connect(fd, (struct sockaddr *)&sa, (socklen_t)salen) < 0) {
		snprintf(msg, ml, "cannot reach the control socket: %s", strerror(errno));
		return NULL;
	}
	if (jv_write_all(fd, line, strlen(line)) < 0) {
		int err = errno;
		/* The program may have ended meanwhile: its control socket went with it. */
		if (ended)
			snprintf(msg, ml, "the sandbox has ended");
		else
			snprintf(msg, ml, "control socket: %s", strerror(err));
		return NULL;
	}
	struct sbuf b = {0};
	char buf[4096];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		sb_put(&b, buf, (size_t)r);
		if (memchr(buf, '\n', (size_t)r))
			break;
	}
	json_t *a = b.len ? json_loadb(b.p, b.len, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	sb_free(&b);
	if (!a)
		snprintf(msg, ml, "%s",
			 ended ? "the sandbox has ended" : "no answer from the control socket");
	return a;
}

/* Forward one request; answer {"ok":true,"payload":...} or an error. */
static enum MHD_Result forward(struct MHD_Connection *c, json_t *req)
{
	char msg[512];
	json_t *a = control_ask(req, msg, sizeof(msg));
	if (!a)
		return send_error(c, 409, "%s", msg);
	const char *type = json_string_value(json_object_get(a, "type"));
	if (!type || strcmp(type, "ok")) {
		const char *m = json_string_value(json_object_get(a, "message"));
		enum MHD_Result r = send_error(c, 400, "%s", m ? m : "the control request failed");
		json_decref(a);
		return r;
	}
	json_t *out =
	    json_pack("{s:b,s:O?,s:O?}", "ok", 1, "message", json_object_get(a, "message"),
		      "payload", json_object_get(a, "payload"));
	json_decref(a);
	return send_json(c, 200, out);
}

/* ---- the live stream (Server-Sent Events) ---- */

struct sse {
	size_t after;
	struct sbuf out;
	size_t pos;
	bool sent_ended, ended_pending;
	bool counted; /* in sse_unended */
	uint64_t last_send;
};

static void sse_fill(struct sse *s)
{
	pthread_mutex_lock(&ilock);
	wi_refresh(idx);
	size_t n = wi_count(idx);
	if (n > s->after) {
		size_t from = n - s->after > SSE_BATCH ? n - SSE_BATCH : s->after;
		sb_printf(&s->out, "id: %zu\nevent: records\ndata: {\"records\":%zu,\"events\":[",
			  n, n);
		for (size_t i = from; i < n; i++) {
			if (i > from)
				sb_putc(&s->out, ',');
			wi_put_record(idx, i, &s->out);
		}
		sb_puts(&s->out, "]}\n\n");
		s->after = n;
	}
	pthread_mutex_unlock(&ilock);
	if (ended && !s->sent_ended) {
		sb_puts(&s->out, "event: ended\ndata: {}\n\n");
		s->sent_ended = true;
		s->ended_pending = true;
	}
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	for (;;) {
		if (s->pos < s->out.len) {
			size_t n = s->out.len - s->pos;
			if (n > max)
				n = max;
			memcpy(buf, s->out.p + s->pos, n);
			s->pos += n;
			if (s->pos == s->out.len) {
				s->pos = s->out.len = 0;
				if (s->ended_pending && s->counted) {
					__atomic_sub_fetch(&sse_unended, 1, __ATOMIC_SEQ_CST);
					s->counted = s->ended_pending = false;
				}
			}
			s->last_send = jv_now_ns();
			return (ssize_t)n;
		}
		if (stopping) {
			if (ended && !s->sent_ended) {
				sse_fill(s); /* the last records and "ended" */
				continue;
			}
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		sse_fill(s);
		if (s->out.len)
			continue;
		if (jv_now_ns() - s->last_send > 15ull * 1000000000) {
			sb_puts(&s->out, ": ping\n\n");
			continue;
		}
		struct timespec ts = {0, 150 * 1000000};
		nanosleep(&ts, NULL);
	}
}

static void sse_free(void *cls)
{
	struct sse *s = cls;
	if (s->counted)
		__atomic_sub_fetch(&sse_unended, 1, __ATOMIC_SEQ_CST);
	sb_free(&s->out);
	free(s);
}

static enum MHD_Result stream(struct MHD_Connection *c)
{
	char msg[256];
	long long after = num_arg(c, "after", -1, INT64_MAX, msg, sizeof(msg));
	if (after == -1 && arg(c, "after"))
		return send_error(c, 400, "%s", msg);
	struct sse *s = xcalloc(1, sizeof(*s));
	pthread_mutex_lock(&ilock);
	wi_refresh(idx);
	size_t n = wi_count(idx);
	pthread_mutex_unlock(&ilock);
	s->after = after < 0 || (size_t)after > n ? n : (size_t)after;
	s->last_send = jv_now_ns();
	s->counted = true;
	__atomic_add_fetch(&sse_unended, 1, __ATOMIC_SEQ_CST);
	sb_printf(&s->out, "retry: 1000\nevent: hello\ndata: {\"records\":%zu,\"live\":%s}\n\n", n,
		  live && !ended ? "true" : "false");
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, s, sse_free);
	if (!r) {
		sse_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- the API ---- */

static enum MHD_Result events(struct MHD_Connection *c)
{
	char msg[256];
	struct wi_filter f;
	long long offset = num_arg(c, "offset", 0, INT32_MAX, msg, sizeof(msg));
	long long limit = offset < 0 ? 0 : num_arg(c, "limit", 100, MAX_LIMIT, msg, sizeof(msg));
	if (offset < 0 || limit < 0 || parse_filter(c, &f, msg, sizeof(msg)) < 0)
		return send_error(c, 400, "%s", msg);
	uint32_t *out = xmalloc(((size_t)limit + 1) * sizeof(uint32_t));
	struct sbuf b = {0};
	pthread_mutex_lock(&ilock);
	wi_refresh(idx);
	size_t total;
	size_t k = wi_query(idx, &f, (size_t)offset, (size_t)limit, out, &total);
	sb_printf(&b, "{\"records\":%zu,\"total\":%zu,\"offset\":%lld,\"events\":[", wi_count(idx),
		  total, offset);
	for (size_t i = 0; i < k; i++) {
		if (i)
			sb_putc(&b, ',');
		wi_put_record(idx, out[i], &b);
	}
	pthread_mutex_unlock(&ilock);
	sb_puts(&b, "]}");
	free(out);
	wi_filter_free(&f);
	return send_sb(c, 200, &b);
}

static enum MHD_Result event(struct MHD_Connection *c)
{
	char msg[256];
	long long seq = num_arg(c, "seq", -1, INT32_MAX, msg, sizeof(msg));
	if (seq < 0)
		return send_error(c, 400, "%s",
				  arg(c, "seq") ? msg : "parameter 'seq' is required");
	struct sbuf b = {0};
	pthread_mutex_lock(&ilock);
	wi_refresh(idx);
	if ((size_t)seq >= wi_count(idx)) {
		pthread_mutex_unlock(&ilock);
		return send_error(c, 404, "no record %lld", seq);
	}
	sb_puts(&b, "{\"event\":");
	wi_put_record(idx, (size_t)seq, &b);
	sb_puts(&b, ",\"output\":");
	wi_put_output(idx, (size_t)seq, &b);
	sb_putc(&b, '}');
	pthread_mutex_unlock(&ilock);
	return send_sb(c, 200, &b);
}

static enum MHD_Result locked_json(struct MHD_Connection *c, json_t *(*fn)(struct web_index *))
{
	pthread_mutex_lock(&ilock);
	wi_refresh(idx);
	json_t *j = fn(idx);
	pthread_mutex_unlock(&ilock);
	return send_json(c, 200, j);
}

static json_t *body_json(struct MHD_Connection *c, struct req *r, char *msg, size_t ml)
{
	json_error_t je;
	json_t *j = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, &je);
	if (!j || !json_is_object(j)) {
		snprintf(msg, ml, "the body is not a JSON object%s%s", j ? "" : ": ",
			 j ? "" : je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

static enum MHD_Result post(struct MHD_Connection *c, const char *url, struct req *r)
{
	char msg[512];
	if (!header_token(c))
		return send_error(c, 403,
				  "this action needs the token (header X-Jvisor-Token; "
				  "jvisor printed it with the viewer's address)");
	if (r->too_big)
		return send_error(c, 413, "the body is larger than %d bytes", MAX_BODY);
	if (!strcmp(url, "/api/hooks")) {
		/* The script as text, or {"source": "..."}. */
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
		json_t *src;
		if (ct && !strncmp(ct, "application/json", 16)) {
			json_t *j = body_json(c, r, msg, sizeof(msg));
			if (!j)
				return send_error(c, 400, "%s", msg);
			src = json_incref(json_object_get(j, "source"));
			json_decref(j);
		} else {
			src = json_stringn_nocheck(r->body.p ? r->body.p : "", r->body.len);
		}
		if (!json_is_string(src) || !json_string_length(src)) {
			json_decref(src);
			return send_error(c, 400, "no script: send its source as the body");
		}
		return forward(c, json_pack("{s:s,s:{s:o}}", "type", "change-state", "payload",
					    "source", src));
	}
	if (!strcmp(url, "/api/hooks/unload")) {
		json_t *j = body_json(c, r, msg, sizeof(msg));
		if (!j)
			return send_error(c, 400, "%s", msg);
		if (!json_object_get(j, "options"))
			json_object_set_new(j, "options", json_string("all"));
		return forward(c, json_pack("{s:s,s:o}", "type", "unregister-hooks", "payload", j));
	}
	if (!strcmp(url, "/api/kill")) {
		json_t *j = body_json(c, r, msg, sizeof(msg));
		if (!j)
			return send_error(c, 400, "%s", msg);
		json_t *pid = json_object_get(j, "pid");
		json_t *sig = json_object_get(j, "signal");
		if (!json_is_integer(pid) || json_integer_value(pid) == 0 ||
		    (sig && !json_is_integer(sig) && !json_is_string(sig))) {
			json_decref(j);
			return send_error(c, 400, "expected {\"pid\": N, \"signal\": \"SIGTERM\"}");
		}
		json_t *pl = json_pack("{s:O}", "pid", pid);
		if (sig)
			json_object_set(pl, "signal", sig);
		json_decref(j);
		return forward(c, json_pack("{s:s,s:o}", "type", "kill", "payload", pl));
	}
	return send_error(c, 404, "no such endpoint: POST %s", url);
}

static json_t *info(struct web_index *x)
{
	return json_pack("{s:b,s:b,s:b,s:I,s:b}", "live", live && !ended, "control",
			 control_path != NULL && !ended, "loopback", loopback, "records",
			 (json_int_t)wi_count(x), "ended", ended);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;
	if (!r) {
		r = *con_cls = xcalloc(1, sizeof(struct req));
		r->counted = true;
		__atomic_add_fetch(&reqs_open, 1, __ATOMIC_SEQ_CST);
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->body.len + *upload_size > MAX_BODY)
			r->too_big = true;
		else
			sb_put(&r->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (!host_ok(c))
		return send_error(c, 403, "wrong Host header for a loopback server");
	if (!strcmp(method, "POST"))
		return post(c, url, r);
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_error(c, 405, "method %s is not allowed", method);
	if (!read_allowed(c))
		return send_error(c, 403,
				  "this server is reachable beyond loopback: every request "
				  "needs the token (?token= or header X-Jvisor-Token)");
	if (!strcmp(url, "/"))
		url = "/index.html";
	for (size_t i = 0; i < JV_ARRAY_SIZE(web_assets); i++)
		if (!strcmp(url, web_assets[i].path))
			return send_buf(c, 200, web_assets[i].type, (char *)web_assets[i].data,
					web_assets[i].len, false);
	if (!strcmp(url, "/api/events"))
		return events(c);
	if (!strcmp(url, "/api/event"))
		return event(c);
	if (!strcmp(url, "/api/processes"))
		return locked_json(c, wi_processes);
	if (!strcmp(url, "/api/stats"))
		return locked_json(c, wi_stats);
	if (!strcmp(url, "/api/info"))
		return locked_json(c, info);
	if (!strcmp(url, "/api/stream")) {
		/* waited for through sse_unended, until it says "ended" */
		__atomic_sub_fetch(&reqs_open, 1, __ATOMIC_SEQ_CST);
		r->counted = false;
		return stream(c);
	}
	if (!strcmp(url, "/api/hooks"))
		return forward(c, json_pack("{s:s}", "type", "current-hooks"));
	if (!strcmp(url, "/api/ps"))
		return forward(c, json_pack("{s:s}", "type", "ps"));
	return send_error(c, 404, "no such page: %s", url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	if (r) {
		if (r->counted)
			__atomic_sub_fetch(&reqs_open, 1, __ATOMIC_SEQ_CST);
		sb_free(&r->body);
		free(r);
	}
	*con_cls = NULL;
}

/* ---- start and stop ---- */

static int open_listener(const char *addr, char *shown, size_t shown_len, struct jv_error *e)
{
	_cleanup_free_ char *copy = xstrdup(addr);
	char *host = copy, *port;
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close || close[1] != ':')
			return jv_err(e, 0, "--web '%s': expected [V6]:PORT", addr);
		*close = 0;
		host++;
		port = close + 2;
	} else if ((port = strrchr(host, ':'))) {
		*port++ = 0;
	} else {
		port = host;
		host = (char *)"127.0.0.1";
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535)
		return jv_err(e, 0, "--web '%s': '%s' is not a port number", addr, port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int g = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (g)
		return jv_err(e, 0, "--web '%s': %s", addr, gai_strerror(g));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return jv_err(e, err, "--web: cannot listen on %s", addr);
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	char h[INET6_ADDRSTRLEN] = "?";
	int bound_port = 0;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof(h));
		bound_port = ntohs(a->sin_port);
		loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		snprintf(shown, shown_len, "%s:%d", h, bound_port);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof(h));
		bound_port = ntohs(a->sin6_port);
		loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		snprintf(shown, shown_len, "[%s]:%d", h, bound_port);
	}
	return fd;
}

int web_start(const struct web_options *o, struct jv_error *e)
{
	char shown[128];
	unsigned char rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return jv_err(e, errno, "getrandom");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	idx = wi_open(o->log_path, e);
	if (!idx)
		return -1;
	wi_refresh(idx);
	int fd = open_listener(o->addr ? o->addr : "127.0.0.1:0", shown, sizeof(shown), e);
	if (fd < 0) {
		wi_close(idx);
		idx = NULL;
		return -1;
	}
	live = o->live;
	ended = stopping = false;
	if (o->control && !strncmp(o->control, "unix:", 5))
		control_path = xstrdup(o->control + 5);
	/* The server's threads take no signal: they are the tracer's. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	daemon_ = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, handler,
	    NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, 64, MHD_OPTION_CONNECTION_TIMEOUT, 120, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!daemon_) {
		close(fd);
		wi_close(idx);
		idx = NULL;
		return jv_err(e, 0, "cannot start the web server");
	}
	if (loopback)
		jv_warn("web viewer at http://%s/#token=%s", shown, token);
	else
		jv_warn("web viewer at http://%s/?token=%s (reachable beyond loopback: every "
			"request needs the token)",
			shown, token);
	return 0;
}

void web_set_ended(void)
{
	ended = true;
}

void web_stop(void)
{
	if (!daemon_)
		return;
	/* Let the open streams say "ended" (at most 1 s) and the requests in progress
	 * get their answers (at most 2 s): a /api/kill that ended the program is one,
	 * and stopping the daemon would cut its connection before the answer. */
	for (int i = 0; i < 200; i++) {
		bool streams =
		    i < 100 && ended && __atomic_load_n(&sse_unended, __ATOMIC_SEQ_CST) > 0;
		if (!streams && __atomic_load_n(&reqs_open, __ATOMIC_SEQ_CST) == 0)
			break;
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	stopping = true;
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	wi_close(idx);
	idx = NULL;
	free(control_path);
	control_path = NULL;
}
