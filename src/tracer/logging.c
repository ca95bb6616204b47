/* The tracer's side of the event log: what only ptrace can tell (clone flags,
 * signal details) turned into src/log events. Called only when log_active. */
#include <asm/unistd.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "accessors/mem.h"
#include "log/log.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

extern pid_t tracer_root_pid;

pid_t tracer_root(void)
{
	return tracer_root_pid;
}

#define I386_CLONE 120
#define I386_FORK 2
#define I386_VFORK 190

/* The flags of the clone-like call that t is stopped in. */
static bool clone_flags(struct thread *t, int event, uint64_t *flags)
{
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
		return false;
	bool i386 = r.cs == 0x23;
	long nr = (long)r.orig_rax;
	uint64_t arg0 = i386 ? (uint32_t)r.rbx : r.rdi;
	if ((!i386 && nr == __NR_clone) || (i386 && nr == I386_CLONE)) {
		*flags = arg0;
		return true;
	}
	if (nr == __NR_clone3) {
		struct jv_error e;
		return mem_read(t->tid, arg0, flags, sizeof(*flags), &e) == sizeof(*flags);
	}
	if ((!i386 && nr == __NR_fork) || (i386 && nr == I386_FORK) || event == PTRACE_EVENT_FORK) {
		*flags = SIGCHLD;
		return true;
	}
	if ((!i386 && nr == __NR_vfork) || (i386 && nr == I386_VFORK)) {
		*flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
		return true;
	}
	return false;
}

void tlog_clone(struct thread *t, int event, pid_t child)
{
	uint64_t flags = 0;
	bool known = clone_flags(t, event, &flags);
	const char *kind = event == PTRACE_EVENT_FORK	 ? "fork"
			   : event == PTRACE_EVENT_VFORK ? "vfork"
							 : "clone";
	struct thread *c = thread_get(child);
	log_ev_clone(&t->log, t->tgid, t->tid, kind, child, c ? &c->log : NULL, flags, known);
}

void tlog_exec(struct thread *t, pid_t old_tid)
{
	log_ev_exec(&t->log, t->tgid, t->tid, old_tid);
}

void tlog_signal(struct thread *t, int sig)
{
	siginfo_t si;
	bool ok = ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) == 0;
	log_ev_signal(&t->log, t->tgid, t->tid, sig, ok ? &si : NULL);
}

void tlog_exit(struct thread *t, pid_t tid, int status)
{
	struct log_thread *none = NULL;
	log_ev_exit(t ? &t->log : &none, t ? t->tgid : tid, tid, status);
}
