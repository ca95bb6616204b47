/* Notify mode (docs/hooks.md): syscalls whose hooks are all notify-mode and
 * that nothing else must stop (the log, the sandbox policy, the tracer itself)
 * get SECCOMP_RET_USER_NOTIF instead of RET_TRACE, so a call costs a round
 * trip on the listener fd instead of a ptrace stop.
 *
 * The listener: the child installs the filter with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER and leaves the fd's number in
 * tracer_child_listener (spawn.c). Its first execve is trapped; at that seccomp
 * stop, before the exec closes the fd (O_CLOEXEC), jvisor reads the number
 * from the child's memory and copies the fd with pidfd_getfd. The program never
 * holds it. Forked children inherit the filter, so one fd serves the tree.
 *
 * Still one thread: once the listener is taken the loop waits in poll() on it
 * and on a signalfd for SIGCHLD (blocked in every jvisor thread, spawn.c)
 * instead of blocking in waitpid, and runs the hooks of a notification where
 * it runs those of a ptrace stop. While a hook call waits for one thread (an
 * injected syscall, src/tracer/inject.c), notifications from that thread are
 * its injected calls and continue unhooked; others wait in a queue. */
#include <asm/unistd.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "accessors/mem.h"
#include "common/util.h"
#include "bpf/backend.h"
#include "hooks/observe.h"
#include "log/log.h"
#include "sandbox/policy.h"
#include "tracer/grow.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

/* Linux 6.6; older kernels refuse the flag and wake-ups stay as they were. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

int tracer_child_listener = -1;
static bool served[SYS_NR_MAX];
static bool any_served, adopted;
static int listener = -1, sigchld_fd = -1;
/* A SIGCHLD came since waitpid last said "nothing": call it again. */
static bool child_events = true;
static size_t notif_size, resp_size;
/* The buffers of the notification being served and of its answer. */
static struct seccomp_notif *req_buf;
static struct seccomp_notif_resp *resp_buf;
/* Notifications received while a hook call waited for one thread. */
static struct seccomp_notif **queue;
static size_t n_queue, cap_queue;

/* Does this kernel have what notify mode needs (NEW_LISTENER, CONTINUE and
 * pidfd_getfd, Linux 5.6)? Sizes the notification buffers. */
static bool kernel_supports(void)
{
	static int known = -1;
	if (known >= 0)
		return known;
	struct seccomp_notif_sizes sz;
	known = syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) == 0 &&
		syscall(SYS_pidfd_getfd, -1, 0, 0) < 0 && errno == EBADF;
	if (known) {
		notif_size = sizeof(struct seccomp_notif);
		if (sz.seccomp_notif > notif_size)
			notif_size = sz.seccomp_notif;
		resp_size = sizeof(struct seccomp_notif_resp);
		if (sz.seccomp_notif_resp > resp_size)
			resp_size = sz.seccomp_notif_resp;
	}
	return known;
}

/* Can every call of nr be answered by a notification? The tracer must see
 * clone, clone3 and exec (children, CLONE_UNTRACED, the listener itself). */
static bool eligible(int nr)
{
	return hooks_notify_only(nr) && (hooks_wanted(nr, HOOK_BEFORE) || observe_at_stops(nr)) &&
	       !log_wants(nr) && !policy_watches(nr) && nr != __NR_clone && nr != __NR_clone3 &&
	       nr != __NR_execve && nr != __NR_execveat;
}

bool notify_plan(void)
{
	bool any = false;
	for (int nr = 0; nr < SYS_NR_MAX; nr++)
		any |= served[nr] = eligible(nr);
	if (any && !kernel_supports()) {
		jv_warn("seccomp user notification is not available (kernel older than 5.6, or "
			"pidfd_getfd denied by a container's seccomp profile): notify-mode "
			"hooks run at ptrace stops");
		memset(served, 0, sizeof(served));
		any = false;
	}
	for (int nr = 0; nr < SYS_NR_MAX && any; nr++)
		if (served[nr])
			hooks_lock_notify(nr);
	any_served = any;
	return any;
}

bool notify_served(int nr)
{
	return nr >= 0 && nr < SYS_NR_MAX && served[nr];
}

bool notify_pending_adopt(void)
{
	return any_served && !adopted;
}

bool notify_active(void)
{
	return listener >= 0;
}

