/* Records: one per completed syscall (decoded by the roles of the syscall
 * table), per process event and per hook output, in JSON lines or text. */
#include <asm/unistd.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>

#include "log/internal.h"
#include "syscalls/decode.h"

#define NFMT 2

bool log_active;
static struct sys_set trace_set;	 /* logged */
static struct hook_filter trace_args;	 /* --trace-args; n == 0: none */
static struct sys_set watch_set;	 /* trapped to keep the fd paths right */
static unsigned formats;		 /* 1 << LOG_FORMAT_* */
static size_t str_max[NFMT] = {256, 32}; /* JSON, text (as strace -s) */
static struct sbuf line[NFMT];
static bool bpf_mode;	       /* calls without stops come from src/bpf/ */
static bool summary;	       /* --summary (summary.c) */
static unsigned trace_gen = 1; /* changes with trace_set */

struct log_thread {
	pid_t pid, tid;
	char comm[20];
	bool comm_known;
	/* The call in progress. */
	bool pending;
	int sysno;
	enum sys_abi abi;
	uint64_t args[6]; /* as the program passed them */
	uint64_t eff[6];  /* as the kernel ran it (after the before-hooks) */
	unsigned changed;
	bool hooked_before;
	uint64_t ts_ns, t0_ns;
	uint64_t dur_ns; /* the record's duration when known (captured calls) */
	bool dur_known;
	const struct dec_mem *mem; /* captured memory, or NULL: the tracee's */
	struct sbuf ent[NFMT];	   /* in-arguments decoded at entry */
	uint32_t off[NFMT][7];
	struct sbuf chg[NFMT]; /* arguments the hooks changed: from and to */
};

/* ---- setup ---- */

/* --container-id, --label: members written into every JSON record. */
static char *tags;

const char *log_tags(void)
{
	return tags;
}

int log_open(const struct log_options *o, struct jv_error *e)
{
	if (!o->path && !o->socket && !o->trace_given && !o->summary)
		return 0;
	summary = o->summary;
	free(tags);
	tags = o->tags ? xstrdup(o->tags) : NULL;
	if (o->string_limit)
		str_max[LOG_FORMAT_JSON] = str_max[LOG_FORMAT_TEXT] = o->string_limit;
	if (o->trace_args)
		trace_args = *o->trace_args;
	if (o->trace_given) {
		trace_set = o->trace;
	} else {
		for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr))
			sys_set_add(&trace_set, nr);
	}
	/* Descriptors are shown with their paths: keep the cache right. */
	bool fds = false;
	for (int nr = sys_next(-1); nr >= 0 && !fds; nr = sys_next(nr)) {
		const struct sys_info *si = sys_info(nr);
		for (int i = 0; sys_set_has(&trace_set, nr) && i < si->nargs; i++)
			if (si->args[i].role == SR_FD || si->args[i].role == SR_DIRFD)
				fds = true;
	}
	if (fds) {
		sys_set_add(&watch_set, __NR_close);
		sys_set_add(&watch_set, __NR_dup2);
		sys_set_add(&watch_set, __NR_dup3);
		sys_set_add(&watch_set, __NR_close_range);
	}
	bool sinks = o->path || o->socket || o->trace_given;
	if (sinks && (o->path || !o->socket) && sink_open_file(o->path, o->format, e) < 0)
		return -1;
	if (o->socket && sink_open_socket(o->socket, o->socket_full, o->socket_buffer, e) < 0) {
		sink_close_all();
		return -1;
	}
	formats = sink_formats();
	log_active = true;
	hooks_set_error_sink(log_hook_error);
	return 0;
}

int log_close(void)
{
	if (!log_active)
		return 0;
	if (summary)
		summary_write(formats);
	log_active = false;
	for (int f = 0; f < NFMT; f++)
		sb_free(&line[f]);
	free(tags);
	tags = NULL;
	return sink_close_all();
}

/* Calls the stop path logs in BPF mode: hooked ones, and clone3, which never
 * runs (src/tracer/filter.c fails it: the BPF programs never see it). */
bool log_stops_anyway(int nr)
{
	return hooks_wanted(nr, HOOK_BEFORE) || hooks_wanted(nr, HOOK_AFTER) || nr == __NR_clone3;
}

