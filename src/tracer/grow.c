/* Syscalls injected into a running process, and the growth of its seccomp
 * filter (grow.h).
 *
 * One thread of the process is interrupted (PTRACE_INTERRUPT). Stops it was
 * already making are handled as the loop would (tracer_handle) until the
 * interrupt's PTRACE_EVENT_STOP arrives. There the registers are saved, the
 * instruction pointer is set on a `syscall` instruction (the one of the
 * interrupted call, which will be restarted anyway, or one found in the vDSO
 * or the program's code) with the injected call's registers; data the call
 * needs (a sock_fprog) goes below the stack pointer, past the red zone. The
 * thread runs to the call's exit stop; then memory and registers are put
 * back (an interrupted call is set up to run again, as the kernel would have
 * restarted it) and the thread goes on as the loop had left it. Signals that
 * arrive meanwhile are sent again afterwards. */
#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "accessors/mem.h"
#include "bpf/backend.h"
#include "common/util.h"
#include "log/log.h"
#include "tracer/argrules.h"
#include "tracer/grow.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

#define INTERRUPT_WAIT_NS (500 * 1000 * 1000ull)
#define RED_ZONE 128

static bool trapped[SYS_NR_MAX];
static bool grow_ready;

/* A filter a process could not get yet (it was stopped): given when it runs again. */
struct pending {
	pid_t pid;
	struct sock_filter *prog;
	size_t len;
};
static struct pending *pending;
static size_t n_pending;
bool tracer_grow_pending;

static void add_pending(pid_t pid, const struct sock_filter *prog, size_t len)
{
	pending = xrealloc(pending, (n_pending + 1) * sizeof(*pending));
	struct pending *p = &pending[n_pending++];
	p->pid = pid;
	p->prog = xmalloc(len * sizeof(*prog));
	memcpy(p->prog, prog, len * sizeof(*prog));
	p->len = len;
	tracer_grow_pending = true;
}

static void drop_pending(size_t i)
{
	free(pending[i].prog);
	pending[i] = pending[--n_pending];
	tracer_grow_pending = n_pending > 0;
}

/* Hooks added since the filter was built (argrules.c), or the log. */
static bool wanted(int nr)
{
	return argrules_uncovered(nr) || log_wants(nr);
}

void tracer_grow_init(void)
{
	for (int nr = 0; nr < SYS_NR_MAX; nr++)
		/* clone3 never runs (filter.c): no hook on it is worth a filter. */
		trapped[nr] = argrules_traps_all(nr) || nr == __NR_clone3;
	grow_ready = true;
}

static bool is_restart(int64_t rv)
{
	return rv == -512 || rv == -513 || rv == -514 || rv == -516;
}

/* Wait up to the deadline; 0: got a status; 1: timed out; -1: error (ECHILD). */
static int wait_tid_deadline(pid_t tid, int *status, uint64_t deadline)
{
	long nap_us = 20;
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL | WNOHANG);
		if (r == tid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (jv_now_ns() > deadline)
			return 1;
		notify_poll_for(tid);
		struct timespec ts = {0, nap_us * 1000};
		nanosleep(&ts, NULL);
		if (nap_us < 2000)
			nap_us *= 2;
	}
}

/* An address of the bytes 0f 05 (`syscall`) in executable memory of pid:
 * the vDSO first, then the other executable mappings. */