int notify_adopt(pid_t pid)
{
	int num = -1;
	struct jv_error e;
	ssize_t r =
	    mem_read(pid, (uint64_t)(uintptr_t)&tracer_child_listener, &num, sizeof(num), &e);
	if (r != sizeof(num) || num < 0) {
		if (r >= 0)
			errno = EBADF;
		return -1;
	}
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -1;
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);
	if (fd < 0)
		return -1;
	/* Is it a listener? ID_VALID of an unknown id says ENOENT only on one. */
	uint64_t id = 0;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno != ENOENT) {
		errno = EBADF;
		return -1;
	}
	/* The program and jvisor hand the CPU to each other: wake on this CPU. */
	uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
	(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigchld_fd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigchld_fd < 0)
		return -1;
	req_buf = xcalloc(1, notif_size);
	resp_buf = xcalloc(1, resp_size);
	listener = steal_fd(&fd);
	adopted = true;
	return 0;
}

/* The tgid of a thread the thread table does not know yet. */
static pid_t tgid_of(pid_t tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5))
			return (pid_t)atoi(line + 5);
	return tid;
}

static void send_resp(uint64_t id, bool cont, int64_t raw)
{
	struct seccomp_notif_resp *resp = resp_buf;
	memset(resp, 0, resp_size);
	resp->id = id;
	if (cont)
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else if (raw < 0 && raw >= -4095)
		resp->error = (int32_t)raw;
	else
		resp->val = raw;
	/* ENOENT: the call was interrupted (a signal, stopThreads) meanwhile; the
	 * kernel restarts it or the thread is gone. */
	(void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

/* Run the hooks of one notification and answer it. req may be req_buf, which
 * a wait during the hooks (filter growth) reuses: read it first. */
static void answer(const struct seccomp_notif *req)
{
	uint64_t id = req->id;
	enum sys_abi abi = SYS_ABI_X86_64;
	int nr = req->data.nr;
	if (req->data.arch == AUDIT_ARCH_I386) {
		abi = SYS_ABI_I386;
	} else if (nr & __X32_SYSCALL_BIT) {
		abi = SYS_ABI_X32;
		nr &= ~__X32_SYSCALL_BIT;
	}
	int native = sys_to_native(abi, nr);
	if (native < 0 || native >= SYS_NR_MAX) {
		send_resp(id, false, -ENOSYS); /* never let a hooked call slip past */
		return;
	}
	tracer_note_seen(native);
	pid_t tid = (pid_t)req->pid;
	struct thread *t = thread_get(tid);
	struct hook_event ev = {.pid = t ? t->tgid : tgid_of(tid),
				.tid = tid,
				.sysno = native,
				.abi = abi,
				.phase = HOOK_BEFORE,
				.local = t ? &t->local : NULL,
				.notified = true};
	for (int i = 0; i < 6; i++)
		ev.args[i] = abi == SYS_ABI_I386 ? (uint32_t)req->data.args[i] : req->data.args[i];
	struct hook_verdict v = {0};
	unsigned gen = hooks_generation();
	hooks_run(&ev, &v);
	struct jv_error e;
	if (hooks_generation() != gen && tracer_grow_notified(tid, &e) < 0)
		jv_warn("hooks added by a hook: %s", e.msg); /* the loop tries again */
	/* Observers: decoded now, while the call waits for the answer; they run
	 * from the queue after it. */
	if (observe_at_stop_match(native, ev.args))
		tobs_notified(&ev, v.skip, v.raw);
	send_resp(id, !v.skip, v.raw);
}

/* Receive one notification into req_buf (the listener is readable); false
 * when there is none after all. */
static bool receive(void)
{
	for (;;) {
		memset(req_buf, 0, notif_size); /* the kernel wants it zeroed */
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req_buf) == 0)
			return true;
		if (errno != EINTR)
			return false; /* ENOENT: the caller was interrupted or died */
	}
}

/* Drop the listener once no program thread uses the filter any more. */
static void check_hangup(short revents)
{
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		close(listener);
		listener = -1;
	}
}

static bool ring_ready;

static void drain_sigchld(void)
{
	struct signalfd_siginfo si[8];
	while (read(sigchld_fd, si, sizeof(si)) > 0)
		;
}

/* poll() the listener and SIGCHLD; returns the listener's revents (0 when
 * only a child changed state), -1 on EINTR. */