bool log_wants(int nr)
{
	if (bpf_mode)
		return log_active && sys_set_has(&trace_set, nr) && log_stops_anyway(nr);
	return log_active && (sys_set_has(&trace_set, nr) || sys_set_has(&watch_set, nr));
}

const struct hook_filter *log_trace_args(void)
{
	return trace_args.n && !bpf_mode ? &trace_args : NULL;
}

bool log_wants_all(int nr)
{
	if (bpf_mode)
		return log_wants(nr);
	return log_active &&
	       (sys_set_has(&watch_set, nr) || (sys_set_has(&trace_set, nr) && !trace_args.n));
}

void log_use_bpf(void)
{
	bpf_mode = true;
	memset(&watch_set, 0, sizeof(watch_set));
}

bool log_has_sinks(void)
{
	return formats != 0;
}

bool log_stop_logs(int nr, enum sys_abi abi)
{
	return !bpf_mode || log_stops_anyway(nr) || abi != SYS_ABI_X86_64;
}

bool log_follows(int nr)
{
	return log_active && sys_set_has(&trace_set, nr);
}

unsigned log_trace_generation(void)
{
	return trace_gen;
}

/* In BPF mode the cache is not kept right (close is not trapped): a stop
 * reads the fd's path from /proc, which is right at a stop. */
static const char *fd_path_now(pid_t pid, int fd)
{
	fdc_close(pid, fd, fd);
	return fdc_path(pid, fd);
}

int log_set_trace(const struct sys_set *s)
{
	if (!log_active)
		return -1;
	trace_set = *s;
	trace_gen++;
	if (bpf_mode)
		return 0;
	for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr)) {
		const struct sys_info *si = sys_info(nr);
		for (int i = 0; sys_set_has(&trace_set, nr) && i < si->nargs; i++) {
			if (si->args[i].role == SR_FD || si->args[i].role == SR_DIRFD) {
				sys_set_add(&watch_set, __NR_close);
				sys_set_add(&watch_set, __NR_dup2);
				sys_set_add(&watch_set, __NR_dup3);
				sys_set_add(&watch_set, __NR_close_range);
				return 0;
			}
		}
	}
	return 0;
}

/* ---- threads ---- */

static struct log_thread *lt_get(struct log_thread **slot, pid_t pid, pid_t tid)
{
	if (!*slot)
		*slot = xcalloc(1, sizeof(**slot));
	(*slot)->pid = pid;
	(*slot)->tid = tid;
	return *slot;
}

static void read_comm(struct log_thread *lt)
{
	char path[64];
	_cleanup_free_ char *s = NULL;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)lt->tid);
	lt->comm[0] = '\0';
	if (jv_read_file(path, &s) > 0) {
		s[strcspn(s, "\n")] = '\0';
		snprintf(lt->comm, sizeof(lt->comm), "%s", s);
	}
	lt->comm_known = true;
}

static const char *comm_of(struct log_thread *lt)
{
	if (!lt)
		return NULL;
	if (!lt->comm_known)
		read_comm(lt);
	return lt->comm[0] ? lt->comm : NULL;
}

/* The start of a record: JSON {"type":..,"ts":..,"pid":..,"tid":..,"comm":..
 * (left open), or the text prefix. */
static void head(struct sbuf *b, int f, const char *type, uint64_t ts, pid_t pid, pid_t tid,
		 const char *comm)
{
	b->len = 0;
	if (f == LOG_FORMAT_TEXT) {
		sb_printf(b, "%-6d ", (int)tid);
		return;
	}
	sb_puts(b, "{\"type\":\"");
	sb_puts(b, type);
	sb_puts(b, "\",\"ts\":");
	log_put_ts(b, ts);
	sb_puts(b, ",\"pid\":");
	sb_i64(b, pid);
	sb_puts(b, ",\"tid\":");
	sb_i64(b, tid);
	if (tags)
		sb_puts(b, tags);
	if (comm) {
		sb_puts(b, ",\"comm\":");
		sb_json_str(b, comm, strlen(comm));
	}
}

static void finish(struct sbuf *b, int f)
{
	if (f == LOG_FORMAT_JSON)
		sb_putc(b, '}');
	sb_putc(b, '\n');
	sink_write(f, b->p, b->len);
}

