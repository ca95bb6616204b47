/* The event loop: one wait for the next stop (wait.c), then the stop's handler. */
#include <asm/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "common/util.h"
#include "bpf/backend.h"
#include "hooks/observe.h"
#include "log/log.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"
#include "tracer/grow.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

extern pid_t tracer_root_pid;
extern int tracer_exec_err_fd;
extern const char *tracer_prog_name;
static int root_status = -1;
static bool exit_with_root;

void tracer_exit_with_root(void)
{
	exit_with_root = true;
}
/* The program's first process sits in a group-stop (SIGSTOP, ^Z). */
static volatile sig_atomic_t root_group_stopped;
/* The program proper has started (its first exec); before, the child runs jvisor's code. */
static bool root_started;

/* Kernel-internal restart codes a syscall-exit-stop can show. */
static bool is_restart(int64_t rv)
{
	return rv == -512 || rv == -513 || rv == -514 || rv == -516;
}

static void resume(struct thread *t, int sig)
{
	ptrace(t->in_syscall ? PTRACE_SYSCALL : PTRACE_CONT, t->tid, 0, (long)sig);
}

void regs_set_arg(struct user_regs_struct *r, enum sys_abi abi, int i, uint64_t v)
{
	if (abi == SYS_ABI_I386) {
		unsigned long long *regs[6] = {&r->rbx, &r->rcx, &r->rdx,
					       &r->rsi, &r->rdi, &r->rbp};
		*regs[i] = (uint32_t)v;
	} else {
		unsigned long long *regs[6] = {&r->rdi, &r->rsi, &r->rdx, &r->r10, &r->r8, &r->r9};
		*regs[i] = v;
	}
}

static void set_result(struct thread *t, int64_t raw)
{
	ptrace(PTRACE_POKEUSER, t->tid, offsetof(struct user_regs_struct, rax), (long)raw);
}

/* Skip the syscall at a seccomp or entry stop: the program sees raw. */
static void skip_syscall(struct thread *t, int64_t raw)
{
	ptrace(PTRACE_POKEUSER, t->tid, offsetof(struct user_regs_struct, orig_rax), -1L);
	set_result(t, raw);
}

static void apply_args(struct thread *t, unsigned mask, const uint64_t args[6])
{
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		return;
	for (int i = 0; i < 6; i++)
		if (mask & (1u << i))
			regs_set_arg(&regs, t->ev.abi, i, args[i]);
	ptrace(PTRACE_SETREGS, t->tid, 0, &regs);
}

static void on_exit_status(struct thread *t, pid_t tid, int status)
{
	if (tid == tracer_root_pid) {
		root_status = status;
		tracer_root_pid = 0; /* forward no signal to a pid that may be reused */
	}
	if (log_active)
		tlog_exit(t, tid, status);
	if (t)
		pin_release(t);
	/* Regions are per tgid; a leader's exit is reported after its threads'. */
	pin_forget(tid);
	if (t)
		thread_del(t);
}

/* A thread that exited during a hook call: finish it now. Returns true if gone. */
static bool reap_gone(struct thread *t)
{
	if (!t->gone)
		return false;
	on_exit_status(t, t->tid, t->gone_status);
	return true;
}

/* The sandbox policy (src/sandbox/policy.c): true when it denied the call. */
static bool policy_stop(struct thread *t, int native, enum sys_abi abi, const uint64_t *raw,
			bool foreign)
{
	uint64_t a[6];
	for (int i = 0; i < 6; i++)
		a[i] = abi == SYS_ABI_I386 ? (uint32_t)raw[i] : raw[i];
	const char *why = "";
	int err = policy_watches(native) ? policy_check(t->tid, native, a, &why) : 0;
	/* A call of another ABI that nothing traps (or traps any more). */
	if (!err && foreign && !hooks_wanted(native, HOOK_BEFORE) &&
	    !hooks_wanted(native, HOOK_AFTER) && !hooks_observed(native) && !log_follows(native))
		err = policy_check_abi(native, &why);
	if (!err)
		return false;
	policy_report(t->tgid, t->tid, native, abi, err, why);
	bool logged = log_active && log_follows(native),
	     observed = observe_at_stop_abi(native, abi, a);
	if (logged || observed) {
		/* The log and the observers see the denied call like a skipped one. */
		struct hook_event *ev = &t->ev;
		*ev = (struct hook_event){.pid = t->tgid,
					  .tid = t->tid,
					  .sysno = native,
					  .abi = abi,
					  .phase = HOOK_BEFORE,
					  .local = &t->local,
					  .thread = t};
		memcpy(ev->args, a, sizeof(a));
		struct hook_verdict v = {.skip = true, .result_set = true, .raw = -err};
		if (logged && log_sys_enter(&t->log, ev) && log_sys_hooked(t->log, ev, &v))
			log_sys_exit(t->log, -err, &v);
		if (observed) {
			tobs_enter(t, ev);
			tobs_exit(t, a, false, -err);
		}
	}
	skip_syscall(t, -err);
	t->at_entry_stop = false;
	t->in_syscall = false;
	resume(t, 0);
	return true;
}

