/* Private to src/tracer/. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <seccomp.h>
#include <sys/user.h>

#include "hooks/hooks.h"

/* RET_DATA of our RET_TRACE rules. The tracer never trusts it (the program's
 * own filters can return it too): it only helps reading a filter. */
#define JV_TRACE_DATA 0x4a56

/* A copy of an argument pinned by a hook (pin.c): pages of a region. */
struct pin_ref {
	unsigned region; /* 0: none */
	uint16_t first, count;
};

struct thread {
	pid_t tid, tgid;
	bool in_syscall;    /* resumed with PTRACE_SYSCALL: next syscall stop is the exit */
	bool at_entry_stop; /* an injection left it at a syscall-entry-stop */
	bool gone;	    /* exited while a hook was running */
	int gone_status;
	int pass_sysno;		/* the next seccomp stop of this syscall was already hooked */
	unsigned args_changed;	/* before-hooks changed these arguments */
	uint64_t orig_args[6];	/* the arguments as the program passed them */
	struct pin_ref pins[6]; /* arguments pinned for the syscall in progress */
	struct hook_event ev;	/* the syscall in progress */
	void *local;		/* the engine's per-thread state */
	struct log_thread *log; /* the event log's state (src/log) */
	bool log_call;		/* the log follows the syscall in progress */
	struct obs_call *obs;	/* observers' state (observing.c); NULL: none yet */
	bool obs_call;		/* observers follow the syscall in progress */
	struct thread *hnext;
};

struct thread *thread_get(pid_t tid);
struct thread *thread_add(pid_t tid);
void thread_del(struct thread *t);
void thread_rekey(struct thread *t, pid_t tid);
size_t thread_count(void);

/* Build the filter for the hooks registered now. *prog is malloc'd; *len is
 * its number of instructions; 0 means no filter is needed. */
struct sock_filter;
int filter_build(struct sock_filter **prog, size_t *len, struct jv_error *e);

/* Native syscalls that a filter jvisor installed may stop (RET_TRACE, any
 * ABI, some arguments); the set only grows. A seccomp stop of any other
 * syscall comes from the program's own filter (loop.c). */
void filter_note_stop(int nr);
bool filter_stops(int native, enum sys_abi abi);

/* Register helpers for the argument registers of an ABI. */
void regs_set_arg(struct user_regs_struct *r, enum sys_abi abi, int i, uint64_t v);

/* stop.c: statuses collected while stopping threads, for the loop to handle
 * before it waits again (0 = none); and resuming what a hook left stopped. */
pid_t tracer_queue_pop(int *status);
void tracer_release_held(void);

/* inject.c: skip the syscall of t, which an injection left at a
 * syscall-entry-stop, so that the program sees raw (-1 with *e filled when t
 * is gone). */
int tracer_skip_at_entry(struct thread *t, int64_t raw, struct jv_error *e);

/* pin.c: free the copies pinned for t's syscall (its exit stop, or it was
 * skipped, or t is gone); forget a process's regions (exec, exit). */
void pin_release(struct thread *t);
void pin_forget(pid_t tgid);

/* logging.c: events for the log (call only when log_active). */
void tlog_clone(struct thread *t, int event, pid_t child);
void tlog_exec(struct thread *t, pid_t old_tid);
void tlog_signal(struct thread *t, int sig);
void tlog_exit(struct thread *t, pid_t tid, int status);

/* observing.c: the observers' records from the stop path (observe-mode hooks).
 * At the seccomp stop of an observed call, before the hooks: */
struct obs_call;
void tobs_enter(struct thread *t, const struct hook_event *ev);
/* The call returned (ran: the kernel ran it, false: a hook skipped it) with
 * raw as the program sees it; eff: its arguments as the kernel ran them. */
void tobs_exit(struct thread *t, const uint64_t eff[6], bool ran, int64_t raw);
/* The call never returns (exit, exit_group). */
void tobs_noreturn(struct thread *t);
/* The thread is gone (thread_del). */
void tobs_end(struct thread *t);
/* A notification of an observed call, answered (skipped: with raw). */
void tobs_notified(const struct hook_event *ev, bool skipped, int64_t raw);

/* The filter's common parts (filter.c, also used by grow.c): a libseccomp
 * context that allows by default and covers every x86 ABI, and its export as
 * a malloc'd BPF program of *len instructions (at most BPF_MAXINSNS). */
int filter_ctx_new(scmp_filter_ctx *ctx, struct jv_error *e);
int filter_export(scmp_filter_ctx ctx, struct sock_filter **prog, size_t *len, struct jv_error *e);

/* Some blocking calls fail with EINTR after a ptrace interrupt instead of being
 * restarted (signal(7)). True when r shows one of those and no signal the thread
 * would take is pending, so jvisor's interrupt caused it (stop.c). */
bool tracer_eintr_by_us(pid_t tid, const struct user_regs_struct *r);

/* notify.c: notify mode (docs/hooks.md). Decide, before the filter is built,
 * which syscalls the filter sends to the listener (false: none; also locks
 * them in the hook registry). */
bool notify_plan(void);
bool notify_served(int nr);
/* Is the listener still in the child, to take at its execve stop? */
bool notify_pending_adopt(void);
/* Take the child's listener (pid: stopped at its first execve). -1 with errno. */
int notify_adopt(pid_t pid);
/* Has jvisor the listener (the loop then waits with notify_wait_any)? */
bool notify_active(void);
/* Next event for the loop: a stopped or exited tid (status filled), 0 when a
 * notification was served or the log should be flushed, -1 with errno
 * (EINTR: woken; ECHILD: nothing left). */
pid_t notify_wait_any(int *status);
/* Blocking waitpid for one thread that also keeps its notifications moving
 * (they are the injected calls); every wait for one tid goes through it. */
int tracer_wait_tid(pid_t tid, int *status);
/* The same without blocking, in a loop that polls waitpid(tid, WNOHANG). */
void notify_poll_for(pid_t tid);
/* At a signal-delivery-stop of tid: restart, rather than fail with EINTR, a
 * call that a signal took out of its notification wait (notify.c). */
void notify_signal_stop(pid_t tid);
/* Written in the child after it installs the filter: its listener fd (spawn.c). */
extern int tracer_child_listener;
/* loop.c: count a call that reached jvisor (control stats). */
void tracer_note_seen(int nr);
/* The error of an accessor that needs a thread stopped by ptrace, called
 * from a hook served by notification (no thread): -1 with *e filled. */
int tracer_not_stopped(struct jv_error *e);
/* wait.c: waitpid(-1, status, __WALL), or with WNOHANG when nonblock, after
 * polling for a short budget (JVISOR_SPIN_US) so the CPU does not go idle
 * between a resume and the next stop. */
pid_t tracer_wait_next(int *status, bool nonblock);
/* wait.c: the same without spinning, also returning 0 when fd is readable
 * (the BPF backend's ring buffer). */
pid_t tracer_wait_fd(int fd, int *status, bool nonblock);