static void jkey(struct sbuf *b, const char *k)
{
	sb_puts(b, ",\"");
	sb_puts(b, k);
	sb_puts(b, "\":");
}

static struct dec_ctx ctx_of(const struct log_thread *lt, int f)
{
	struct dec_ctx c = {
	    .pid = lt->pid,
	    .tid = lt->tid,
	    .abi = lt->abi,
	    .fmt = f == LOG_FORMAT_TEXT ? DEC_TEXT : DEC_JSON,
	    .str_max = str_max[f],
	    .fd_path = bpf_mode				     ? fd_path_now
		       : sys_set_has(&watch_set, __NR_close) ? fdc_path
							     : NULL,
	    .mem = lt->mem,
	};
	return c;
}

/* ---- syscalls ---- */

static void watch(const struct hook_event *ev)
{
	const uint64_t *a = ev->args;
	switch (ev->sysno) {
	case __NR_close:
		fdc_close(ev->pid, (int)a[0], (int)a[0]);
		break;
	case __NR_dup2:
	case __NR_dup3:
		fdc_close(ev->pid, (int)a[1], (int)a[1]);
		break;
	case __NR_close_range:
		fdc_close(ev->pid, (int)a[0], a[1] > INT_MAX ? INT_MAX : (int)a[1]);
		break;
	default:
		break;
	}
}

bool log_sys_enter(struct log_thread **slot, const struct hook_event *ev)
{
	if (!sys_set_has(&trace_set, ev->sysno) ||
	    (trace_args.n && !argfilter_match(&trace_args, ev->args))) {
		if (sys_set_has(&watch_set, ev->sysno))
			watch(ev);
		return false;
	}
	struct log_thread *lt = lt_get(slot, ev->pid, ev->tid);
	const struct sys_info *si = sys_info(ev->sysno);
	lt->pending = true;
	lt->sysno = ev->sysno;
	lt->abi = ev->abi;
	memcpy(lt->args, ev->args, sizeof(lt->args));
	memcpy(lt->eff, ev->args, sizeof(lt->eff));
	lt->changed = 0;
	lt->hooked_before = false;
	lt->ts_ns = log_realtime_ns();
	lt->t0_ns = jv_now_ns();
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct dec_ctx c = ctx_of(lt, f);
		struct sbuf *b = &lt->ent[f];
		b->len = 0;
		for (int i = 0; i < si->nargs; i++) {
			lt->off[f][i] = (uint32_t)b->len;
			if (!sys_role_is_out(si->args[i].role))
				dec_arg(&c, si, i, lt->args, false, 0, b);
		}
		lt->off[f][si->nargs] = (uint32_t)b->len;
	}
	if (sys_set_has(&watch_set, ev->sysno))
		watch(ev);
	return true;
}

static void put_errname(struct sbuf *b, int err)
{
	const char *n = xlat_errname(err);
	if (n)
		sb_puts(b, n);
	else
		sb_printf(b, "E%d", err);
}

static bool shows_hex(int sysno)
{
	return sysno == __NR_mmap || sysno == __NR_mremap || sysno == __NR_brk ||
	       sysno == __NR_shmat;
}

enum call_end { END_RESULT, END_NORETURN, END_UNFINISHED, END_RESTART };

/* The arguments, in order: in-arguments from entry, out-arguments now. */
static void put_args(struct log_thread *lt, int f, const struct sys_info *si, bool at_exit,
		     int64_t raw, struct sbuf *b)
{
	struct dec_ctx c = ctx_of(lt, f);
	for (int i = 0; i < si->nargs; i++) {
		if (i)
			sb_puts(b, f == LOG_FORMAT_JSON ? "," : ", ");
		if (sys_role_is_out(si->args[i].role))
			dec_arg(&c, si, i, lt->eff, at_exit, raw, b);
		else
			sb_put(b, lt->ent[f].p + lt->off[f][i], lt->off[f][i + 1] - lt->off[f][i]);
	}
}

static void put_hook_list(struct sbuf *b, int sysno, enum hook_phase ph)
{
	sb_putc(b, '[');
	bool first = true;
	for (struct hook *h = hooks_first(sysno, ph); h; h = h->next) {
		if (!first)
			sb_putc(b, ',');
		first = false;
		sb_json_str(b, h->where, strlen(h->where));
	}
	sb_putc(b, ']');
}

