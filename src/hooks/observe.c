/* The observers' queue (observe.h). */
#include "hooks/observe.h"

#include "common/sbuf.h"
#include "common/util.h"
#include "hooks/hooks.h"

struct slot {
	struct observe_record r;
	struct sbuf args; /* the copy of r.args_json */
};

static struct slot *ring;
static size_t cap = 4096, head, n_queued;
static bool drop_when_full, draining;
static bool (*backend_feeds)(int nr);
static void **(*lookup_local)(pid_t tid);
static struct observe_stats stats;

static const char *const mode_names[] = {
    [OBSERVE_PTRACE] = "observe-ptrace",
    [OBSERVE_NOTIFY] = "observe-notify",
    [OBSERVE_BPF] = "observe-bpf",
};

bool observe_wants(int nr)
{
	return hooks_observed(nr);
}

void observe_set_backend(bool (*feeds)(int nr))
{
	backend_feeds = feeds;
}

static bool fed(int nr)
{
	return backend_feeds && backend_feeds(nr);
}

bool observe_at_stops(int nr)
{
	return hooks_observed(nr) && !fed(nr);
}

bool observe_at_stop_match(int nr, const uint64_t args[6])
{
	return hooks_observers_match(nr, args) && !fed(nr);
}

bool observe_at_stop_abi(int nr, enum sys_abi abi, const uint64_t args[6])
{
	return abi == SYS_ABI_X86_64 ? observe_at_stop_match(nr, args)
				     : hooks_observers_match(nr, args);
}

bool observe_foreign_stops(int nr)
{
	return hooks_observed(nr) && fed(nr);
}

void observe_set_queue(size_t n, bool drop)
{
	if (!ring && n)
		cap = n;
	drop_when_full = drop;
}

void observe_set_local_lookup(void **(*fn)(pid_t tid))
{
	lookup_local = fn;
}

bool observe_pending(void)
{
	return n_queued != 0;
}

void observe_stats(struct observe_stats *s)
{
	*s = stats;
}

/* The record being delivered: its slot may be reused meanwhile. */
static struct slot cur;

/* Call the observers of the record in cur. */
static void deliver(void)
{
	const struct observe_record *r = &cur.r;
	bool failed = r->raw < 0 && r->raw >= -4095;
	struct hook_event ev = {
	    .pid = r->pid,
	    .tid = r->tid,
	    .sysno = r->sysno,
	    .abi = r->abi,
	    .ret = failed ? -1 : r->raw,
	    .err = failed ? (int)-r->raw : 0,
	    .local = lookup_local ? lookup_local(r->tid) : NULL,
	    .observed = true,
	    .has_result = r->has_result,
	    .obs_mode = mode_names[r->source],
	    .args_json = cur.args.p,
	    .args_len = cur.args.len,
	    .ts_ns = r->ts_ns,
	    .dur_ns = r->dur_ns,
	};
	memcpy(ev.args, r->args, sizeof(ev.args));
	hooks_observe(&ev);
	stats.delivered++;
}

void observe_drain(void)
{
	if (draining || hooks_in_call())
		return;
	draining = true;
	while (n_queued) {
		/* Swap the slot's buffer with cur's: no copy, no allocation. */
		struct slot *s = &ring[head];
		struct sbuf spare = cur.args;
		cur = *s;
		s->args = spare;
		head = (head + 1) % cap;
		n_queued--;
		deliver();
	}
	draining = false;
}

/* Make room for one more record; false when it must be dropped. */
static bool room(void)
{
	if (n_queued < cap)
		return true;
	if (drop_when_full) {
		stats.dropped++;
		return false;
	}
	stats.held++;
	observe_drain();
	if (n_queued < cap)
		return true;
	/* Inside a hook call nothing can run now: grow rather than lose it.
	 * The queue is full, so every slot moves. */
	struct slot *bigger = xcalloc(cap * 2, sizeof(*bigger));
	for (size_t i = 0; i < cap; i++)
		bigger[i] = ring[(head + i) % cap];
	free(ring);
	ring = bigger;
	head = 0;
	cap *= 2;
	return true;
}

void observe_record(const struct observe_record *r)
{
	if (!ring)
		ring = xcalloc(cap, sizeof(*ring));
	if (!room())
		return;
	struct slot *s = &ring[(head + n_queued) % cap];
	s->r = *r;
	s->args.len = 0;
	sb_put(&s->args, r->args_json ? r->args_json : "[]", r->args_json ? r->args_len : 2);
	sb_putc(&s->args, '\0');
	s->args.len--;
	s->r.args_json = NULL;
	n_queued++;
	if (n_queued > stats.max_queued)
		stats.max_queued = n_queued;
}

int observe_close(void)
{
	observe_drain();
	for (size_t i = 0; ring && i < cap; i++)
		sb_free(&ring[i].args);
	sb_free(&cur.args);
	free(ring);
	ring = NULL;
	head = n_queued = 0;
	struct observe_stats s = stats;
	stats = (struct observe_stats){0}; /* the run is over */
	if (s.dropped) {
		jv_warn("observe-mode hooks: %lu call%s dropped (the queue of %zu was full and "
			"the policy is drop); %lu delivered",
			s.dropped, s.dropped == 1 ? "" : "s", cap, s.delivered);
		return -1;
	}
	return 0;
}
