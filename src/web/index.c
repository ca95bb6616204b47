/* The index of a JSON-lines event log: see index.h. */
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>

#include "syscalls/syscalls.h"
#include "web/index.h"

#define CHUNK (1u << 20)
#define N_CACHE 4
#define MAX_SECONDS (7 * 86400)

struct fcache {
	char *key;
	uint32_t *m;
	size_t n, cap, scanned;
	unsigned long used;
};

struct web_index {
	int fd;
	uint64_t indexed; /* file offset after the last indexed line */
	struct wi_rec *recs;
	size_t n, cap;
	char *chunk; /* read-back cache of the file */
	uint64_t chunk_off;
	size_t chunk_len, chunk_cap;
	/* syscall names */
	json_t *name_map; /* name -> index */
	char **names;
	unsigned *name_classes;
	uint64_t *name_count, *name_err, *name_time;
	size_t n_names;
	/* charts */
	json_t *errs; /* errname -> count */
	double t0;
	bool have_t0;
	uint64_t *per_sec;
	size_t n_sec;
	uint64_t n_syscalls, n_errors, n_hooked, n_bad;
	/* processes: "pid" -> object */
	json_t *procs;
	struct fcache cache[N_CACHE];
	unsigned long tick;
};

static const char *const type_names[WT__COUNT] = {
    [WT_SYSCALL] = "syscall", [WT_SPAWN] = "spawn", [WT_FORK] = "fork",	  [WT_VFORK] = "vfork",
    [WT_CLONE] = "clone",     [WT_EXEC] = "exec",   [WT_EXIT] = "exit",	  [WT_SIGNAL] = "signal",
    [WT_PRINT] = "print",     [WT_LOG] = "log",	    [WT_OTHER] = "other",
};

static int type_of(const char *s)
{
	if (!s)
		return WT_OTHER;
	for (int i = 0; i < WT_OTHER; i++)
		if (!strcmp(s, type_names[i]))
			return i;
	return WT_OTHER;
}

struct web_index *wi_open(const char *path, struct jv_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		jv_err(e, errno, "cannot open %s", path);
		return NULL;
	}
	struct web_index *x = xcalloc(1, sizeof(*x));
	x->fd = fd;
	x->name_map = json_object();
	x->errs = json_object();
	x->procs = json_object();
	return x;
}

void wi_close(struct web_index *x)
{
	if (!x)
		return;
	close(x->fd);
	free(x->recs);
	free(x->chunk);
	json_decref(x->name_map);
	for (size_t i = 0; i < x->n_names; i++)
		free(x->names[i]);
	free(x->names);
	free(x->name_classes);
	free(x->name_count);
	free(x->name_err);
	free(x->name_time);
	json_decref(x->errs);
	free(x->per_sec);
	json_decref(x->procs);
	for (int i = 0; i < N_CACHE; i++) {
		free(x->cache[i].key);
		free(x->cache[i].m);
	}
	free(x);
}

size_t wi_count(struct web_index *x)
{
	return x->n;
}

static int intern(struct web_index *x, const char *name)
{
	json_t *v = json_object_get(x->name_map, name);
	if (v)
		return (int)json_integer_value(v);
	if (x->n_names >= INT16_MAX)
		return -1;
	size_t i = x->n_names++;
	x->names = xrealloc(x->names, x->n_names * sizeof(*x->names));
	x->name_classes = xrealloc(x->name_classes, x->n_names * sizeof(unsigned));
	x->name_count = xrealloc(x->name_count, x->n_names * sizeof(uint64_t));
	x->name_err = xrealloc(x->name_err, x->n_names * sizeof(uint64_t));
	x->name_time = xrealloc(x->name_time, x->n_names * sizeof(uint64_t));
	x->names[i] = xstrdup(name);
	const struct sys_info *si = sys_info(sys_number(name));
	x->name_classes[i] = si ? si->classes : 0;
	x->name_count[i] = x->name_err[i] = x->name_time[i] = 0;
	json_object_set_new(x->name_map, name, json_integer((json_int_t)i));
	return (int)i;
}

static json_t *proc_get(struct web_index *x, int pid)
{
	char k[16];
	snprintf(k, sizeof(k), "%d", pid);
	json_t *p = json_object_get(x->procs, k);
	if (!p) {
		p = json_pack("{s:i,s:n,s:n,s:n,s:i,s:i,s:i}", "pid", pid, "ppid", "argv", "comm",
			      "syscalls", 0, "errors", 0, "threads", 1);
		json_object_set_new(x->procs, k, p);
	}
	return p;
}