static void put_result_json(struct sbuf *b, int64_t raw)
{
	bool failed = raw < 0 && raw >= -4095;
	sb_puts(b, "\"ret\":");
	sb_i64(b, failed ? -1 : raw);
	sb_puts(b, ",\"errno\":");
	sb_i64(b, failed ? -raw : 0);
	sb_puts(b, ",\"errname\":");
	if (failed) {
		sb_putc(b, '"');
		put_errname(b, (int)-raw);
		sb_putc(b, '"');
	} else {
		sb_puts(b, "null");
	}
}

/* Write the record of lt's call. raw: what the program saw; orig_raw: the
 * kernel's result when an after-hook changed it (result_changed). */
static void emit_call(struct log_thread *lt, enum call_end end, int64_t raw, bool skipped,
		      bool result_changed, int64_t orig_raw, bool hooked_after)
{
	const struct sys_info *si = sys_info(lt->sysno);
	uint64_t dur_ns = lt->dur_known ? lt->dur_ns : jv_now_ns() - lt->t0_ns;
	uint64_t dur = dur_ns / 1000;
	if (summary && end != END_UNFINISHED)
		log_summary_add(
		    lt->sysno, 1,
		    (end == END_RESULT || end == END_RESTART) && raw < 0 && raw >= -4095, dur_ns);
	bool at_exit = end == END_RESULT && !skipped;
	const char *comm = comm_of(lt);
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct sbuf *b = &line[f];
		head(b, f, "syscall", lt->ts_ns, lt->pid, lt->tid, comm);
		if (f == LOG_FORMAT_TEXT) {
			if (lt->abi != SYS_ABI_X86_64)
				sb_printf(b, "[%s] ", sys_abi_name(lt->abi));
			sb_puts(b, si->name);
			sb_putc(b, '(');
			put_args(lt, f, si, at_exit, raw, b);
			if (end == END_UNFINISHED) {
				sb_puts(b, " <unfinished ...>) = ?");
			} else if (end == END_NORETURN) {
				sb_puts(b, ") = ?");
			} else if (raw < 0 && raw >= -4095) {
				sb_puts(b, ") = -1 ");
				put_errname(b, (int)-raw);
				if (end == END_RESTART)
					sb_puts(b, " (To be restarted)");
				else if (-raw < 512)
					sb_printf(b, " (%s)", strerror((int)-raw));
			} else if (shows_hex(lt->sysno)) {
				sb_puts(b, ") = ");
				sb_hex(b, (uint64_t)raw);
			} else {
				sb_puts(b, ") = ");
				sb_i64(b, raw);
			}
			if (lt->changed) {
				sb_puts(b, " [hook changed ");
				sb_put(b, lt->chg[f].p, lt->chg[f].len);
				sb_putc(b, ']');
			}
			if (skipped)
				sb_puts(b, " [skipped by a hook]");
			if (result_changed) {
				sb_puts(b, " [hook changed the result from ");
				sb_i64(b, orig_raw);
				sb_putc(b, ']');
			}
			sb_printf(b, " <%.6f>", (double)dur / 1e6);
			finish(b, f);
			continue;
		}
		jkey(b, "sysno");
		sb_i64(b, lt->sysno);
		jkey(b, "name");
		sb_putc(b, '"');
		sb_puts(b, si->name);
		sb_putc(b, '"');
		if (lt->abi != SYS_ABI_X86_64) {
			jkey(b, "abi");
			sb_putc(b, '"');
			sb_puts(b, sys_abi_name(lt->abi));
			sb_putc(b, '"');
		}
		jkey(b, "args");
		sb_putc(b, '[');
		put_args(lt, f, si, at_exit, raw, b);
		sb_puts(b, "],");
		if (end == END_UNFINISHED || end == END_NORETURN)
			sb_puts(b, "\"ret\":null,\"errno\":null,\"errname\":null");
		else
			put_result_json(b, raw);
		jkey(b, "dur_us");
		sb_u64(b, dur);
		if (end == END_UNFINISHED)
			sb_puts(b, ",\"unfinished\":true");
		if (end == END_RESTART)
			sb_puts(b, ",\"restart\":true");
		if (lt->hooked_before || hooked_after) {
			sb_puts(b, ",\"hooks\":{");
			bool comma = false;
			if (lt->hooked_before) {
				sb_puts(b, "\"before\":");
				put_hook_list(b, lt->sysno, HOOK_BEFORE);
				comma = true;
			}
			if (hooked_after) {
				sb_puts(b, comma ? ",\"after\":" : "\"after\":");
				put_hook_list(b, lt->sysno, HOOK_AFTER);
				comma = true;
			}
			if (lt->changed) {
				sb_puts(b, ",\"args\":{");
				sb_put(b, lt->chg[f].p, lt->chg[f].len);
				sb_putc(b, '}');
			}
			if (skipped)
				sb_puts(b, ",\"skipped\":true");
			if (result_changed) {
				sb_puts(b, ",\"result\":{");
				put_result_json(b, orig_raw);
				sb_putc(b, '}');
			}
			sb_putc(b, '}');
		}
		finish(b, f);
	}
}