static uint64_t find_syscall_insn(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	_cleanup_free_ char *maps = NULL;
	if (jv_read_file(path, &maps) < 0)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		for (char *line = maps; line && *line;) {
			char *nl = strchr(line, '\n');
			unsigned long lo, hi;
			char perms[8];
			if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[2] == 'x' &&
			    (pass == 1 || strstr(line, "[vdso]")) &&
			    (nl ? memmem(line, (size_t)(nl - line), "[vsyscall]", 10) == NULL
				: strstr(line, "[vsyscall]") == NULL)) {
				size_t len = hi - lo > (1u << 20) ? (1u << 20) : hi - lo;
				_cleanup_free_ unsigned char *buf = xmalloc(len);
				struct jv_error me;
				ssize_t got = mem_read(pid, lo, buf, len, &me);
				for (ssize_t i = 0; i + 1 < got; i++)
					if (buf[i] == 0x0f && buf[i + 1] == 0x05)
						return lo + (uint64_t)i;
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	return 0;
}

/* Data to put below the stack pointer; build(buf, remote_addr, ctx) fills it. */
struct blob {
	size_t len;
	void (*build)(void *buf, uint64_t remote, void *ctx);
	void *ctx;
	int arg; /* this argument gets the remote address; -1: none */
};

/* Run to the next syscall stop (entry or exit) of t, passing seccomp stops
 * and holding back signals (collected in sigs). 0, or -1 when it is gone. */
static int to_syscall_stop(struct thread *t, sigset_t *sigs, int *gone_status)
{
	for (;;) {
		int status;
		if (tracer_wait_tid(t->tid, &status) < 0)
			return -1;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			*gone_status = status;
			return -1;
		}
		int sig = WSTOPSIG(status);
		int event = (unsigned)status >> 16;
		if (!event && sig == (SIGTRAP | 0x80))
			return 0;
		/* The BPF backend's backpressure stop is drained here and never reaches
		 * the program; any other signal is delivered afterwards. */
		if (!event && sig != SIGTRAP && !bpfl_hold_stop(t->tid, sig))
			sigaddset(sigs, sig);
		if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
			return -1;
	}
}

/* t sits in our interrupt's stop: run the call in it. */
static int inject_stopped(struct thread *t, int nr, const uint64_t args[6], const struct blob *b,
			  int64_t *result, struct jv_error *e)
{
	struct user_regs_struct saved, r;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &saved) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_GETREGS) of thread %d", (int)t->tid);
	uint64_t site;
	if ((int64_t)saved.orig_rax >= 0 &&
	    (is_restart((int64_t)saved.rax) || tracer_eintr_by_us(t->tid, &saved))) {
		/* Interrupted in a blocking call: the kernel would restart it now. */
		site = saved.rip - 2;
		saved.rax = (int64_t)saved.rax == -516 ? (unsigned long long)SYS_restart_syscall
						       : saved.orig_rax;
		saved.rip -= 2;
		saved.orig_rax = (unsigned long long)-1;
	} else {
		site = find_syscall_insn(t->tgid);
		if (!site)
			return jv_err(e, ENOEXEC, "no syscall instruction found in process %d",
				      (int)t->tgid);
	}
	r = saved;
	r.rip = site;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1;
	for (int i = 0; i < 6; i++)
		regs_set_arg(&r, SYS_ABI_X86_64, i, args[i]);
	_cleanup_free_ void *old = NULL;
	uint64_t base = 0;
	if (b && b->len) {
		base = (saved.rsp - RED_ZONE - b->len) & ~15ull;
		old = xmalloc(b->len);
		_cleanup_free_ void *data = xmalloc(b->len);
		b->build(data, base, b->ctx);
		if (mem_read(t->tid, base, old, b->len, e) != (ssize_t)b->len)
			return jv_err_prefix(e, "reading the stack of thread %d", (int)t->tid);
		if (mem_write(t->tid, base, data, b->len, e) != (ssize_t)b->len)
			return jv_err_prefix(e, "writing the stack of thread %d", (int)t->tid);
		if (b->arg >= 0)
			regs_set_arg(&r, SYS_ABI_X86_64, b->arg, base);
	}
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_SETREGS) of thread %d", (int)t->tid);
	sigset_t sigs;
	sigemptyset(&sigs);
	int gone = 0;
	if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0 || to_syscall_stop(t, &sigs, &gone) < 0 ||
	    ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0 || to_syscall_stop(t, &sigs, &gone) < 0) {
		if (gone)
			tracer_handle(t->tid, gone);
		return jv_err(e, ESRCH, "thread %d exited during the injection", (int)t->tid);
	}
	struct user_regs_struct x;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &x) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_GETREGS) of thread %d", (int)t->tid);
	*result = (int64_t)x.rax;
	if (old) {
		struct jv_error we;
		(void)mem_write(t->tid, base, old, b->len, &we);
	}
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &saved) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_SETREGS) of thread %d", (int)t->tid);
	ptrace(t->in_syscall ? PTRACE_SYSCALL : PTRACE_CONT, t->tid, 0, 0);
	for (int s = 1; s < 65; s++)
		if (sigismember(&sigs, s) == 1)
			syscall(SYS_tgkill, t->tgid, t->tid, s);
	return 0;
}