static void count_in(json_t *o, const char *k, json_int_t d)
{
	json_t *v = json_object_get(o, k);
	if (v)
		json_integer_set(v, json_integer_value(v) + d);
	else
		json_object_set_new(o, k, json_integer(d));
}

static void index_line(struct web_index *x, uint64_t off, const char *s, size_t len)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 4096;
		x->recs = xrealloc(x->recs, x->cap * sizeof(*x->recs));
	}
	struct wi_rec *r = &x->recs[x->n++];
	*r = (struct wi_rec){.off = off, .len = (uint32_t)len, .name = -1, .type = WT_OTHER};
	json_t *j = json_loadb(s, len, JSON_ALLOW_NUL, NULL);
	if (!j || !json_is_object(j)) {
		r->flags |= WF_INVALID;
		x->n_bad++;
		json_decref(j);
		return;
	}
	r->type = (uint8_t)type_of(json_string_value(json_object_get(j, "type")));
	r->pid = (int32_t)json_integer_value(json_object_get(j, "pid"));
	r->tid = (int32_t)json_integer_value(json_object_get(j, "tid"));
	json_t *ts = json_object_get(j, "ts");
	if (json_is_number(ts)) {
		double t = json_number_value(ts);
		if (!x->have_t0) {
			x->t0 = floor(t);
			x->have_t0 = true;
		}
		double d = t - x->t0;
		if (d >= 0 && d < MAX_SECONDS && r->type == WT_SYSCALL) {
			size_t sec = (size_t)d;
			if (sec >= x->n_sec) {
				size_t n = sec + 64;
				x->per_sec = xrealloc(x->per_sec, n * sizeof(uint64_t));
				memset(x->per_sec + x->n_sec, 0, (n - x->n_sec) * sizeof(uint64_t));
				x->n_sec = n;
			}
			x->per_sec[sec]++;
		}
	}
	json_t *p = r->pid > 0 ? proc_get(x, r->pid) : NULL;
	const char *comm = json_string_value(json_object_get(j, "comm"));
	if (p && comm && (r->type == WT_EXEC || json_is_null(json_object_get(p, "comm"))))
		json_object_set_new(p, "comm", json_string(comm));
	switch (r->type) {
	case WT_SYSCALL: {
		x->n_syscalls++;
		const char *name = json_string_value(json_object_get(j, "name"));
		r->name = (int16_t)(name ? intern(x, name) : -1);
		json_int_t err = json_integer_value(json_object_get(j, "errno"));
		if (json_is_true(json_object_get(j, "unfinished")))
			r->flags |= WF_UNFINISHED;
		if (json_object_get(j, "hooks")) {
			r->flags |= WF_HOOKED;
			x->n_hooked++;
		}
		if (r->name >= 0) {
			x->name_count[r->name]++;
			x->name_time[r->name] +=
			    (uint64_t)json_integer_value(json_object_get(j, "dur_us"));
		}
		if (p)
			count_in(p, "syscalls", 1);
		if (err > 0) {
			r->flags |= WF_ERROR;
			x->n_errors++;
			if (r->name >= 0)
				x->name_err[r->name]++;
			const char *en = json_string_value(json_object_get(j, "errname"));
			char buf[24];
			if (!en) {
				snprintf(buf, sizeof(buf), "%lld", (long long)err);
				en = buf;
			}
			count_in(x->errs, en, 1);
			if (p)
				count_in(p, "errors", 1);
		}
		break;
	}
	case WT_SPAWN:
		json_object_set(p, "argv", json_object_get(j, "argv"));
		json_object_set(p, "start", ts);
		break;
	case WT_FORK:
	case WT_VFORK:
	case WT_CLONE: {
		int child = (int)json_integer_value(json_object_get(j, "child"));
		if (child <= 0 || !p)
			break;
		if (json_is_true(json_object_get(j, "thread"))) {
			count_in(p, "threads", 1);
			break;
		}
		json_t *c = proc_get(x, child);
		json_object_set_new(c, "ppid", json_integer(r->pid));
		json_object_set(c, "argv", json_object_get(p, "argv"));
		json_object_set(c, "comm", json_object_get(p, "comm"));
		json_object_set(c, "start", ts);
		break;
	}
	case WT_EXEC:
		if (!p)
			break;
		json_object_set(p, "argv", json_object_get(j, "argv"));
		json_object_set(p, "exe", json_object_get(j, "path"));
		count_in(p, "execs", 1);
		break;
	case WT_EXIT:
		if (!p || json_is_true(json_object_get(j, "thread")))
			break;
		json_object_set(p, "end", ts);
		if (json_object_get(j, "signal")) {
			json_object_set(p, "signal", json_object_get(j, "signal"));
			json_object_set(p, "status", json_null());
		} else {
			json_object_set(p, "status", json_object_get(j, "status"));
		}
		break;
	default:
		break;
	}
	json_decref(j);
}

