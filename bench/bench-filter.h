/* The classic-BPF seccomp filter shared by the bench helpers (no libseccomp, so
 * the bench programs build with plain `cc`): check the x86_64 ABI, then return
 * `hit` for syscall `nr`, SECCOMP_RET_ALLOW for everything else. */
#ifndef BENCH_FILTER_H
#define BENCH_FILTER_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Returns the new listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER in flags. */
static inline int bench_install_filter_flags(int nr, unsigned hit, unsigned flags)
{
	struct sock_filter insns[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, hit),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static inline int bench_install_filter(int nr, unsigned hit)
{
	return bench_install_filter_flags(nr, hit, 0);
}

#endif