/* The hooks of t's stop added hooks: trap their syscalls in t's process
 * before t goes on (grow.c). True when t is gone. */
static bool grow_in_hook(struct thread *t)
{
	struct jv_error e;
	if (tracer_grow_in_hook(t, &e) < 0)
		jv_warn("hooks added by a hook: %s", e.msg); /* the loop tries again */
	return reap_gone(t);
}

/* Seccomp stops per native syscall number. */
static unsigned long seen[SYS_NR_MAX];

void tracer_note_seen(int nr)
{
	seen[nr]++;
}

unsigned long tracer_seen(int nr)
{
	return nr >= 0 && nr < SYS_NR_MAX ? seen[nr] : 0;
}

/* A seccomp stop. Its RET_DATA is never read: among filters with the same action
 * the kernel reports the newest filter's data, and the program may install
 * filters of its own (returning jvisor's values). What the stop means is
 * decided from the syscall (ABI, number, arguments) and jvisor's own state. */
static void on_seccomp_stop(struct thread *t)
{
	struct __ptrace_syscall_info si;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
		resume(t, 0);
		return;
	}
	enum sys_abi abi = SYS_ABI_X86_64;
	int nr = (int)si.seccomp.nr;
	if (si.arch == AUDIT_ARCH_I386) {
		abi = SYS_ABI_I386;
	} else if (nr & __X32_SYSCALL_BIT) {
		abi = SYS_ABI_X32;
		nr &= ~__X32_SYSCALL_BIT;
	}
	int native = sys_to_native(abi, nr);
	if (native >= 0 && native < SYS_NR_MAX && !filter_stops(native, abi)) {
		/* No filter of jvisor stops this call: the program's own filter
		 * asked for RET_TRACE. Without a tracer the kernel fails it with
		 * ENOSYS; so does jvisor, which has no interest in it. */
		skip_syscall(t, -ENOSYS);
		resume(t, 0);
		return;
	}
	if (!root_started && native == __NR_execve && notify_pending_adopt() &&
	    notify_adopt(t->tid) < 0) {
		/* Its notify-mode calls would fail with ENOSYS, hooks unrun. */
		jv_warn("cannot take the seccomp listener from %s: %s", tracer_prog_name,
			strerror(errno));
		kill(t->tid, SIGKILL);
		resume(t, 0);
		return;
	}
	if (!root_started && native != __NR_execve && native != __NR_execveat) {
		/* jvisor's own code in the child, before it execs the program. */
		resume(t, 0);
		return;
	}
	if (native < 0) {
		/* Trapped for a hook but with no native twin (i386 socketcall, ...):
		 * never let it slip past the hook. */
		skip_syscall(t, -ENOSYS);
		resume(t, 0);
		return;
	}
	seen[native]++; /* for the control socket's stats */
	bool foreign = abi != SYS_ABI_X86_64;
	if ((foreign || policy_watches(native)) &&
	    policy_stop(t, native, abi, si.seccomp.args, foreign))
		return;
	if (t->pass_sysno == native) {
		t->pass_sysno = -1;
		t->in_syscall = hooks_wanted(native, HOOK_AFTER) || t->args_changed ||
				t->log_call || t->obs_call;
		resume(t, 0);
		return;
	}
	struct hook_event *ev = &t->ev;
	ev->pid = t->tgid;
	ev->tid = t->tid;
	ev->sysno = native;
	ev->abi = abi;
	ev->phase = HOOK_BEFORE;
	ev->ret = 0;
	ev->err = 0;
	ev->local = &t->local;
	ev->thread = t;
	for (int i = 0; i < 6; i++) {
		uint64_t a = si.seccomp.args[i];
		ev->args[i] = abi == SYS_ABI_I386 ? (uint32_t)a : a;
		t->orig_args[i] = ev->args[i];
	}
	t->args_changed = 0;
	pin_release(t);
	t->log_call = log_active && log_stop_logs(native, abi) && log_sys_enter(&t->log, ev);
	/* Observers: the record is decoded at the stops, not from live memory later. */
	t->obs_call = observe_at_stop_abi(native, abi, ev->args);
	if (t->obs_call)
		tobs_enter(t, ev);
	struct hook_verdict v = {0};
	unsigned gen = hooks_generation();
	if (hooks_wanted(native, HOOK_BEFORE))
		hooks_run(ev, &v);
	if (reap_gone(t) || (hooks_generation() != gen && grow_in_hook(t)))
		return;
	if (native == __NR_clone3 && !v.skip) {
		/* clone3 never runs (filter.c): its flags are in memory that
		 * another thread can change after any check. libc falls back to
		 * clone, whose flags the filter sees in a register. */
		v.skip = v.result_set = true;
		v.raw = -ENOSYS;
	}
	if (t->log_call)
		t->log_call = log_sys_hooked(t->log, ev, &v);
	if (v.skip) {
		if (t->obs_call)
			tobs_exit(t, ev->args, false, v.raw);
		t->obs_call = false;
		if (t->args_changed) /* pinned copies (pin.c): the program's own values */
			apply_args(t, t->args_changed, t->orig_args);
		t->args_changed = 0;
		pin_release(t);
		struct jv_error e;
		if (t->at_entry_stop && tracer_skip_at_entry(t, v.raw, &e) < 0 && reap_gone(t))
			return;
		skip_syscall(t, v.raw);
		t->at_entry_stop = false;
		t->in_syscall = false;
		resume(t, 0);
		return;
	}
	if (v.args_set) {
		apply_args(t, v.args_set, v.args);
		t->args_changed |= v.args_set; /* also the arguments pinned (pin.c) */
	}
	if (t->at_entry_stop) {
		/* An injection moved us to a syscall-entry-stop; the seccomp stop of
		 * this same call comes again and must not run the hooks twice. */
		t->at_entry_stop = false;
		t->pass_sysno = native;
	}
	/* Changed arguments are put back at the exit stop: the kernel preserves
	 * the argument registers, and compiled code may rely on it. */
	t->in_syscall =
	    hooks_wanted(native, HOOK_AFTER) || t->args_changed || t->log_call || t->obs_call;
	resume(t, 0);
}