void wi_refresh(struct web_index *x)
{
	struct stat st;
	if (fstat(x->fd, &st) < 0 || (uint64_t)st.st_size <= x->indexed)
		return;
	size_t cap = CHUNK * 4;
	_cleanup_free_ char *buf = xmalloc(cap);
	size_t have = 0; /* bytes in buf, starting at file offset x->indexed */
	for (;;) {
		if (have == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = pread(x->fd, buf + have, cap - have, (off_t)(x->indexed + have));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		size_t start = 0;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);
			if (!nl)
				break;
			size_t len = (size_t)(nl - (buf + start));
			if (len > 0)
				index_line(x, x->indexed + start, buf + start, len);
			start += len + 1;
		}
		x->indexed += start;
		memmove(buf, buf + start, have - start);
		have -= start;
	}
}

/* The bytes of record n (valid until the next call). */
static const char *rec_line(struct web_index *x, size_t n, size_t *len)
{
	const struct wi_rec *r = &x->recs[n];
	*len = r->len;
	if (x->chunk && r->off >= x->chunk_off && r->off + r->len <= x->chunk_off + x->chunk_len)
		return x->chunk + (r->off - x->chunk_off);
	size_t want = r->len > CHUNK ? r->len : CHUNK;
	if (want > x->chunk_cap) {
		x->chunk = xrealloc(x->chunk, want);
		x->chunk_cap = want;
	}
	ssize_t got = pread(x->fd, x->chunk, want, (off_t)r->off);
	if (got < (ssize_t)r->len) {
		x->chunk_len = 0;
		*len = 0;
		return "";
	}
	x->chunk_off = r->off;
	x->chunk_len = (size_t)got;
	return x->chunk;
}

static bool has_text(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	if (!m)
		return true;
	for (size_t i = 0; i + m <= n; i++) {
		if (tolower((unsigned char)s[i]) != needle[0])
			continue;
		size_t k = 1;
		while (k < m && tolower((unsigned char)s[i + k]) == needle[k])
			k++;
		if (k == m)
			return true;
	}
	return false;
}

static bool match(struct web_index *x, const struct wi_filter *f, size_t n)
{
	const struct wi_rec *r = &x->recs[n];
	if (f->syscalls_only && r->type != WT_SYSCALL)
		return false;
	if (f->pid && r->pid != f->pid)
		return false;
	if (f->tid && r->tid != f->tid)
		return false;
	if (f->errors && !(r->flags & WF_ERROR))
		return false;
	if (f->hooked && !(r->flags & WF_HOOKED))
		return false;
	if (f->names) {
		if (r->name < 0)
			return false;
		bool any = false;
		for (char **p = f->names; *p && !any; p++)
			any = !strcmp(*p, x->names[r->name]);
		if (!any)
			return false;
	}
	if (f->classes && (r->name < 0 || !(x->name_classes[r->name] & f->classes)))
		return false;
	if (f->text && *f->text) {
		size_t len;
		const char *s = rec_line(x, n, &len);
		if (!has_text(s, len, f->text))
			return false;
	}
	return true;
}

size_t wi_query(struct web_index *x, const struct wi_filter *f, size_t offset, size_t limit,
		uint32_t *out, size_t *total)
{
	if (!f->key || !*f->key) {
		*total = x->n;
		size_t k = 0;
		for (size_t i = offset; i < x->n && k < limit; i++)
			out[k++] = (uint32_t)i;
		return k;
	}
	struct fcache *c = NULL, *lru = &x->cache[0];
	for (int i = 0; i < N_CACHE; i++) {
		if (x->cache[i].key && !strcmp(x->cache[i].key, f->key))
			c = &x->cache[i];
		if (x->cache[i].used < lru->used)
			lru = &x->cache[i];
	}
	if (!c) {
		c = lru;
		free(c->key);
		c->key = xstrdup(f->key);
		c->n = c->scanned = 0;
	}
	c->used = ++x->tick;
	for (; c->scanned < x->n; c->scanned++) {
		if (!match(x, f, c->scanned))
			continue;
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 1024;
			c->m = xrealloc(c->m, c->cap * sizeof(uint32_t));
		}
		c->m[c->n++] = (uint32_t)c->scanned;
	}
	*total = c->n;
	size_t k = 0;
	for (size_t i = offset; i < c->n && k < limit; i++)
		out[k++] = c->m[i];
	return k;
}

