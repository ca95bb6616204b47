#include "hooks/hooks.h"

#include <errno.h>

#include "common/util.h"

static struct hook *lists[SYS_NR_MAX][2];
static bool notify_locked[SYS_NR_MAX];
/* Hooks per (syscall, phase) that stop the program, and observers. */
static unsigned stopping[SYS_NR_MAX][2], observing[SYS_NR_MAX][2];
static unsigned call_depth;
static const struct hook_engine_ops *engine;
static bool fail_closed;
static unsigned next_id = 1, count, generation;
static unsigned long total_failures;

/* (hook id, location) pairs already reported. */
struct reported {
	unsigned id;
	char *where;
	struct reported *next;
};
static struct reported *reported;

const char *hook_mode_name(enum hook_mode m)
{
	return m == HOOK_MODE_OBSERVE ? "observe" : m == HOOK_MODE_NOTIFY ? "notify" : "ptrace";
}

void hooks_set_engine(const struct hook_engine_ops *ops)
{
	engine = ops;
}
void hooks_set_fail_closed(bool closed)
{
	fail_closed = closed;
}

int hooks_add(int sysno, enum hook_phase phase, enum hook_mode mode, void *fn, const char *where,
	      struct jv_error *e)
{
	if (sysno < 0 || sysno >= SYS_NR_MAX)
		return jv_err(e, 0, "syscall number %d out of range 0..%d", sysno, SYS_NR_MAX - 1);
	if (mode == HOOK_MODE_NOTIFY && phase == HOOK_AFTER)
		return jv_err(e, 0,
			      "notify mode has no after-hooks: the result of a call is seen only "
			      "at a ptrace stop (use mode \"ptrace\")");
	if (mode == HOOK_MODE_OBSERVE && phase == HOOK_AFTER && notify_locked[sysno]) {
		const char *name = sys_name(sysno);
		return jv_err(e, 0,
			      "%s is served by seccomp notification since the program started: "
			      "its result is never seen, so only before-observers can be added",
			      name ? name : "this syscall");
	}
	if (mode == HOOK_MODE_PTRACE && notify_locked[sysno]) {
		const char *name = sys_name(sysno);
		return jv_err(e, 0,
			      "%s is served by seccomp notification since the program started: "
			      "only notify-mode before-hooks can be added to it now",
			      name ? name : "this syscall");
	}
	struct hook *h = xcalloc(1, sizeof(*h));
	h->id = next_id++;
	h->sysno = sysno;
	h->phase = phase;
	h->mode = mode;
	h->fn = fn;
	h->where = xstrdup(where ? where : "?");
	struct hook **p = &lists[sysno][phase];
	while (*p)
		p = &(*p)->next;
	*p = h;
	if (mode == HOOK_MODE_OBSERVE)
		observing[sysno][phase]++;
	else
		stopping[sysno][phase]++;
	count++;
	generation++;
	return (int)h->id;
}

static void free_hook(struct hook *h)
{
	if (engine && engine->release)
		engine->release(h);
	free(h->filter);
	free(h->where);
	free(h);
}

int hooks_remove(int sysno, int phase)
{
	int removed = 0;
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		if (sysno >= 0 && nr != sysno)
			continue;
		for (int ph = 0; ph < 2; ph++) {
			if (phase >= 0 && ph != phase)
				continue;
			struct hook *h = lists[nr][ph];
			lists[nr][ph] = NULL;
			stopping[nr][ph] = observing[nr][ph] = 0;
			while (h) {
				struct hook *next = h->next;
				free_hook(h);
				removed++;
				h = next;
			}
		}
	}
	count -= (unsigned)removed;
	if (removed)
		generation++;
	return removed;
}

void hooks_lock_notify(int sysno)
{
	if (sysno >= 0 && sysno < SYS_NR_MAX)
		notify_locked[sysno] = true;
}

bool hooks_notify_only(int sysno)
{
	if (sysno < 0 || sysno >= SYS_NR_MAX || lists[sysno][HOOK_AFTER])
		return false;
	for (struct hook *h = lists[sysno][HOOK_BEFORE]; h; h = h->next)
		if (h->mode == HOOK_MODE_PTRACE)
			return false;
	return lists[sysno][HOOK_BEFORE] != NULL;
}

bool hooks_wanted(int sysno, enum hook_phase phase)
{
	return sysno >= 0 && sysno < SYS_NR_MAX && stopping[sysno][phase] != 0;
}

bool hooks_observed(int sysno)
{
	return sysno >= 0 && sysno < SYS_NR_MAX &&
	       (observing[sysno][HOOK_BEFORE] || observing[sysno][HOOK_AFTER]);
}

bool hooks_observers_match(int sysno, const uint64_t args[6])
{
	if (!hooks_observed(sysno))
		return false;
	for (int ph = 0; ph < 2; ph++)
		for (struct hook *h = lists[sysno][ph]; h; h = h->next)
			if (h->mode == HOOK_MODE_OBSERVE &&
			    (!h->filter || argfilter_match(h->filter, args)))
				return true;
	return false;
}

bool hooks_observed_before_only(int sysno)
{
	return hooks_observed(sysno) && !observing[sysno][HOOK_AFTER];
}

bool hooks_in_call(void)
{
	return call_depth != 0;
}

struct hook *hooks_first(int sysno, enum hook_phase phase)
{
	return sysno >= 0 && sysno < SYS_NR_MAX ? lists[sysno][phase] : NULL;
}

unsigned hooks_count(void)
{
	return count;
}
unsigned hooks_generation(void)
{
	return generation;
}
void hooks_touch(void)
{
	generation++;
}
unsigned long hooks_failures(void)
{
	return total_failures;
}

