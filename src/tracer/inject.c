/* Syscall injection into a thread stopped in a hook call.
 *
 * Before a syscall (seccomp or entry stop): make the stop run `nr` instead,
 * take its exit stop, then rewind the instruction pointer over the syscall
 * instruction with the original registers and run to the entry stop of the
 * original call again (the thread is then "at an entry stop").
 * After a syscall (exit stop): rewind, run `nr` from its entry to its exit,
 * then put the exit registers back. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bpf/backend.h"
#include "common/util.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

/* Resume with PTRACE_SYSCALL until the next syscall stop of t; seccomp stops
 * on the way are passed. Signals that arrive are re-queued for later. */
static int run_to_syscall_stop(struct thread *t, struct jv_error *e)
{
	int status;
	if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_SYSCALL)");
	for (;;) {
		if (tracer_wait_tid(t->tid, &status) < 0)
			return jv_err(e, errno, "waitpid");
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			t->gone = true;
			t->gone_status = status;
			return jv_err(e, ESRCH, "the thread exited during syscall injection");
		}
		int sig = WSTOPSIG(status);
		int event = (unsigned)status >> 16;
		if (!event && sig == (SIGTRAP | 0x80))
			return 0;
		/* Delivered later, except the BPF backend's backpressure stop: drained
		 * here, never seen by the program. */
		if (!event && sig != SIGTRAP && !bpfl_hold_stop(t->tid, sig))
			syscall(SYS_tgkill, t->tgid, t->tid, sig);
		if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
			return jv_err(e, errno, "ptrace(PTRACE_SYSCALL)");
	}
}

int tracer_inject(void *thread, int nr, const uint64_t args[6], int64_t *result, struct jv_error *e)
{
	struct thread *t = thread;
	if (!t)
		return tracer_not_stopped(e);
	if (t->gone)
		return jv_err(e, ESRCH, "the thread has exited");
	if (t->ev.abi != SYS_ABI_X86_64)
		return jv_err(e, ENOSYS, "cannot inject a syscall during a %s syscall",
			      sys_abi_name(t->ev.abi));
	struct user_regs_struct saved, r;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &saved) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_GETREGS)");
	r = saved;
	if (t->ev.phase == HOOK_BEFORE) {
		r.orig_rax = (unsigned long long)nr;
		for (int i = 0; i < 6; i++)
			regs_set_arg(&r, SYS_ABI_X86_64, i, args[i]);
		if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
			return jv_err(e, errno, "ptrace(PTRACE_SETREGS)");
		if (run_to_syscall_stop(t, e) < 0) /* exit of nr */
			return -1;
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
			return jv_err(e, errno, "ptrace(PTRACE_GETREGS)");
		*result = (int64_t)r.rax;
		r = saved;
		r.rip -= 2;
		r.rax = saved.orig_rax;
		if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
			return jv_err(e, errno, "ptrace(PTRACE_SETREGS)");
		if (run_to_syscall_stop(t, e) < 0) /* entry of the original call */
			return -1;
		t->at_entry_stop = true;
		return 0;
	}
	r.rip -= 2;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)nr;
	for (int i = 0; i < 6; i++)
		regs_set_arg(&r, SYS_ABI_X86_64, i, args[i]);
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_SETREGS)");
	if (run_to_syscall_stop(t, e) < 0 || run_to_syscall_stop(t, e) < 0)
		return -1;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_GETREGS)");
	*result = (int64_t)r.rax;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &saved) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_SETREGS)");
	return 0;
}

int tracer_skip_at_entry(struct thread *t, int64_t raw, struct jv_error *e)
{
	/* At a syscall-entry-stop (not a seccomp stop) the seccomp filters still
	 * run after the stop, on syscall number -1 (which has the x32 bit set):
	 * their answer is replaced at the exit stop. */
	t->at_entry_stop = false;
	if (ptrace(PTRACE_POKEUSER, t->tid, offsetof(struct user_regs_struct, orig_rax), -1L) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_POKEUSER)");
	if (run_to_syscall_stop(t, e) < 0)
		return -1;
	if (ptrace(PTRACE_POKEUSER, t->tid, offsetof(struct user_regs_struct, rax), (long)raw) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_POKEUSER)");
	return 0;
}
