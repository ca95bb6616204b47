/* What observe-mode hooks need from the stop path (docs/hooks.md, "Observe
 * mode"): each call of an observed syscall decoded at its stops exactly as the
 * log decodes it (in-arguments at entry, out-arguments at exit, with the one
 * decoder of src/syscalls), and handed to the observers' queue
 * (src/hooks/observe.h) when it completes. The decoding happens while the
 * thread is stopped, so the program cannot change what the observers see. */
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "bpf/backend.h"
#include "common/sbuf.h"
#include "hooks/observe.h"
#include "syscalls/decode.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

/* The call in progress of one thread. */
struct obs_call {
	bool pending;
	int sysno;
	enum sys_abi abi;
	uint64_t args[6]; /* as the program passed them */
	uint64_t ts_ns, t0_ns;
	struct sbuf ent; /* in-arguments decoded at entry */
	uint32_t off[7];
	struct sbuf rec; /* the whole "args" array */
};

static size_t str_max = 256;

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tracer_observe_string_limit(size_t n)
{
	if (n)
		str_max = n;
}

/* An fd's path now (the thread is stopped in the call that uses it). */
static const char *fd_path(pid_t pid, int fd)
{
	static char target[PATH_MAX];
	char link[64];
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	return target;
}

static struct dec_ctx ctx_of(const struct obs_call *c, pid_t pid, pid_t tid)
{
	return (struct dec_ctx){.pid = pid,
				.tid = tid,
				.abi = c->abi,
				.fmt = DEC_JSON,
				.str_max = str_max,
				.fd_path = fd_path};
}

static void **local_of(pid_t tid)
{
	struct thread *t = thread_get(tid);
	return t ? &t->local : NULL;
}

static void decode_entry(struct obs_call *c, const struct hook_event *ev)
{
	const struct sys_info *si = sys_info(ev->sysno);
	c->pending = true;
	c->sysno = ev->sysno;
	c->abi = ev->abi;
	memcpy(c->args, ev->args, sizeof(c->args));
	c->ts_ns = realtime_ns();
	c->t0_ns = jv_now_ns();
	struct dec_ctx d = ctx_of(c, ev->pid, ev->tid);
	c->ent.len = 0;
	for (int i = 0; i < si->nargs; i++) {
		c->off[i] = (uint32_t)c->ent.len;
		if (!sys_role_is_out(si->args[i].role))
			dec_arg(&d, si, i, c->args, false, 0, &c->ent);
	}
	c->off[si->nargs] = (uint32_t)c->ent.len;
}

/* Complete c: out-arguments decoded now (eff: the arguments as the kernel ran
 * the call), and the record handed to the observers. */
static void complete(struct obs_call *c, pid_t pid, pid_t tid, const uint64_t eff[6],
		     bool has_result, bool ran, int64_t raw, enum observe_source src)
{
	/* The BPF backend's records of this thread's earlier calls first: the
	 * observers see a thread's calls in its order. */
	bpfl_drain();
	const struct sys_info *si = sys_info(c->sysno);
	struct dec_ctx d = ctx_of(c, pid, tid);
	struct sbuf *b = &c->rec;
	b->len = 0;
	sb_putc(b, '[');
	for (int i = 0; i < si->nargs; i++) {
		if (i)
			sb_putc(b, ',');
		if (sys_role_is_out(si->args[i].role))
			dec_arg(&d, si, i, eff, has_result && ran, raw, b);
		else
			sb_put(b, c->ent.p + c->off[i], c->off[i + 1] - c->off[i]);
	}
	sb_putc(b, ']');
	c->pending = false;
	struct observe_record r = {
	    .pid = pid,
	    .tid = tid,
	    .sysno = c->sysno,
	    .abi = c->abi,
	    .has_result = has_result,
	    .raw = raw,
	    .ts_ns = c->ts_ns,
	    .dur_ns = has_result ? jv_now_ns() - c->t0_ns : 0,
	    .args_json = b->p,
	    .args_len = b->len,
	    .source = src,
	};
	memcpy(r.args, c->args, sizeof(r.args));
	observe_record(&r);
}

static struct obs_call *call_of(struct thread *t)
{
	if (!t->obs) {
		t->obs = xcalloc(1, sizeof(*t->obs));
		observe_set_local_lookup(local_of);
	}
	return t->obs;
}

void tobs_enter(struct thread *t, const struct hook_event *ev)
{
	decode_entry(call_of(t), ev);
}

void tobs_exit(struct thread *t, const uint64_t eff[6], bool ran, int64_t raw)
{
	if (t->obs && t->obs->pending)
		complete(t->obs, t->tgid, t->tid, eff, true, ran, raw, OBSERVE_PTRACE);
}

void tobs_noreturn(struct thread *t)
{
	if (t->obs && t->obs->pending)
		complete(t->obs, t->tgid, t->tid, t->obs->args, false, false, 0, OBSERVE_PTRACE);
}

void tobs_end(struct thread *t)
{
	tobs_noreturn(t); /* a call in progress never returned */
	observe_drain();  /* while persistence.local is still there */
	if (t->obs) {
		sb_free(&t->obs->ent);
		sb_free(&t->obs->rec);
		free(t->obs);
		t->obs = NULL;
	}
}

void tobs_notified(const struct hook_event *ev, bool skipped, int64_t raw)
{
	static struct obs_call c;
	observe_set_local_lookup(local_of);
	decode_entry(&c, ev);
	complete(&c, ev->pid, ev->tid, ev->args, skipped, false, raw, OBSERVE_NOTIFY);
}