/* Does a successful syscall load a whole new register set (so the program's
 * old arguments must not be put back)? */
static bool replaces_regs(int sysno, int64_t rv)
{
	return sysno == __NR_rt_sigreturn ||
	       (rv == 0 && (sysno == __NR_execve || sysno == __NR_execveat));
}

static void on_syscall_exit(struct thread *t)
{
	t->in_syscall = false;
	struct __ptrace_syscall_info si;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_EXIT) {
		resume(t, 0);
		return;
	}
	int64_t rv = si.exit.rval;
	if (is_restart(rv)) {
		/* Interrupted by a signal; if the kernel restarts it, the program
		 * makes it again with its own arguments and the hooks see a new call. */
		if (t->args_changed)
			apply_args(t, t->args_changed, t->orig_args);
		t->args_changed = 0;
		pin_release(t);
		if (t->log_call)
			log_sys_exit(t->log, rv, NULL);
		t->log_call = false;
		if (t->obs_call) /* as the log: a record with the restart code */
			tobs_exit(t, t->ev.args, true, rv);
		t->obs_call = false;
		resume(t, 0);
		return;
	}
	struct hook_event *ev = &t->ev;
	ev->phase = HOOK_AFTER;
	ev->ret = rv < 0 && rv >= -4095 ? -1 : rv;
	ev->err = rv < 0 && rv >= -4095 ? (int)-rv : 0;
	struct hook_verdict v = {0};
	unsigned gen = hooks_generation();
	hooks_run(ev, &v);
	if (reap_gone(t) || (hooks_generation() != gen && grow_in_hook(t)))
		return;
	if (t->log_call)
		log_sys_exit(t->log, rv, &v);
	t->log_call = false;
	if (t->obs_call) /* queued: the observers run while the program goes on */
		tobs_exit(t, ev->args, true, v.result_set ? v.raw : rv);
	t->obs_call = false;
	if (t->args_changed && !replaces_regs(ev->sysno, rv))
		apply_args(t, t->args_changed, t->orig_args);
	t->args_changed = 0;
	pin_release(t);
	if (v.result_set)
		set_result(t, v.raw);
	resume(t, 0);
}

