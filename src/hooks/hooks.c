#include "hooks/hooks.h"

#include <errno.h>

#include "common/util.h"

static struct hook *lists[SYS_NR_MAX][2];
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

void hooks_set_engine(const struct hook_engine_ops *ops)
{
	engine = ops;
}
void hooks_set_fail_closed(bool closed)
{
	fail_closed = closed;
}

int hooks_add(int sysno, enum hook_phase phase, void *fn, const char *where, struct jv_error *e)
{
	if (sysno < 0 || sysno >= SYS_NR_MAX)
		return jv_err(e, 0, "syscall number %d out of range 0..%d", sysno, SYS_NR_MAX - 1);
	struct hook *h = xcalloc(1, sizeof(*h));
	h->id = next_id++;
	h->sysno = sysno;
	h->phase = phase;
	h->fn = fn;
	h->where = xstrdup(where ? where : "?");
	struct hook **p = &lists[sysno][phase];
	while (*p)
		p = &(*p)->next;
	*p = h;
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

bool hooks_wanted(int sysno, enum hook_phase phase)
{
	return sysno >= 0 && sysno < SYS_NR_MAX && lists[sysno][phase] != NULL;
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
unsigned long hooks_failures(void)
{
	return total_failures;
}

static void report(struct hook *h, const struct hook_event *ev, const struct hook_failure *f)
{
	for (struct reported *r = reported; r; r = r->next)
		if (r->id == h->id && strcmp(r->where, f->where) == 0)
			return;
	struct reported *r = xcalloc(1, sizeof(*r));
	r->id = h->id;
	r->where = xstrdup(f->where);
	r->next = reported;
	reported = r;
	const char *name = sys_name(h->sysno);
	jv_warn("hook error: %s: %s (%s-hook on %s registered at %s, tid %d; %s; reported once)",
		f->where, f->msg, h->phase == HOOK_BEFORE ? "before" : "after", name ? name : "?",
		h->where, (int)ev->tid,
		fail_closed ? "the syscall fails with EPERM" : "the syscall proceeds unchanged");
}

void hooks_run(struct hook_event *ev, struct hook_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!engine)
		return;
	for (struct hook *h = hooks_first(ev->sysno, ev->phase); h; h = h->next) {
		if (h->filter && !argfilter_match(h->filter, ev->args))
			continue;
		struct hook_verdict r = {0};
		struct hook_failure f = {{0}, {0}};
		h->calls++;
		if (engine->call(h, ev, &r, &f) < 0) {
			h->failures++;
			total_failures++;
			report(h, ev, &f);
			if (fail_closed) {
				v->result_set = true;
				v->raw = -EPERM;
				if (ev->phase == HOOK_BEFORE)
					v->skip = true;
				return;
			}
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

void hooks_thread_gone(void *local)
{
	if (engine && engine->thread_gone && local)
		engine->thread_gone(local);
}