/* A thread of process pid known to the loop (the leader first). */
static struct thread *pick_thread(pid_t pid)
{
	struct thread *t = thread_get(pid);
	if (t && t->tgid == pid && !t->gone)
		return t;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *de;
	t = NULL;
	while (d && (de = readdir(d)) && !t) {
		struct thread *u = thread_get((pid_t)atoi(de->d_name));
		if (u && u->tgid == pid && !u->gone)
			t = u;
	}
	if (d)
		closedir(d);
	return t;
}

static int inject_process(pid_t pid, int nr, const uint64_t args[6], const struct blob *b,
			  int64_t *result, struct jv_error *e)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		/* Stops a hook's stopThreads() collected: their threads cannot be
		 * interrupted, so handle them first, as the loop would. */
		int qs;
		pid_t q;
		while ((q = tracer_queue_pop(&qs)) > 0)
			tracer_handle(q, qs);
		struct thread *t = pick_thread(pid);
		if (!t)
			return jv_err(e, ESRCH, "process %d has no thread left", (int)pid);
		pid_t tid = t->tid;
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
			if (errno == ESRCH)
				continue; /* exiting, or in a stop the loop has not collected */
			return jv_err(e, errno, "ptrace(PTRACE_INTERRUPT) of thread %d", (int)tid);
		}
		uint64_t deadline = jv_now_ns() + INTERRUPT_WAIT_NS;
		for (;;) {
			int status;
			int w = wait_tid_deadline(tid, &status, deadline);
			if (w == 1)
				return jv_err(
				    e, ETIMEDOUT,
				    "thread %d of process %d does not stop now (vfork, "
				    "uninterruptible wait); it gets the filter at its next stop",
				    (int)tid, (int)pid);
			if (w < 0)
				break; /* gone: try another thread */
			if (WIFSTOPPED(status) && (unsigned)status >> 16 == PTRACE_EVENT_STOP) {
				int sig = WSTOPSIG(status);
				if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
				    sig == SIGTTOU) {
					ptrace(PTRACE_LISTEN, tid, 0, 0);
					return jv_err(e, EAGAIN,
						      "process %d is stopped (%s): it gets the "
						      "filter when it continues",
						      (int)pid, strsignal(sig));
				}
				t = thread_get(tid);
				if (!t)
					break;
				return inject_stopped(t, nr, args, b, result, e);
			}
			/* A stop it was making anyway: as the loop would. */
			tracer_handle(tid, status);
			if (!thread_get(tid))
				break;
		}
	}
	return jv_err(e, ESRCH, "process %d: no thread could be stopped", (int)pid);
}

int tracer_inject_process(pid_t pid, int nr, const uint64_t args[6], int64_t *result,
			  struct jv_error *e)
{
	if (tracer_traced_tgid(pid) != pid)
		return jv_err(e, ESRCH, "pid %d is not a process of this sandbox", (int)pid);
	return inject_process(pid, nr, args, NULL, result, e);
}

/* ---- filter growth ---- */

struct fprog_ctx {
	struct sock_filter *insns;
	size_t n;
};

static void build_fprog(void *buf, uint64_t remote, void *ctx)
{
	struct fprog_ctx *c = ctx;
	struct sock_fprog p = {.len = (unsigned short)c->n,
			       .filter = (struct sock_filter *)(uintptr_t)(remote + 16)};
	memset(buf, 0, 16);
	memcpy(buf, &p, sizeof(p));
	memcpy((char *)buf + 16, c->insns, c->n * sizeof(*c->insns));
}

static void release_ctx(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* A filter that traps the syscalls of add[] (every x86 ABI) and allows the rest. */
static int build_filter(const bool *add, struct sock_filter **prog, size_t *len, struct jv_error *e)
{
	__attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = NULL;
	if (filter_ctx_new(&ctx, e) < 0)
		return -1;
	int r;
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		if (!add[nr])
			continue;
		filter_note_stop(nr);
		r = seccomp_rule_add(ctx, SCMP_ACT_TRACE(JV_TRACE_DATA), nr, 0);
		if (r < 0) {
			const char *name = sys_name(nr);
			return jv_err(e, -r, "seccomp: cannot trap syscall %s (%d)",
				      name ? name : "?", nr);
		}
	}
	return filter_export(ctx, prog, len, e);
}

static const uint64_t seccomp_args[6] = {
    SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0, 0, 0, 0};

