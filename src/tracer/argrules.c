/* Argument filters in the seccomp filter (argrules.h). */
#include "tracer/argrules.h"

#include <asm/unistd.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>

#include "common/util.h"
#include "hooks/hooks.h"
#include "log/log.h"
#include "sandbox/policy.h"
#include "tracer/internal.h"

#define X32_BIT 0x40000000u

static bool filtered[SYS_NR_MAX], all[SYS_NR_MAX];

/* Can nr have argument rules? Not when any hook takes every call, the log or
 * the policy wants it, or the tracer must see it (clone, clone3, exec). */
static bool can_filter(int nr)
{
	if (nr == __NR_clone || nr == __NR_clone3 || nr == __NR_execve || nr == __NR_execveat ||
	    log_wants_all(nr) || policy_watches(nr))
		return false;
	bool any = log_wants(nr); /* with --trace-args: its filter is one more rule */
	for (int ph = 0; ph < 2; ph++) {
		for (struct hook *h = hooks_first(nr, (enum hook_phase)ph); h; h = h->next) {
			if (!h->filter || !h->filter->n)
				return false;
			any = true;
		}
	}
	return any;
}

static const enum scmp_compare scmp_op[] = {
    [ARGCMP_EQ] = SCMP_CMP_EQ,
    [ARGCMP_NE] = SCMP_CMP_NE,
    [ARGCMP_LT] = SCMP_CMP_LT,
    [ARGCMP_LE] = SCMP_CMP_LE,
    [ARGCMP_GT] = SCMP_CMP_GT,
    [ARGCMP_GE] = SCMP_CMP_GE,
    [ARGCMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

/* One rule (RET_TRACE or RET_USER_NOTIF): the comparisons of f, all of them. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const struct hook_filter *f)
{
	struct scmp_arg_cmp c[6];
	for (unsigned i = 0; i < f->n; i++) {
		const struct argcmp *a = &f->cmp[i];
		c[i] = (struct scmp_arg_cmp){a->arg, scmp_op[a->op], 0, 0};
		if (a->op == ARGCMP_MASKED_EQ) {
			c[i].datum_a = a->mask;
			c[i].datum_b = a->value;
		} else {
			c[i].datum_a = a->value;
		}
	}
	int r = seccomp_rule_add_array(ctx, action, nr, f->n, c);
	return r == -EEXIST ? 0 : r;
}

int argrules_add(void *scmp_ctx, int nr, uint32_t action)
{
	scmp_filter_ctx ctx = scmp_ctx;
	bool f = can_filter(nr);
	filtered[nr] = f;
	if (!f)
		return seccomp_rule_add(ctx, action, nr, 0);
	/* First in the program: a filtered-out call runs the BPF on every call
	 * (the kernel's per-syscall allow cache cannot skip it). */
	int r = seccomp_syscall_priority(ctx, nr, 255);
	if (r == 0 && log_wants(nr))
		r = add_rule(ctx, action, nr, log_trace_args());
	for (int ph = 0; ph < 2 && r == 0; ph++)
		for (struct hook *h = hooks_first(nr, (enum hook_phase)ph); h && r == 0;
		     h = h->next)
			r = add_rule(ctx, action, nr, h->filter);
	return r;
}

bool argrules_traps_all(int nr)
{
	return nr >= 0 && nr < SYS_NR_MAX && all[nr];
}

bool argrules_uncovered(int nr)
{
	for (int ph = 0; ph < 2; ph++)
		for (struct hook *h = hooks_first(nr, (enum hook_phase)ph); h; h = h->next)
			if (!h->covered)
				return true;
	return false;
}

bool argrules_filtered(int nr)
{
	return nr >= 0 && nr < SYS_NR_MAX && filtered[nr];
}

void argrules_built(void)
{
	/* What the filter traps now, for growing it later (grow.c). */
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		bool any = false;
		for (int ph = 0; ph < 2; ph++) {
			for (struct hook *h = hooks_first(nr, (enum hook_phase)ph); h;
			     h = h->next) {
				h->covered = true;
				any = true;
			}
		}
		all[nr] = !filtered[nr] && (any || log_wants(nr));
	}
}
