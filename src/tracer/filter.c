/* The seccomp filter: RET_TRACE for hooked and logged syscalls (every x86 ABI),
 * RET_USER_NOTIF for those served in notify mode (notify.c), allow the rest. It is installed even
 * when nothing is hooked, because it also keeps the program from creating children the supervisor
 * would not trace: clone with CLONE_UNTRACED fails with EPERM, and clone3 fails with ENOSYS. Its
 * flags live in memory that another thread (or process) of the program can rewrite between any
 * check and the kernel's own read; libc falls back to clone, whose flags are in a register the
 * filter sees (Docker's default profile makes the same choice). When hooks or the log want clone3
 * it stops first, and the tracer fails it after the before-hooks (src/tracer/loop.c). */
#include <errno.h>
#include <asm/unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <stddef.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>

#include "common/util.h"
#include "hooks/observe.h"
#include "log/log.h"
#include "sandbox/policy.h"
#include "tracer/argrules.h"
#include "tracer/internal.h"

static void release_ctx(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

int filter_ctx_new(scmp_filter_ctx *ctx, struct jv_error *e)
{
	*ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!*ctx)
		return jv_err(e, ENOMEM, "seccomp_init");
	/* Other ABIs are trapped too, so that int 0x80 or x32 cannot slip past a hook. */
	int r;
	if ((r = seccomp_arch_add(*ctx, SCMP_ARCH_X86)) < 0 && r != -EEXIST)
		return jv_err(e, -r, "seccomp: cannot add the i386 ABI");
	if ((r = seccomp_arch_add(*ctx, SCMP_ARCH_X32)) < 0 && r != -EEXIST)
		return jv_err(e, -r, "seccomp: cannot add the x32 ABI");
	return 0;
}

int filter_export(scmp_filter_ctx ctx, struct sock_filter **prog, size_t *len, struct jv_error *e)
{
	_cleanup_close_ int fd = memfd_create("jvisor-filter", MFD_CLOEXEC);
	if (fd < 0)
		return jv_err(e, errno, "memfd_create");
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return jv_err(e, -r, "seccomp_export_bpf");
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return jv_err(e, 0, "seccomp_export_bpf produced %lld bytes", (long long)size);
	_cleanup_free_ struct sock_filter *buf = xmalloc((size_t)size);
	if (pread(fd, buf, (size_t)size, 0) != size)
		return jv_err(e, errno, "reading the exported filter");
	*len = (size_t)size / sizeof(struct sock_filter);
	*prog = steal_pointer(&buf);
	return 0;
}

/* Syscalls that stop for the hooks or the log (RET_TRACE with JV_TRACE_DATA),
 * or go to the notification listener (notify.c; execve then stops so that
 * jvisor can take the listener). */
static bool trapped(int nr)
{
	return hooks_wanted(nr, HOOK_BEFORE) || hooks_wanted(nr, HOOK_AFTER) ||
	       observe_at_stops(nr) || log_wants(nr) || nr == __NR_clone3 ||
	       (nr == __NR_execve && notify_pending_adopt());
}

static bool stops[SYS_NR_MAX];

void filter_note_stop(int nr)
{
	if (nr >= 0 && nr < SYS_NR_MAX)
		stops[nr] = true;
}

bool filter_stops(int native, enum sys_abi abi)
{
	/* Other ABIs: the prefix below stops every call nothing traps. */
	return stops[native] || (abi != SYS_ABI_X86_64 &&
				 (policy_foreign_abi_denied() || observe_foreign_stops(native)));
}

#define X32_BIT 0x40000000u

/* The numbers in another ABI (x32: with its bit) of the native syscalls that
 * pick() selects, in out; returns how many. */
static size_t foreign(enum sys_abi abi, bool (*pick)(int nr), uint32_t *out)
{
	size_t n = 0;
	for (int k = 0; k < SYS_NR_MAX; k++) {
		int nat = sys_to_native(abi, k);
		if (nat >= 0 && nat < SYS_NR_MAX && pick(nat))
			out[n++] = (uint32_t)k | (abi == SYS_ABI_X32 ? X32_BIT : 0);
	}
	return n;
}

/* Syscalls whose other-ABI calls stop in the prefix: those with argument
 * rules, and those whose observers an event backend feeds (it sees native
 * calls only; the filter does not trap their native calls). */
static bool foreign_traced(int nr)
{
	return argrules_filtered(nr) || observe_foreign_stops(nr);
}

/* One prefix in front of libseccomp's program for the other ABIs. A native
 * call jumps straight to the program (five instructions). An i386 or x32 call
 * of a syscall with argument rules or observers fed by the event backend stops
 * (libseccomp compares only the low 32 bits there; the tracer checks the
 * filters), one of another trapped syscall
 * goes on to the program, and any other is stopped for the policy's
 * foreign-ABI rule (RET_TRACE with JV_ABI_DATA), or goes on when the policy
 * allows other ABIs. No prefix when it would change nothing. */
