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

/* The numbers of the filtered syscalls in another ABI (x32: with its bit). */
static size_t foreign(enum sys_abi abi, uint32_t *out)
{
	size_t n = 0;
	for (int k = 0; k < SYS_NR_MAX; k++) {
		int nat = sys_to_native(abi, k);
		if (nat >= 0 && nat < SYS_NR_MAX && filtered[nat])
			out[n++] = (uint32_t)k | (abi == SYS_ABI_X32 ? X32_BIT : 0);
	}
	return n;
}

int argrules_wrap(struct sock_filter **prog, size_t *len, struct jv_error *e)
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
	static uint32_t i386[SYS_NR_MAX], x32[SYS_NR_MAX];
	size_t ni = foreign(SYS_ABI_I386, i386), nx = foreign(SYS_ABI_X32, x32);
	if (!ni && !nx)
		return 0;
	/* ld arch; i386? -> I; ld nr; x32 bit? -> X; else the program. */
	size_t head = 7, total = head + 1 + 2 * ni + 1 + 2 * nx + 1 + *len;
	if (total > BPF_MAXINSNS)
		return jv_err(e, 0,
			      "seccomp filter too large with argument filters (%zu instructions)",
			      total);
	struct sock_filter *f = xcalloc(total, sizeof(*f));
	size_t lib = total - *len, i_at = head, x_at = head + 1 + 2 * ni + 1;
	size_t k = 0;
#define INS(code, jt, jf, kk) (f[k] = (struct sock_filter)BPF_JUMP(code, kk, jt, jf), k++)
#define JA_TO(target) INS(BPF_JMP | BPF_JA, 0, 0, (uint32_t)((target) - (k + 1)))
	INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
	INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, AUDIT_ARCH_I386);
	JA_TO(i_at);
	INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
	INS(BPF_JMP | BPF_JGE | BPF_K, 0, 1, X32_BIT);
	JA_TO(x_at);
	JA_TO(lib); /* native (or another arch: the program checks it) */
	INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < ni; i++) {
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, i386[i]);
		INS(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE | JV_TRACE_DATA);
	}
	JA_TO(lib);
	for (size_t i = 0; i < nx; i++) {
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, x32[i]);
		INS(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE | JV_TRACE_DATA);
	}
	JA_TO(lib);
#undef JA_TO
#undef INS
	if (k != lib)
		abort();
	memcpy(f + lib, *prog, *len * sizeof(*f));
	free(*prog);
	*prog = f;
	*len = total;
	return 0;
}