static void on_event(struct thread *t, int event, int sig)
{
	unsigned long msg = 0;
	switch (event) {
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) == 0 && !thread_get((pid_t)msg))
			thread_add((pid_t)msg);
		if (log_active && msg)
			tlog_clone(t, event, (pid_t)msg);
		break;
	case PTRACE_EVENT_EXEC:
		/* A non-leader thread that execs takes over the leader's tid; the
		 * leader's own state goes, the exec'ing thread's stays. */
		if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) == 0 && (pid_t)msg != t->tid) {
			struct thread *old = thread_get((pid_t)msg);
			if (old) {
				pid_t tid = t->tid;
				thread_del(t);
				thread_rekey(old, tid);
				t = old;
			}
		}
		t->tgid = t->tid;
		pin_forget(t->tgid); /* a new address space */
		pin_release(t);
		root_started = true;
		if (log_active)
			tlog_exec(t, msg ? (pid_t)msg : t->tid);
		break;
	case PTRACE_EVENT_STOP:
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			/* Group-stop: stay stopped until SIGCONT, as natively. */
			ptrace(PTRACE_LISTEN, t->tid, 0, 0);
			if (t->tid == tracer_root_pid) {
				root_group_stopped = 1;
				sandbox_program_stopped(); /* --isolate: ^Z stops jvisor too */
			}
			return;
		}
		if (tracer_grow_pending && tracer_grow_at_stop(t))
			return; /* it missed a filter growth while stopped (grow.c) */
		break;
	case PTRACE_EVENT_SECCOMP:
		on_seccomp_stop(t);
		return;
	default:
		break;
	}
	resume(t, 0);
}

/* Handle one waitpid() result. */
static void handle(pid_t tid, int status)
{
	/* The BPF backend's records come first: they were made before this stop. */
	bpfl_drain();
	struct thread *t = thread_get(tid);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		on_exit_status(t, tid, status);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	if (tid == tracer_root_pid)
		root_group_stopped = 0; /* it runs again (a group-stop sets it again) */
	if (!t)
		t = thread_add(tid);
	int sig = WSTOPSIG(status);
	int event = (unsigned)status >> 16;
	if (event) {
		on_event(t, event, sig);
	} else if (sig == (SIGTRAP | 0x80)) {
		if (t->in_syscall)
			on_syscall_exit(t);
		else
			ptrace(PTRACE_CONT, tid, 0, 0);
	} else if (bpfl_hold_stop(tid, sig)) {
		resume(t, 0); /* the BPF backend's backpressure: the program never sees it */
	} else {
		/* Signal-delivery-stop: deliver it unchanged. */
		if (notify_active())
			notify_signal_stop(tid);
		if (log_active)
			tlog_signal(t, sig);
		resume(t, sig);
	}
}

/* The mask of line "key" (SigBlk:, ...) of /proc/PID/status text; async-signal-safe. */
static uint64_t status_mask(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = text; *p; p++) {
		if ((p == text || p[-1] == '\n') && !strncmp(p, key, klen)) {
			uint64_t m = 0;
			for (p += klen; *p == '\t' || *p == ' '; p++)
				;
			for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
				m = m << 4 | (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
			return m;
		}
	}
	return 0;
}

/* Would sig (whose default action ends the process) end the stopped process
 * pid now, as the kernel does for a process nobody traces? Not when the
 * program catches, ignores or blocks it. Async-signal-safe. */
static bool ends_stopped(pid_t pid, int sig)
{
	char path[40], text[4096];
	const char *fmt = "/proc/";
	size_t n = 0;
	for (; fmt[n]; n++)
		path[n] = fmt[n];
	char digits[12];
	int nd = 0;
	for (unsigned v = (unsigned)pid; v || !nd; v /= 10)
		digits[nd++] = (char)('0' + v % 10);
	while (nd)
		path[n++] = digits[--nd];
	memcpy(path + n, "/status", 8);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return false;
	text[len] = 0;
	uint64_t bit = 1ull << (sig - 1);
	return !((status_mask(text, "SigBlk:") | status_mask(text, "SigIgn:") |
		  status_mask(text, "SigCgt:")) &
		 bit);
}