void wi_put_record(struct web_index *x, size_t n, struct sbuf *b)
{
	size_t len;
	const char *s = rec_line(x, n, &len);
	sb_printf(b, "{\"seq\":%zu", n);
	if (len >= 2 && s[0] == '{' && !(x->recs[n].flags & WF_INVALID)) {
		size_t i = 1;
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (s[i] != '}')
			sb_putc(b, ',');
		sb_put(b, s + 1, len - 1);
	} else {
		sb_puts(b, ",\"type\":\"invalid\",\"line\":");
		sb_json_str(b, s, len);
		sb_putc(b, '}');
	}
}

void wi_put_output(struct web_index *x, size_t n, struct sbuf *b)
{
	sb_putc(b, '[');
	if (n >= x->n) {
		sb_putc(b, ']');
		return;
	}
	int tid = x->recs[n].tid;
	size_t first = n;
	for (size_t i = n, k = 0; i > 0 && k < 5000; k++) {
		i--;
		const struct wi_rec *r = &x->recs[i];
		if (r->tid != tid)
			continue;
		if (r->type == WT_PRINT || r->type == WT_LOG)
			first = i;
		else
			break;
	}
	bool comma = false;
	for (size_t i = first; i < n; i++) {
		const struct wi_rec *r = &x->recs[i];
		if (r->tid != tid || (r->type != WT_PRINT && r->type != WT_LOG))
			continue;
		if (comma)
			sb_putc(b, ',');
		wi_put_record(x, i, b);
		comma = true;
	}
	sb_putc(b, ']');
}

json_t *wi_processes(struct web_index *x)
{
	json_t *a = json_array();
	const char *k;
	json_t *v;
	json_object_foreach (x->procs, k, v)
		json_array_append(a, v);
	return a;
}

static int by_count_desc(const void *pa, const void *pb, void *arg)
{
	const uint64_t *v = arg;
	uint64_t a = v[*(const int *)pa], b = v[*(const int *)pb];
	return a < b ? 1 : a > b ? -1 : 0;
}

static json_t *top(struct web_index *x, uint64_t *by, size_t max)
{
	_cleanup_free_ int *ix = xmalloc((x->n_names + 1) * sizeof(int));
	for (size_t i = 0; i < x->n_names; i++)
		ix[i] = (int)i;
	qsort_r(ix, x->n_names, sizeof(int), by_count_desc, by);
	json_t *a = json_array();
	for (size_t i = 0; i < x->n_names && i < max; i++) {
		int n = ix[i];
		json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I}", "name", x->names[n],
						   "count", (json_int_t)x->name_count[n], "errors",
						   (json_int_t)x->name_err[n], "time_us",
						   (json_int_t)x->name_time[n]));
	}
	return a;
}

json_t *wi_stats(struct web_index *x)
{
	size_t last = x->n_sec;
	while (last > 0 && !x->per_sec[last - 1])
		last--;
	json_t *ps = json_array();
	for (size_t i = 0; i < last; i++)
		json_array_append_new(ps, json_integer((json_int_t)x->per_sec[i]));
	json_t *errs = json_array();
	const char *k;
	json_t *v;
	json_object_foreach (x->errs, k, v)
		json_array_append_new(errs, json_pack("{s:s,s:O}", "errname", k, "count", v));
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:o,s:o,s:o,s:o,s:I}", "records",
			 (json_int_t)x->n, "syscalls", (json_int_t)x->n_syscalls, "errors",
			 (json_int_t)x->n_errors, "hooked", (json_int_t)x->n_hooked, "invalid",
			 (json_int_t)x->n_bad, "t0", x->t0, "per_second", ps, "top_count",
			 top(x, x->name_count, 20), "top_time", top(x, x->name_time, 20),
			 "errors_by", errs, "processes", (json_int_t)json_object_size(x->procs));
}

void wi_filter_free(struct wi_filter *f)
{
	if (f->names)
		for (char **p = f->names; *p; p++)
			free(*p);
	free(f->names);
	free(f->text);
	free(f->key);
	memset(f, 0, sizeof(*f));
}