bool log_sys_hooked(struct log_thread *lt, const struct hook_event *ev,
		    const struct hook_verdict *v)
{
	if (!lt || !lt->pending)
		return false;
	const struct sys_info *si = sys_info(lt->sysno);
	lt->hooked_before = hooks_wanted(lt->sysno, HOOK_BEFORE);
	if (v->args_set) {
		lt->changed = v->args_set;
		memcpy(lt->eff, ev->args, sizeof(lt->eff));
		for (int f = 0; f < NFMT; f++) {
			if (!(formats & (1u << f)))
				continue;
			struct dec_ctx c = ctx_of(lt, f);
			struct sbuf *b = &lt->chg[f];
			b->len = 0;
			for (int i = 0; i < 6; i++) {
				if (!(v->args_set & (1u << i)))
					continue;
				bool in = i < si->nargs && !sys_role_is_out(si->args[i].role);
				if (b->len)
					sb_puts(b, f == LOG_FORMAT_JSON ? "," : ", ");
				if (f == LOG_FORMAT_JSON)
					sb_printf(b, "\"%d\":{\"from\":", i);
				else
					sb_printf(b, "arg%d from ", i);
				if (in)
					sb_put(b, lt->ent[f].p + lt->off[f][i],
					       lt->off[f][i + 1] - lt->off[f][i]);
				else
					sb_hex(b, lt->args[i]);
				sb_puts(b, f == LOG_FORMAT_JSON ? ",\"to\":" : " to ");
				if (in) {
					dec_arg(&c, si, i, lt->eff, false, 0, b);
				} else if (f == LOG_FORMAT_JSON) {
					sb_putc(b, '"');
					sb_hex(b, lt->eff[i]);
					sb_putc(b, '"');
				} else {
					sb_hex(b, lt->eff[i]);
				}
				if (f == LOG_FORMAT_JSON)
					sb_putc(b, '}');
			}
		}
	}
	if (v->skip) {
		emit_call(lt, END_RESULT, v->raw, true, false, 0, false);
		lt->pending = false;
		return false;
	}
	if (si->classes & SC_NORETURN) {
		emit_call(lt, END_NORETURN, 0, false, false, 0, false);
		lt->pending = false;
		return false;
	}
	return true;
}

void log_sys_exit(struct log_thread *lt, int64_t raw, const struct hook_verdict *v)
{
	if (!lt || !lt->pending)
		return;
	lt->pending = false;
	if (!v) {
		emit_call(lt, END_RESTART, raw, false, false, 0, false);
		return;
	}
	bool after = hooks_wanted(lt->sysno, HOOK_AFTER);
	if (v->result_set)
		emit_call(lt, END_RESULT, v->raw, false, true, raw, after);
	else
		emit_call(lt, END_RESULT, raw, false, false, 0, after);
	if (lt->sysno == __NR_prctl && lt->eff[0] == 15 /* PR_SET_NAME */ && raw == 0)
		lt->comm_known = false;
}

void log_thread_end(struct log_thread **slot)
{
	struct log_thread *lt = *slot;
	if (!lt)
		return;
	if (lt->pending && log_active)
		emit_call(lt, END_UNFINISHED, 0, false, false, 0, false);
	for (int f = 0; f < NFMT; f++) {
		sb_free(&lt->ent[f]);
		sb_free(&lt->chg[f]);
	}
	free(lt);
	*slot = NULL;
}