/* Signals sent to jvisor by someone (kill, not the terminal) go to the program. */
static void forward_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	pid_t root = tracer_root_pid;
	if (sig != SIGUSR1 && sig != SIGUSR2 && sig != SIGCONT)
		log_interrupted = sig; /* a blocked log socket gives up soon */
	if (root > 0 && (si->si_code <= 0 || getpgid(root) != getpgrp())) {
		kill(root, sig);
		/* A traced process stays stopped with the signal pending where an
		 * untraced one dies at once: let it go on to take the signal. */
		if (sig != SIGCONT && root_group_stopped && ends_stopped(root, sig))
			kill(root, SIGCONT);
	}
	errno = saved;
}

static void install_forwarding(void)
{
	/* SIGUSR1 is free: the engine suspends its threads with a signal of its own
	 * (js_init). A signal left out here kills jvisor, or worse, reaches the engine. */
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT};
	struct sigaction sa = {0};
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < JV_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/* A broken log pipe must not kill the supervisor. */
	signal(SIGPIPE, SIG_IGN);
}

volatile sig_atomic_t tracer_wake;
void (*tracer_wake_fn)(void);

static void run_wake(void)
{
	tracer_wake = 0;
	if (tracer_wake_fn)
		tracer_wake_fn();
	bpfl_drain(); /* a request may change what the BPF programs log */
}

void tracer_handle(pid_t tid, int status)
{
	handle(tid, status);
	tracer_release_held();
}

/* A hook registered hooks (AddHookBefore inside a hook): trap their syscalls in
 * the running program too, now that no hook call is in progress. */
static void grow_for_new_hooks(unsigned *generation)
{
	*generation = hooks_generation();
	bpfl_sync(); /* observers of calls BPF feeds need no trap, but records */
	struct jv_error e;
	if (tracer_grow_filters(&e) < 0)
		jv_warn("hooks added by a hook: %s", e.msg);
}

/* The log is written when the loop finds nothing to do; a program that keeps
 * stopping (the loop spins between its stops, wait.c) has it written at least
 * this often, so a log socket or a viewer never lags behind by more. */
#define LOG_MAX_LAG_NS (20 * 1000 * 1000ull)

int tracer_run(void)
{
	unsigned seen_generation = hooks_generation();
	uint64_t flushed_at = 0;
	install_forwarding();
	for (;;) {
		int status;
		pid_t tid = tracer_queue_pop(&status); /* stops collected by stopThreads first */
		if (tid <= 0 && tracer_wake) {
			observe_drain(); /* the request sees every completed call observed */
			run_wake();	 /* a control request (src/control), with no stop pending */
			if (hooks_generation() != seen_generation)
				grow_for_new_hooks(&seen_generation); /* hooks it added */
			continue;
		}
		if (tid <= 0 && notify_active())
			tid = notify_wait_any(&status); /* also serves notifications (0) */
		else if (tid <= 0 && bpfl_on())
			tid = tracer_wait_fd(bpfl_fd(), &status,
					     log_unflushed != 0 || observe_pending());
		else if (tid <= 0)
			tid = tracer_wait_next(&status, log_unflushed != 0 || observe_pending());
		if (tid == 0)
			bpfl_drain();
		if (tid == 0 || ((log_unflushed || observe_pending()) &&
				 jv_now_ns() - flushed_at > LOG_MAX_LAG_NS)) {
			/* Nothing to handle now: run the observers and write the log
			 * before blocking. */
			observe_drain();
			log_flush();
			flushed_at = jv_now_ns();
		}
		if (tid == 0) {
			if (hooks_generation() != seen_generation)
				grow_for_new_hooks(&seen_generation);
			continue;
		}
		if (tid > 0) {
			handle(tid, status);
			if (exit_with_root && root_status >= 0)
				break;
			tracer_release_held(); /* threads a hook stopped and did not resume */
			if (hooks_generation() != seen_generation)
				grow_for_new_hooks(&seen_generation);
			continue;
		}
		if (errno == EINTR)
			continue;
		break; /* ECHILD: nothing left to trace */
	}
	observe_drain();
	int err = 0;
	if (tracer_exec_err_fd >= 0 && read(tracer_exec_err_fd, &err, sizeof(err)) == sizeof(err)) {
		jv_warn("cannot execute %s: %s", tracer_prog_name, strerror(err));
		return err == ENOENT ? 127 : 126;
	}
	if (root_status < 0)
		return 1;
	if (WIFSIGNALED(root_status))
		return 128 + WTERMSIG(root_status);
	return WEXITSTATUS(root_status);
}

pid_t tracer_thread_tid(void *thread)
{
	return ((struct thread *)thread)->tid;
}
pid_t tracer_thread_pid(void *thread)
{
	return ((struct thread *)thread)->tgid;
}
