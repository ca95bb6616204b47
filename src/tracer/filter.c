/* The seccomp filter: RET_TRACE for hooked and logged syscalls (every x86 ABI),
 * RET_USER_NOTIF for those served in notify mode (notify.c), allow the rest. It is installed even
 * when nothing is hooked, because it also keeps the program from creating children the supervisor
 * would not trace: clone with CLONE_UNTRACED fails with EPERM, and clone3 (whose flags live in
 * memory) is trapped so the tracer can check them (src/tracer/loop.c). */
#include <errno.h>
#include <asm/unistd.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>

#include "common/util.h"
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
	return hooks_wanted(nr, HOOK_BEFORE) || hooks_wanted(nr, HOOK_AFTER) || log_wants(nr) ||
	       nr == __NR_clone3 || (nr == __NR_execve && notify_pending_adopt());
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
		if (nr == __NR_clone) {
			r = seccomp_rule_add(
			    ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_UNTRACED, CLONE_UNTRACED));
			if (r == 0 && trap)
				r = seccomp_rule_add(
				    ctx, SCMP_ACT_TRACE(JV_TRACE_DATA), nr, 1,
				    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_UNTRACED, 0));
		} else if (trap) {
			/* With the argument filters of its hooks, if any. */
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
	if (argrules_wrap(&buf, len, e) < 0)
		return -1;
	/* Other ABIs: only what is trapped reaches the rules (src/sandbox/policy.c). */
	if (policy_wrap_abi(&buf, len, trapped, e) < 0)
		return -1;
	*prog = steal_pointer(&buf);
	return 0;
}