/* Load the captured call c into lt, with its in-arguments decoded in the
 * formats of mask (a bit per format). */
static void load_captured(struct log_thread *lt, const struct log_call *c, unsigned mask)
{
	const struct sys_info *si = sys_info(c->sysno);
	lt->pid = c->pid;
	lt->tid = c->tid;
	snprintf(lt->comm, sizeof(lt->comm), "%s", c->comm ? c->comm : "");
	lt->comm_known = true;
	lt->sysno = c->sysno;
	lt->abi = SYS_ABI_X86_64;
	memcpy(lt->args, c->args, sizeof(lt->args));
	memcpy(lt->eff, c->args, sizeof(lt->eff));
	lt->ts_ns = c->ts_ns;
	lt->dur_ns = c->dur_ns;
	lt->dur_known = true;
	lt->mem = c->mem;
	for (int f = 0; f < NFMT; f++) {
		if (!(mask & (1u << f)))
			continue;
		struct dec_ctx dc = ctx_of(lt, f);
		struct sbuf *b = &lt->ent[f];
		b->len = 0;
		for (int i = 0; i < si->nargs; i++) {
			lt->off[f][i] = (uint32_t)b->len;
			if (!sys_role_is_out(si->args[i].role))
				dec_arg(&dc, si, i, lt->args, false, 0, b);
		}
		lt->off[f][si->nargs] = (uint32_t)b->len;
	}
}

static struct log_thread captured;

static bool restarted(int64_t ret)
{
	return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

void log_call_captured(const struct log_call *c)
{
	if (!log_active || !sys_set_has(&trace_set, c->sysno) ||
	    (trace_args.n && !argfilter_match(&trace_args, c->args)))
		return;
	load_captured(&captured, c, formats);
	enum call_end end = c->unfinished	? END_UNFINISHED
			    : c->noreturn	? END_NORETURN
			    : restarted(c->ret) ? END_RESTART
						: END_RESULT;
	emit_call(&captured, end, c->ret, false, false, 0, false);
	captured.mem = NULL;
}

void log_call_args_json(const struct log_call *c, struct sbuf *out)
{
	const struct sys_info *si = sys_info(c->sysno);
	load_captured(&captured, c, 1u << LOG_FORMAT_JSON);
	out->len = 0;
	sb_putc(out, '[');
	bool at_exit = !c->unfinished && !c->noreturn && !restarted(c->ret);
	put_args(&captured, LOG_FORMAT_JSON, si, at_exit, c->ret, out);
	sb_putc(out, ']');
	captured.mem = NULL;
}

/* ---- process events ---- */

static void put_str(struct sbuf *b, int f, const char *s)
{
	if (f == LOG_FORMAT_JSON)
		sb_json_str(b, s, strlen(s));
	else
		sb_c_str(b, s, strlen(s));
}

/* An argv array from NUL-separated bytes. */
static void put_argv_bytes(struct sbuf *b, int f, const char *p, size_t n)
{
	sb_putc(b, '[');
	size_t i = 0, k = 0;
	while (i < n) {
		size_t len = strnlen(p + i, n - i);
		if (k++)
			sb_puts(b, f == LOG_FORMAT_JSON ? "," : ", ");
		size_t shown = len > str_max[f] ? str_max[f] : len;
		if (f == LOG_FORMAT_JSON)
			sb_json_str(b, p + i, shown);
		else
			sb_c_str(b, p + i, shown);
		i += len + 1;
	}
	sb_putc(b, ']');
}

void log_ev_control(pid_t pid, const char *addr, const char *token_file)
{
	if (!log_active)
		return;
	uint64_t ts = log_realtime_ns();
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct sbuf *b = &line[f];
		head(b, f, "control", ts, pid, pid, NULL);
		if (f == LOG_FORMAT_JSON) {
			jkey(b, "addr");
			sb_json_str(b, addr, strlen(addr));
			if (token_file) {
				jkey(b, "token_file");
				sb_json_str(b, token_file, strlen(token_file));
			}
		} else {
			sb_puts(b, "--- control socket ");
			sb_puts(b, addr);
			sb_puts(b, " ---");
		}
		finish(b, f);
	}
}

