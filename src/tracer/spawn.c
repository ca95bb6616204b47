/* Start the program: fork first (while jvisor is single-threaded), seize it,
 * then send it its compiled filter through a pipe; it installs the filter and
 * execs. The child only makes async-signal-safe calls after the fork.
 * With notify-mode hooks the filter comes with a listener, which jvisor takes
 * from the child at its execve (notify.c). */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#include "common/util.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

pid_t tracer_root_pid;
int tracer_exec_err_fd = -1;
const char *tracer_prog_name = "the program";
static int release_fd = -1;

/* Largest filter the kernel accepts (BPF_MAXINSNS). */
#define MAX_INSNS 4096

static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* What jvisor sends the child before the filter's instructions. */
struct release_hdr {
	uint32_t len;	 /* instructions that follow */
	uint32_t listen; /* 1: install with SECCOMP_FILTER_FLAG_NEW_LISTENER */
};

static __attribute__((noreturn)) void child(char *const argv[], int rfd, int errfd)
{
	static struct sock_filter insns[MAX_INSNS];
	struct release_hdr hdr;
	/* The header says how many instructions follow; EOF without it means jvisor gave up. */
	if (read_full(rfd, &hdr, sizeof(hdr)) != sizeof(hdr) || hdr.len > MAX_INSNS)
		_exit(127);
	uint32_t len = hdr.len;
	if (len &&
	    read_full(rfd, insns, len * sizeof(insns[0])) != (ssize_t)(len * sizeof(insns[0])))
		_exit(127);
	close(rfd);
	sandbox_child_setup(); /* --rlimit, --setenv, --chdir... (src/sandbox) */
	int err = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = errno;
	if (!err)
		err = sandbox_confine(); /* Landlock: the control socket out of reach */
	if (!err && len) {
		struct sock_fprog prog = {.len = (unsigned short)len, .filter = insns};
		/* A received notification waits for jvisor's answer even when a
		 * signal comes (Linux 5.19; without it a signal during a hook call
		 * makes the kernel give up the call, notify.c). */
		unsigned long flags = hdr.listen ? SECCOMP_FILTER_FLAG_NEW_LISTENER |
						       SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
						 : 0;
		long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
		if (fd < 0 && errno == EINVAL && hdr.listen)
			fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (fd < 0)
			err = errno;
		else if (hdr.listen)
			tracer_child_listener = (int)fd; /* O_CLOEXEC: gone at exec */
	}
	if (!err) {
		execvp(argv[0], argv);
		err = errno;
	}
	(void)!write(errfd, &err, sizeof(err));
	_exit(err == ENOENT ? 127 : 126);
}

int tracer_spawn(char *const argv[], struct jv_error *e)
{
	policy_set_membership(tracer_traced_tgid);
	int p[2], ep[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return jv_err(e, errno, "pipe");
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		return jv_err(e, errno, "pipe");
	}
	pid_t pid = sandbox_fork(e); /* fork(), or the program inside --isolate's namespaces */
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		close(ep[0]);
		child(argv, p[0], ep[1]);
	}
	close(p[0]);
	close(ep[1]);
	/* SIGCHLD stays pending for notify mode's signalfd (notify.c): blocked
	 * here, before any other thread exists, so that every thread inherits it. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	release_fd = p[1];
	tracer_exec_err_fd = ep[0];
	tracer_root_pid = pid;
	tracer_prog_name = argv[0];
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE |
		    PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
		    PTRACE_O_TRACESECCOMP;
	if (ptrace(PTRACE_SEIZE, pid, 0, opts) < 0) {
		int err = errno;
		tracer_abort();
		return jv_err(e, err, "ptrace(PTRACE_SEIZE) of the program");
	}
	thread_add(pid);
	return 0;
}

int tracer_release(struct jv_error *e)
{
	_cleanup_free_ struct sock_filter *prog = NULL;
	size_t len = 0;
	notify_plan();
	if (filter_build(&prog, &len, e) < 0)
		return -1;
	if (len > MAX_INSNS)
		return jv_err(e, 0, "seccomp filter too large (%zu instructions)", len);
	struct release_hdr hdr = {(uint32_t)len, notify_pending_adopt()};
	_cleanup_close_ int fd = steal_fd(&release_fd);
	if (jv_write_all(fd, &hdr, sizeof(hdr)) < 0 ||
	    (len && jv_write_all(fd, prog, len * sizeof(*prog)) < 0))
		return jv_err(e, errno, "sending the filter to the program");
	return 0;
}

void tracer_abort(void)
{
	if (tracer_root_pid > 0) {
		kill(tracer_root_pid, SIGKILL);
		while (waitpid(tracer_root_pid, NULL, __WALL) < 0 && errno == EINTR)
			;
		tracer_root_pid = 0;
	}
	if (release_fd >= 0) {
		close(release_fd);
		release_fd = -1;
	}
}
