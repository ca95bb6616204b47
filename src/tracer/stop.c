/* stopThreads / resumeThreads: hold every other thread of the calling
 * process while a hook looks at shared memory.
 *
 * Every sibling gets PTRACE_INTERRUPT, then each is waited for. It answers
 * with the interrupt's PTRACE_EVENT_STOP (ours: resumed later exactly as the
 * loop had let it run, or put back into PTRACE_LISTEN when it was
 * group-stopped), or with a stop it was already making (seccomp, syscall
 * exit, signal delivery, clone, exit, ...): such a status is queued, the event
 * loop handles it before it waits again, and the thread counts as stopped. A
 * thread blocked in a syscall is interrupted out of it; the kernel restarts
 * the call when the thread is resumed. Nothing here runs unless a hook asks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "common/util.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

struct held {
	pid_t tid;
	bool listen;  /* group-stopped before: back to PTRACE_LISTEN */
	bool restart; /* our interrupt made its syscall fail with EINTR: run it again */
};

struct queued {
	pid_t tid;
	int status;
};

static struct held *held;
static size_t n_held, cap_held;
static struct queued *queue;
static size_t q_head, q_len, q_cap;

static void queue_push(pid_t tid, int status)
{
	if (q_len == q_cap)
		queue = xrealloc(queue, (q_cap = q_cap ? q_cap * 2 : 16) * sizeof(*queue));
	queue[q_len++] = (struct queued){tid, status};
}

static bool queued(pid_t tid)
{
	for (size_t i = q_head; i < q_len; i++)
		if (queue[i].tid == tid)
			return true;
	return false;
}

pid_t tracer_queue_pop(int *status)
{
	if (q_head == q_len)
		return 0;
	struct queued q = queue[q_head++];
	if (q_head == q_len)
		q_head = q_len = 0;
	*status = q.status;
	return q.tid;
}

static bool is_held(pid_t tid)
{
	for (size_t i = 0; i < n_held; i++)
		if (held[i].tid == tid)
			return true;
	return false;
}

static void hold(pid_t tid, bool listen, bool restart)
{
	if (n_held == cap_held)
		held = xrealloc(held, (cap_held = cap_held ? cap_held * 2 : 16) * sizeof(*held));
	held[n_held++] = (struct held){tid, listen, restart};
}

/* Some blocking calls are not restarted by the kernel after a ptrace
 * interrupt: they fail with EINTR although no signal came (signal(7), "after
 * a stop signal"). The thread is sent back into such a call when nothing else
 * could have interrupted it: no signal it would take is pending. */
bool tracer_eintr_by_us(pid_t tid, const struct user_regs_struct *r)
{
	if ((int64_t)r->rax != -EINTR)
		return false;
	switch ((long)r->orig_rax) {
	case SYS_rt_sigtimedwait:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
	case SYS_semop:
	case SYS_semtimedop:
	case SYS_io_getevents:
		break;
	default:
		return false;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	_cleanup_free_ char *st = NULL;
	if (jv_read_file(path, &st) < 0)
		return false;
	const char *p = strstr(st, "\nSigPnd:"), *q = strstr(st, "\nShdPnd:"),
		   *b = strstr(st, "\nSigBlk:");
	if (!p || !q || !b)
		return false;
	uint64_t pending = strtoull(p + 9, NULL, 16) | strtoull(q + 9, NULL, 16);
	return !(pending & ~strtoull(b + 9, NULL, 16));
}

static bool eintr_by_us(pid_t tid)
{
	struct user_regs_struct r;
	return ptrace(PTRACE_GETREGS, tid, 0, &r) == 0 && tracer_eintr_by_us(tid, &r);
}

static void restart_syscall_of(pid_t tid)
{
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return;
	r.rax = r.orig_rax;
	r.rip -= 2;
	ptrace(PTRACE_SETREGS, tid, 0, &r);
}

/* What a sibling answered to our interrupt (or the stop it was making). */
static void take_status(pid_t tid, int status)
{
	if (WIFSTOPPED(status) && (unsigned)status >> 16 == PTRACE_EVENT_STOP) {
		int sig = WSTOPSIG(status);
		bool listen = sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
		hold(tid, listen, !listen && eintr_by_us(tid));
	} else {
		queue_push(tid, status);
	}
}

/* The siblings of self in tgid that are neither held nor queued already.
 * A thread not in the table yet sits in its first stop, untouched until the
 * loop sees it. */
static pid_t *siblings(pid_t tgid, pid_t self, size_t *n, struct jv_error *e)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
	DIR *d = opendir(path);
	if (!d) {
		jv_err(e, errno == ENOENT ? ESRCH : errno, "cannot list %s", path);
		return NULL;
	}
	size_t cap = 16;
	pid_t *v = xmalloc(cap * sizeof(*v));
	struct dirent *de;
	*n = 0;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid <= 0 || tid == self || !thread_get(tid) || is_held(tid) || queued(tid))
			continue;
		if (*n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[(*n)++] = tid;
	}
	closedir(d);
	return v;
}