void log_ev_spawn(pid_t pid, char *const argv[], const char *backend)
{
	if (!log_active)
		return;
	uint64_t ts = log_realtime_ns();
	struct sbuf args = {0};
	for (char *const *a = argv; *a; a++)
		sb_put(&args, *a, strlen(*a) + 1);
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct sbuf *b = &line[f];
		head(b, f, "spawn", ts, pid, pid, NULL);
		if (f == LOG_FORMAT_JSON) {
			jkey(b, "backend");
			put_str(b, f, backend);
			jkey(b, "argv");
		} else {
			sb_puts(b, "--- spawn ");
		}
		put_argv_bytes(b, f, args.p, args.len);
		if (f == LOG_FORMAT_TEXT)
			sb_puts(b, " ---");
		finish(b, f);
	}
	sb_free(&args);
}

void log_ev_clone(struct log_thread **parent, pid_t pid, pid_t tid, const char *kind, pid_t child,
		  struct log_thread **child_lt, uint64_t flags, bool flags_known)
{
	struct log_thread *lt = lt_get(parent, pid, tid);
	const char *comm = comm_of(lt);
	if (child_lt && comm) {
		/* The child starts with its parent's name: no /proc read. */
		struct log_thread *c = *child_lt;
		if (!c) {
			c = lt_get(child_lt, (flags_known && (flags & 0x10000)) ? pid : child,
				   child);
		}
		if (!c->comm_known) {
			snprintf(c->comm, sizeof(c->comm), "%s", comm);
			c->comm_known = true;
		}
	}
	uint64_t ts = log_realtime_ns();
	bool thread = flags_known && (flags & 0x10000); /* CLONE_THREAD */
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct sbuf *b = &line[f];
		head(b, f, kind, ts, pid, tid, comm);
		if (f == LOG_FORMAT_JSON) {
			jkey(b, "child");
			sb_i64(b, child);
			if (flags_known) {
				jkey(b, "flags");
				sb_putc(b, '"');
				xlat_flags(SK_CLONE, flags, b);
				sb_putc(b, '"');
			}
			jkey(b, "thread");
			sb_puts(b, thread ? "true" : "false");
		} else {
			sb_printf(b, "--- %s", kind);
			if (flags_known && strcmp(kind, "clone") == 0) {
				sb_putc(b, ' ');
				xlat_flags(SK_CLONE, flags, b);
			}
			sb_printf(b, ": %s %d ---", thread ? "thread" : "child", (int)child);
		}
		finish(b, f);
	}
}

void log_ev_exec(struct log_thread **slot, pid_t pid, pid_t tid, pid_t old_tid)
{
	struct log_thread *lt = lt_get(slot, pid, tid);
	read_comm(lt);
	fdc_forget(pid);
	char link[64], exe[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	_cleanup_free_ char *cmdline = NULL;
	snprintf(link, sizeof(link), "/proc/%d/cmdline", (int)pid);
	ssize_t clen = jv_read_file(link, &cmdline);
	uint64_t ts = log_realtime_ns();
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct sbuf *b = &line[f];
		head(b, f, "exec", ts, pid, tid, comm_of(lt));
		if (f == LOG_FORMAT_JSON) {
			if (old_tid != tid) {
				jkey(b, "old_tid");
				sb_i64(b, old_tid);
			}
			jkey(b, "path");
			put_str(b, f, exe);
			jkey(b, "argv");
		} else {
			sb_puts(b, "--- exec ");
			put_str(b, f, exe);
			sb_putc(b, ' ');
		}
		put_argv_bytes(b, f, cmdline ? cmdline : "", clen > 0 ? (size_t)clen : 0);
		if (f == LOG_FORMAT_TEXT)
			sb_puts(b, " ---");
		finish(b, f);
	}
}