static int wrap_abi(struct sock_filter **prog, size_t *len, struct jv_error *e)
{
	bool deny = policy_foreign_abi_denied();
	static uint32_t fi[SYS_NR_MAX], ti[SYS_NR_MAX], fx[SYS_NR_MAX], tx[SYS_NR_MAX];
	size_t nfi = foreign(SYS_ABI_I386, foreign_traced, fi);
	size_t nfx = foreign(SYS_ABI_X32, foreign_traced, fx);
	size_t nti = deny ? foreign(SYS_ABI_I386, trapped, ti) : 0;
	size_t ntx = deny ? foreign(SYS_ABI_X32, trapped, tx) : 0;
	if (!deny && !nfi && !nfx)
		return 0;
	size_t head = 7, n_i = 2 + 2 * (nfi + nti), n_x = 2 + 2 * (nfx + ntx);
	size_t total = head + n_i + n_x + *len;
	if (total > BPF_MAXINSNS)
		return jv_err(e, 0,
			      "seccomp filter too large with the rules for other ABIs (%zu "
			      "instructions)%s",
			      total,
			      deny ? "; a policy file with \"foreign-abi\": \"allow\" makes it "
				     "smaller"
				   : "");
	struct sock_filter *f = xcalloc(total, sizeof(*f));
	size_t lib = total - *len, i_at = head, x_at = head + n_i, k = 0;
#define INS(code, jt, jf, kk) (f[k] = (struct sock_filter)BPF_JUMP(code, kk, jt, jf), k++)
#define JA_TO(target) INS(BPF_JMP | BPF_JA, 0, 0, (uint32_t)((target) - (k + 1)))
	INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
	INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, AUDIT_ARCH_X86_64);
	INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
	INS(BPF_JMP | BPF_JGE | BPF_K, 2, 0, X32_BIT);
	JA_TO(lib);  /* x86_64 */
	JA_TO(i_at); /* the other arch: i386 */
	JA_TO(x_at); /* x32 */
	for (int abi = 0; abi < 2; abi++) {
		const uint32_t *filt = abi ? fx : fi, *trap = abi ? tx : ti;
		size_t nf = abi ? nfx : nfi, nt = abi ? ntx : nti;
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
		for (size_t i = 0; i < nf; i++) {
			INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, filt[i]);
			INS(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE | JV_TRACE_DATA);
		}
		for (size_t i = 0; i < nt; i++) {
			INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, trap[i]);
			JA_TO(lib);
		}
		if (deny)
			INS(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE | JV_ABI_DATA);
		else
			JA_TO(lib);
	}
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

int filter_build(struct sock_filter **prog, size_t *len, struct jv_error *e)
{
	*prog = NULL;
	*len = 0;
	__attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = NULL;
	if (filter_ctx_new(&ctx, e) < 0)
		return -1;
	int r;
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		bool trap = trapped(nr);
		if (trap || policy_watches(nr))
			filter_note_stop(nr);
		if (nr == __NR_clone3 && !hooks_wanted(nr, HOOK_BEFORE) &&
		    !hooks_wanted(nr, HOOK_AFTER) && !log_wants(nr)) {
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		} else if (nr == __NR_clone) {
			r = seccomp_rule_add(
			    ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_UNTRACED, CLONE_UNTRACED));
			if (r == 0 && trap)
				r = seccomp_rule_add(
				    ctx, SCMP_ACT_TRACE(JV_TRACE_DATA), nr, 1,
				    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_UNTRACED, 0));
		} else if (trap) {
			/* With the argument filters of its hooks, if any (clone3:
			 * none, argrules.c). */
			r = argrules_add(ctx, nr,
					 notify_served(nr) ? SCMP_ACT_NOTIFY
							   : SCMP_ACT_TRACE(JV_TRACE_DATA));
		} else {
			continue;
		}
		if (r < 0) {
			const char *name = sys_name(nr);
			return jv_err(e, -r, "seccomp: cannot trap syscall %s (%d)",
				      name ? name : "?", nr);
		}
	}
	/* The sandbox policy's denials (src/sandbox/policy.c). */
	if (policy_add_rules(ctx, trapped, e) < 0)
		return -1;
	_cleanup_free_ struct sock_filter *buf = NULL;
	if (filter_export(ctx, &buf, len, e) < 0)
		return -1;
	argrules_built();
	if (wrap_abi(&buf, len, e) < 0)
		return -1;
	*prog = steal_pointer(&buf);
	return 0;
}