static void (*error_sink)(pid_t pid, pid_t tid, const char *where, const char *message);

void hooks_set_error_sink(void (*sink)(pid_t pid, pid_t tid, const char *where,
				       const char *message))
{
	error_sink = sink;
}

static void report(struct hook *h, const struct hook_event *ev, const struct hook_failure *f)
{
	const char *name = sys_name(h->sysno);
	char what[1400];
	snprintf(what, sizeof(what), "%s (%s%s-hook on %s registered at %s, tid %d; %s", f->msg,
		 h->mode == HOOK_MODE_OBSERVE ? "observe-mode " : "",
		 h->phase == HOOK_BEFORE ? "before" : "after", name ? name : "?", h->where,
		 (int)ev->tid,
		 h->mode == HOOK_MODE_OBSERVE ? "the call had completed"
		 : fail_closed		      ? "the syscall fails with EPERM"
					      : "the syscall proceeds unchanged");
	/* The log gets every failure; stderr the first of each hook and place. */
	if (error_sink) {
		char msg[1450];
		snprintf(msg, sizeof(msg), "%s)", what);
		error_sink(ev->pid, ev->tid, f->where, msg);
	}
	for (struct reported *r = reported; r; r = r->next)
		if (r->id == h->id && strcmp(r->where, f->where) == 0)
			return;
	struct reported *r = xcalloc(1, sizeof(*r));
	r->id = h->id;
	r->where = xstrdup(f->where);
	r->next = reported;
	reported = r;
	jv_warn("hook error: %s: %s; reported once)", f->where, what);
}

/* Count and report a failure of h; true when the failure policy ends the chain. */
static bool fail(struct hook *h, const struct hook_event *ev, struct hook_verdict *v,
		 const struct hook_failure *f)
{
	h->failures++;
	total_failures++;
	report(h, ev, f);
	if (!fail_closed)
		return false;
	v->result_set = true;
	v->raw = -EPERM;
	if (ev->phase == HOOK_BEFORE)
		v->skip = true;
	return true;
}

void hooks_run(struct hook_event *ev, struct hook_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!engine)
		return;
	for (struct hook *h = hooks_first(ev->sysno, ev->phase); h; h = h->next) {
		if (h->mode == HOOK_MODE_OBSERVE ||
		    (h->filter && !argfilter_match(h->filter, ev->args)))
			continue;
		struct hook_verdict r = {0};
		struct hook_failure f = {{0}, {0}};
		h->calls++;
		call_depth++;
		int rc = engine->call(h, ev, &r, &f);
		call_depth--;
		if (rc < 0) {
			if (fail(h, ev, v, &f))
				return;
			continue;
		}
		if (r.args_set && h->mode == HOOK_MODE_NOTIFY) {
			int i = __builtin_ctz(r.args_set);
			snprintf(f.where, sizeof(f.where), "%s", h->where);
			snprintf(f.msg, sizeof(f.msg),
				 "a notify-mode hook cannot change arguments (it returned argument "
				 "%d); use mode \"ptrace\"",
				 i);
			if (fail(h, ev, v, &f))
				return;
			continue;
		}
		if (ev->phase == HOOK_BEFORE) {
			for (int i = 0; i < 6; i++) {
				if (r.args_set & (1u << i)) {
					ev->args[i] = r.args[i];
					v->args[i] = r.args[i];
				}
			}
			v->args_set |= r.args_set;
			if (r.skip) {
				v->skip = true;
				v->result_set = true;
				v->raw = r.raw;
				return;
			}
		} else if (r.result_set) {
			v->result_set = true;
			v->raw = r.raw;
			ev->ret = r.raw < 0 && r.raw >= -4095 ? -1 : r.raw;
			ev->err = r.raw < 0 && r.raw >= -4095 ? (int)-r.raw : 0;
		}
	}
}

/* What an observer's result tried to change, for its error; NULL: nothing. */
static const char *observer_change(const struct hook_verdict *r, char *buf, size_t len)
{
	if (r->args_set)
		snprintf(buf, len, "argument %d", __builtin_ctz(r->args_set));
	else if (r->skip || r->result_set)
		snprintf(buf, len, "the result (ret/errno)");
	else
		return NULL;
	return buf;
}

void hooks_observe(struct hook_event *ev)
{
	if (!engine)
		return;
	for (int ph = HOOK_BEFORE; ph <= HOOK_AFTER; ph++) {
		ev->phase = (enum hook_phase)ph;
		for (struct hook *h = hooks_first(ev->sysno, ev->phase); h; h = h->next) {
			if (h->mode != HOOK_MODE_OBSERVE ||
			    (h->filter && !argfilter_match(h->filter, ev->args)))
				continue;
			struct hook_verdict r = {0};
			struct hook_failure f = {{0}, {0}};
			char what[64];
			h->calls++;
			call_depth++;
			int rc = engine->call(h, ev, &r, &f);
			call_depth--;
			if (rc == 0 && observer_change(&r, what, sizeof(what))) {
				snprintf(f.where, sizeof(f.where), "%s", h->where);
				snprintf(f.msg, sizeof(f.msg),
					 "an observe-mode hook cannot change the call (it returned "
					 "%s; the call had completed, the change is ignored); use "
					 "mode \"ptrace\" or \"notify\"",
					 what);
				rc = -1;
			}
			if (rc < 0) {
				h->failures++;
				total_failures++;
				report(h, ev, &f);
			}
		}
	}
}

void hooks_thread_gone(void *local)
{
	if (engine && engine->thread_gone && local)
		engine->thread_gone(local);
}