/* After the injected seccomp(): 0, or -1 with *e filled. */
static int seccomp_result(pid_t pid, int64_t rv, struct jv_error *e)
{
	if (rv == 0)
		return 0;
	if (rv < 0)
		return jv_err(e, (int)-rv, "process %d: seccomp() failed", (int)pid);
	return jv_err(e, 0, "process %d: thread %lld could not take the filter", (int)pid,
		      (long long)rv);
}

bool tracer_grow_at_stop(void *thread)
{
	struct thread *t = thread;
	bool done = false;
	for (size_t i = 0; i < n_pending;) {
		if (pending[i].pid != t->tgid) {
			i++;
			continue;
		}
		struct fprog_ctx fc = {pending[i].prog, pending[i].len};
		struct blob b = {16 + fc.n * sizeof(*fc.insns), build_fprog, &fc, 2};
		struct jv_error e;
		int64_t rv = 0;
		if (done && ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) == 0) {
			/* Already resumed by the first one: take it again. */
			int status;
			if (tracer_wait_tid(t->tid, &status) < 0 || !WIFSTOPPED(status) ||
			    (unsigned)status >> 16 != PTRACE_EVENT_STOP) {
				if (thread_get(t->tid))
					tracer_handle(t->tid, status);
				return true;
			}
		}
		if (inject_stopped(t, SYS_seccomp, seccomp_args, &b, &rv, &e) < 0 ||
		    seccomp_result(t->tgid, rv, &e) < 0)
			jv_warn("control: %s", e.msg);
		done = true;
		drop_pending(i);
	}
	return done;
}

/* The syscalls hooked (or logged) now that no installed filter traps, in
 * add[]; returns how many. */
static int to_add(bool add[SYS_NR_MAX])
{
	if (!grow_ready)
		tracer_grow_init();
	int n = 0;
	for (int nr = 0; nr < SYS_NR_MAX; nr++)
		if ((add[nr] = !trapped[nr] && wanted(nr)))
			n++;
	return n;
}

/* Processes that could not take an earlier filter: try again. */
static void retry_pending(void)
{
	for (size_t i = 0; i < n_pending;) {
		pid_t pid = pending[i].pid;
		if (tracer_traced_tgid(pid) != pid) {
			drop_pending(i);
			continue;
		}
		struct fprog_ctx fc = {pending[i].prog, pending[i].len};
		struct blob b = {16 + fc.n * sizeof(*fc.insns), build_fprog, &fc, 2};
		struct jv_error pe = {0, ""};
		int64_t rv = 0;
		if (inject_process(pid, SYS_seccomp, seccomp_args, &b, &rv, &pe) == 0 &&
		    seccomp_result(pid, rv, &pe) == 0) {
			drop_pending(i);
			continue;
		}
		if (pe.errnum == ESRCH) {
			drop_pending(i);
			continue;
		}
		i++;
	}
}

/* Put prog in every traced process but skip (0: none), then again in any
 * forked meanwhile. Returns how many failed, naming them in failed. */
static int grow_processes(const struct sock_filter *prog, size_t len, pid_t skip, char *failed,
			  size_t failed_len)
{
	struct fprog_ctx fc = {(struct sock_filter *)prog, len};
	struct blob b = {16 + len * sizeof(*prog), build_fprog, &fc, 2};
	size_t n_done = 0, cap_done = 16;
	_cleanup_free_ pid_t *done = xmalloc(cap_done * sizeof(*done));
	int n_failed = 0;
	if (skip > 0)
		done[n_done++] = skip;
	for (int round = 0; round < 4; round++) {
		_cleanup_free_ pid_t *procs = NULL;
		size_t n = tracer_processes(&procs);
		bool fresh = false;
		for (size_t i = 0; i < n; i++) {
			bool seen = false;
			for (size_t k = 0; k < n_done && !seen; k++)
				seen = done[k] == procs[i];
			if (seen)
				continue;
			fresh = true;
			if (n_done == cap_done)
				done = xrealloc(done, (cap_done *= 2) * sizeof(*done));
			done[n_done++] = procs[i];
			struct jv_error pe = {0, ""};
			int64_t rv = 0;
			int r = inject_process(procs[i], SYS_seccomp, seccomp_args, &b, &rv, &pe);
			if (r == 0 && seccomp_result(procs[i], rv, &pe) == 0)
				continue;
			if (r < 0 && pe.errnum == ESRCH)
				continue; /* gone: nothing to change */
			if (r < 0 && (pe.errnum == EAGAIN || pe.errnum == ETIMEDOUT))
				add_pending(procs[i], prog, len); /* at its next stop */
			n_failed++;
			size_t l = strlen(failed);
			snprintf(failed + l, failed_len - l, "%s%s", l ? "; " : "", pe.msg);
		}
		if (!fresh)
			break;
	}
	return n_failed;
}