/* How long to wait for a sibling to report its stop. One that does not (a
 * vfork parent waiting for a child that is itself waiting for this loop, or
 * a thread in an uninterruptible disk wait) has the interrupt pending: it
 * cannot run program code before it traps, and the loop resumes it then. */
#define STOP_WAIT_NS (200 * 1000 * 1000ull)

int tracer_stop_threads(void *thread, struct jv_error *e)
{
	struct thread *t = thread;
	if (!t)
		return tracer_not_stopped(e);
	if (t->gone)
		return jv_err(e, ESRCH, "the thread has exited");
	size_t n;
	_cleanup_free_ pid_t *tids = siblings(t->tgid, t->tid, &n, e);
	if (!tids)
		return -1;
	int count = 0;
	size_t waiting = 0;
	/* Interrupt them all first, so they stop in parallel. */
	for (size_t i = 0; i < n; i++) {
		int status;
		pid_t r = waitpid(tids[i], &status, __WALL | WNOHANG);
		if (r == tids[i]) {
			/* A stop it already made and the loop has not collected yet. */
			queue_push(tids[i], status);
			count++;
		} else if (ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) == 0) {
			tids[waiting++] = tids[i];
		} else if (errno != ESRCH) { /* ESRCH: exiting, the loop gets its status */
			return jv_err(e, errno, "ptrace(PTRACE_INTERRUPT) of thread %d",
				      (int)tids[i]);
		}
	}
	uint64_t deadline = jv_now_ns() + STOP_WAIT_NS;
	long nap_us = 0;
	while (waiting) {
		bool progress = false;
		for (size_t i = 0; i < waiting;) {
			int status;
			pid_t r = waitpid(tids[i], &status, __WALL | WNOHANG);
			if (r == tids[i]) {
				take_status(tids[i], status);
				count++;
				progress = true;
			} else if (r < 0 && errno != EINTR) {
				progress = true; /* gone and reaped elsewhere: nothing to hold */
			} else {
				i++;
				continue;
			}
			tids[i] = tids[--waiting];
		}
		if (!waiting)
			break;
		if (jv_now_ns() > deadline) {
			count += (int)waiting; /* interrupt pending: see STOP_WAIT_NS */
			break;
		}
		if (progress) {
			nap_us = 0;
			continue;
		}
		if (nap_us == 0) {
			sched_yield();
			nap_us = 10;
			continue;
		}
		struct timespec ts = {0, nap_us * 1000};
		nanosleep(&ts, NULL);
		if (nap_us < 1000)
			nap_us *= 2;
	}
	return count;
}

int tracer_resume_threads(void)
{
	int n = 0;
	for (size_t i = 0; i < n_held; i++) {
		struct thread *u = thread_get(held[i].tid);
		if (!u)
			continue;
		long rc;
		if (held[i].restart)
			restart_syscall_of(u->tid);
		if (held[i].listen)
			rc = ptrace(PTRACE_LISTEN, u->tid, 0, 0);
		else
			rc = ptrace(u->in_syscall ? PTRACE_SYSCALL : PTRACE_CONT, u->tid, 0, 0);
		if (rc == 0)
			n++;
	}
	n_held = 0;
	return n;
}

void tracer_release_held(void)
{
	if (n_held)
		tracer_resume_threads();
}