void log_ev_exit(struct log_thread **slot, pid_t pid, pid_t tid, int status)
{
	struct log_thread *lt = *slot;
	char comm[20] = "";
	if (lt && lt->comm_known)
		snprintf(comm, sizeof(comm), "%s", lt->comm);
	log_thread_end(slot); /* a call in progress first, as unfinished */
	if (tid == pid)
		fdc_forget(pid);
	uint64_t ts = log_realtime_ns();
	char sig[16] = "";
	if (WIFSIGNALED(status))
		xlat_signame(WTERMSIG(status), sig, sizeof(sig));
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct sbuf *b = &line[f];
		head(b, f, "exit", ts, pid, tid, comm[0] ? comm : NULL);
		if (f == LOG_FORMAT_JSON) {
			if (WIFSIGNALED(status)) {
				jkey(b, "signal");
				put_str(b, f, sig);
				jkey(b, "core");
				sb_puts(b, WCOREDUMP(status) ? "true" : "false");
			} else {
				jkey(b, "status");
				sb_i64(b, WEXITSTATUS(status));
			}
			jkey(b, "thread");
			sb_puts(b, tid != pid ? "true" : "false");
		} else if (WIFSIGNALED(status)) {
			sb_printf(b, "+++ killed by %s%s +++", sig,
				  WCOREDUMP(status) ? " (core dumped)" : "");
		} else {
			sb_printf(b, "+++ %s with %d +++", tid != pid ? "thread exited" : "exited",
				  WEXITSTATUS(status));
		}
		finish(b, f);
	}
}

void log_ev_signal(struct log_thread **slot, pid_t pid, pid_t tid, int sig, const siginfo_t *si)
{
	struct log_thread *lt = lt_get(slot, pid, tid);
	char name[16];
	xlat_signame(sig, name, sizeof(name));
	const char *code = si ? xlat_si_code(sig, si->si_code) : NULL;
	bool from = si && (si->si_code <= 0 || sig == SIGCHLD);
	bool fault = si && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) &&
		     si->si_code > 0;
	uint64_t ts = log_realtime_ns();
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct sbuf *b = &line[f];
		head(b, f, "signal", ts, pid, tid, comm_of(lt));
		if (f == LOG_FORMAT_JSON) {
			jkey(b, "sig");
			put_str(b, f, name);
			if (si) {
				jkey(b, "code");
				if (code)
					put_str(b, f, code);
				else
					sb_i64(b, si->si_code);
			}
			if (from) {
				jkey(b, "from_pid");
				sb_i64(b, si->si_pid);
				jkey(b, "from_uid");
				sb_i64(b, si->si_uid);
			}
			if (fault) {
				jkey(b, "addr");
				sb_putc(b, '"');
				sb_hex(b, (uint64_t)(uintptr_t)si->si_addr);
				sb_putc(b, '"');
			}
		} else {
			sb_printf(b, "--- %s", name);
			if (si) {
				sb_puts(b, " {si_code=");
				if (code)
					sb_puts(b, code);
				else
					sb_i64(b, si->si_code);
				if (from)
					sb_printf(b, ", si_pid=%d, si_uid=%u", (int)si->si_pid,
						  (unsigned)si->si_uid);
				if (fault) {
					sb_puts(b, ", si_addr=");
					sb_hex(b, (uint64_t)(uintptr_t)si->si_addr);
				}
				sb_putc(b, '}');
			}
			sb_puts(b, " ---");
		}
		finish(b, f);
	}
}

/* ---- hook output ---- */

/* text_prefix: in front of text in the text format. */
static void hook_output(pid_t pid, pid_t tid, const char *where, const char *type, const char *key,
			const char *text, bool is_json, const char *text_prefix)
{
	uint64_t ts = log_realtime_ns();
	for (int f = 0; f < NFMT; f++) {
		if (!(formats & (1u << f)))
			continue;
		struct sbuf *b = &line[f];
		head(b, f, type, ts, pid, tid, NULL);
		if (f == LOG_FORMAT_JSON) {
			jkey(b, "where");
			put_str(b, f, where ? where : "?");
			jkey(b, key);
			if (is_json)
				sb_puts(b, text);
			else
				put_str(b, f, text);
		} else {
			sb_printf(b, "[%s] %s%s", where ? where : "?", text_prefix, text);
		}
		finish(b, f);
	}
}

void log_hook_print(pid_t pid, pid_t tid, const char *where, const char *text)
{
	if (log_active)
		hook_output(pid, tid, where, "print", "text", text, false, "");
}

void log_hook_json(pid_t pid, pid_t tid, const char *where, const char *json)
{
	if (log_active)
		hook_output(pid, tid, where, "log", "value", json, true, "logJson: ");
}

void log_hook_error(pid_t pid, pid_t tid, const char *where, const char *message)
{
	if (log_active)
		hook_output(pid, tid, where, "hook_error", "message", message, false,
			    "hook error: ");
}