static int finish(const bool *add, int n_add, int n_failed, const char *failed, struct jv_error *e)
{
	for (int nr = 0; nr < SYS_NR_MAX; nr++)
		if (add[nr])
			trapped[nr] = true;
	if (n_failed)
		return jv_err(e, 0, "the new filter is not in %d process%s: %s", n_failed,
			      n_failed == 1 ? "" : "es", failed);
	return n_add;
}

/* Put one more filter, trapping what is wanted now, in every process. With a
 * hook call in progress, its process (self) gets it first through first(). */
static int grow(pid_t self,
		int (*first)(void *arg, const struct sock_filter *prog, size_t len,
			     struct jv_error *e),
		void *arg, struct jv_error *e)
{
	bool add[SYS_NR_MAX];
	int n_add = to_add(add);
	if (!n_add)
		return 0;
	_cleanup_free_ struct sock_filter *prog = NULL;
	size_t len = 0;
	if (build_filter(add, &prog, &len, e) < 0 || (first && first(arg, prog, len, e) < 0))
		return -1;
	char failed[768] = "";
	int n_failed = grow_processes(prog, len, self, failed, sizeof(failed));
	return finish(add, n_add, n_failed, failed, e);
}

int tracer_grow_filters(struct jv_error *e)
{
	retry_pending();
	return grow(0, NULL, NULL, e);
}

/* Thread arg is stopped in a hook call: seccomp() injected into it (the
 * sock_fprog below its stack pointer, past the red zone, for the time of the
 * call, as inject_stopped does). */
static int through_hook_thread(void *arg, const struct sock_filter *prog, size_t len,
			       struct jv_error *e)
{
	struct thread *t = arg;
	uint64_t sp;
	if (tracer_thread_sp(t, &sp, e) < 0)
		return -1;
	struct fprog_ctx fc = {(struct sock_filter *)prog, len};
	size_t blen = 16 + len * sizeof(*prog);
	uint64_t base = (sp - RED_ZONE - blen) & ~15ull;
	_cleanup_free_ void *old = xmalloc(blen);
	_cleanup_free_ void *data = xmalloc(blen);
	build_fprog(data, base, &fc);
	if (mem_read(t->tid, base, old, blen, e) != (ssize_t)blen)
		return jv_err_prefix(e, "reading the stack of thread %d", (int)t->tid);
	if (mem_write(t->tid, base, data, blen, e) != (ssize_t)blen)
		return jv_err_prefix(e, "writing the stack of thread %d", (int)t->tid);
	uint64_t args[6];
	memcpy(args, seccomp_args, sizeof(args));
	args[2] = base;
	int64_t rv = 0;
	int r = tracer_inject(t, SYS_seccomp, args, &rv, e);
	struct jv_error we;
	(void)mem_write(t->tid, base, old, blen, &we);
	return r < 0 ? -1 : seccomp_result(t->tgid, rv, e);
}

int tracer_grow_in_hook(void *thread, struct jv_error *e)
{
	return grow(((struct thread *)thread)->tgid, through_hook_thread, thread, e);
}

/* Thread *arg waits for a notification's answer and cannot stop before it:
 * interrupted now, it stops as soon as it has it, and its process takes the
 * filter there (pending, tracer_grow_at_stop). */
static int after_answer(void *arg, const struct sock_filter *prog, size_t len, struct jv_error *e)
{
	pid_t tid = *(pid_t *)arg;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_INTERRUPT) of thread %d", (int)tid);
	add_pending(tracer_traced_tgid(tid), prog, len);
	return 0;
}

int tracer_grow_notified(pid_t tid, struct jv_error *e)
{
	pid_t tgid = tracer_traced_tgid(tid);
	return tgid < 0 ? 0 : grow(tgid, after_answer, &tid, e);
}