static int wait_events(void)
{
	/* The BPF backend's ring buffer: its records are written by the loop. */
	struct pollfd p[3] = {
	    {sigchld_fd, POLLIN, 0}, {bpfl_fd(), POLLIN, 0}, {listener, POLLIN, 0}};
	int r = poll(p, listener >= 0 ? 3 : 2, bpfl_on() ? 10 : -1);
	if (r < 0)
		return -1;
	ring_ready = p[1].revents != 0 || (r == 0 && bpfl_on());
	if (p[0].revents) {
		drain_sigchld();
		child_events = true;
	}
	return listener >= 0 ? p[2].revents : 0;
}

pid_t notify_wait_any(int *status)
{
	if (n_queue) {
		struct seccomp_notif *req = queue[0];
		memmove(queue, queue + 1, --n_queue * sizeof(*queue));
		/* Still waiting? It may have been interrupted while queued. */
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0)
			answer(req);
		free(req);
		return 0;
	}
	for (;;) {
		if (child_events) {
			pid_t r = waitpid(-1, status, __WALL | WNOHANG);
			if (r != 0)
				return r;
			child_events = false;
		}
		if (log_unflushed || observe_pending())
			return 0; /* the loop writes the log and runs the observers first */
		if (tracer_wake) {
			errno = EINTR;
			return -1;
		}
		int rev = wait_events();
		if (rev < 0)
			return -1;
		if (rev & POLLIN) {
			if (receive())
				answer(req_buf);
			return 0;
		}
		check_hangup((short)rev);
		if (ring_ready)
			return 0; /* the loop writes the BPF backend's records */
	}
}

/* A notification received while waiting for tid: its own is an injected call. */
static void pass_or_queue(pid_t tid)
{
	if (!receive())
		return;
	if ((pid_t)req_buf->pid == tid) {
		send_resp(req_buf->id, true, 0);
		return;
	}
	struct seccomp_notif *req = xmalloc(notif_size);
	memcpy(req, req_buf, notif_size);
	if (n_queue == cap_queue) {
		cap_queue = cap_queue ? 2 * cap_queue : 8;
		queue = xrealloc(queue, cap_queue * sizeof(*queue));
	}
	queue[n_queue++] = req;
}

void notify_poll_for(pid_t tid)
{
	while (listener >= 0) {
		struct pollfd p = {listener, POLLIN, 0};
		if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) {
			if (p.revents)
				check_hangup(p.revents);
			return;
		}
		pass_or_queue(tid);
	}
}

int tracer_wait_tid(pid_t tid, int *status)
{
	child_events = true; /* other threads' stops stay for the loop */
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL | (listener >= 0 ? WNOHANG : 0));
		if (r == tid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (r < 0 || listener < 0)
			continue;
		int rev = wait_events();
		if (rev > 0 && (rev & POLLIN))
			pass_or_queue(tid);
		else if (rev > 0)
			check_hangup((short)rev);
	}
}

int tracer_not_stopped(struct jv_error *e)
{
	return jv_err(e, ENOTSUP,
		      "not available in a hook served by seccomp notification (the thread is "
		      "not stopped by ptrace; register the hook with mode \"ptrace\")");
}

/* Syscalls that never fail with EINTR natively: they do not sleep (the
 * table's nosleep flag; pure and creds calls neither). */
static bool never_eintr(int nr)
{
	const struct sys_info *si = sys_info(nr);
	return si && (si->classes & (SC_PURE | SC_CREDS | SC_NOSLEEP));
}

void notify_signal_stop(pid_t tid)
{
	/* A signal interrupted a call waiting for its notification to be received
	 * (once received, the wait ignores signals: WAIT_KILLABLE_RECV). The kernel
	 * gave it up with ERESTARTSYS: a handler without SA_RESTART would turn that
	 * into EINTR, which a call that never sleeps cannot return natively, so
	 * such calls are restarted after the handler instead (ERESTARTNOINTR). */
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0 || (int64_t)r.rax != -512)
		return;
	enum sys_abi abi = r.cs == 0x23			      ? SYS_ABI_I386
			   : (r.orig_rax & __X32_SYSCALL_BIT) ? SYS_ABI_X32
							      : SYS_ABI_X86_64;
	int native = sys_to_native(abi, (int)(r.orig_rax & ~(uint64_t)__X32_SYSCALL_BIT));
	if (notify_served(native) && never_eintr(native))
		ptrace(PTRACE_POKEUSER, tid, offsetof(struct user_regs_struct, rax), -513L);
}
