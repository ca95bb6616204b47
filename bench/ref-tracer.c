/* ref-tracer [--exit] [--info] [--cputime] PROG [ARGS...]: the smallest useful
 * ptrace+seccomp tracer. The child installs a filter with SECCOMP_RET_TRACE on
 * getppid (allow the rest) and execs PROG; the tracer PTRACE_SEIZEs it and loops
 * waitpid -> PTRACE_CONT. It is the floor a hook-running supervisor is compared to.
 *   --exit     also take the syscall-exit stop (PTRACE_SYSCALL at the seccomp stop,
 *              then PTRACE_CONT), like a tracer that runs after-hooks
 *   --info     read PTRACE_GET_SYSCALL_INFO at every stop (what any real tracer does)
 *   --cputime  one clock_gettime(CLOCK_THREAD_CPUTIME_ID) per stop (what an armed
 *              JavaScriptCore execution time limit costs per hook call)
 * --info and --cputime exist to split a supervisor's per-stop cost into parts. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "bench-filter.h"

int main(int argc, char **argv)
{
	int first = 1;
	bool want_exit = false, want_info = false, want_cputime = false;
	for (; first < argc && argv[first][0] == '-'; first++) {
		if (strcmp(argv[first], "--exit") == 0)
			want_exit = true;
		else if (strcmp(argv[first], "--info") == 0)
			want_info = true;
		else if (strcmp(argv[first], "--cputime") == 0)
			want_cputime = true;
		else
			break;
	}
	if (argc <= first || argv[first][0] == '-') {
		fprintf(stderr, "usage: ref-tracer [--exit] [--info] [--cputime] PROG [ARGS...]\n");
		return 2;
	}
	int go[2];
	if (pipe(go) < 0) {
		perror("ref-tracer: pipe");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("ref-tracer: fork");
		return 1;
	}
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1) /* seized */
			_exit(126);
		close(go[0]);
		if (bench_install_filter(SYS_getppid, SECCOMP_RET_TRACE | 1) < 0)
			_exit(126);
		execvp(argv[first], argv + first);
		_exit(127);
	}
	close(go[0]);
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP;
	if (ptrace(PTRACE_SEIZE, pid, 0, opts) < 0) {
		perror("ref-tracer: PTRACE_SEIZE");
		kill(pid, SIGKILL);
		return 1;
	}
	if (write(go[1], "g", 1) != 1) {
		perror("ref-tracer: write");
		return 1;
	}
	close(go[1]);
	struct __ptrace_syscall_info si;
	struct timespec ts;
	for (;;) {
		int status;
		pid_t t = waitpid(-1, &status, __WALL);
		if (t < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (t == pid)
				return WIFEXITED(status) ? WEXITSTATUS(status)
							 : 128 + WTERMSIG(status);
			continue;
		}
		int sig = WSTOPSIG(status);
		int event = (unsigned)status >> 16;
		bool stop = event == PTRACE_EVENT_SECCOMP || (!event && sig == (SIGTRAP | 0x80));
		if (stop && want_info)
			ptrace(PTRACE_GET_SYSCALL_INFO, t, sizeof(si), &si);
		if (stop && want_cputime)
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		if (event == PTRACE_EVENT_SECCOMP)
			ptrace(want_exit ? PTRACE_SYSCALL : PTRACE_CONT, t, 0, 0);
		else if (event || sig == (SIGTRAP | 0x80))
			ptrace(PTRACE_CONT, t, 0, 0); /* other event or the exit stop */
		else
			ptrace(PTRACE_CONT, t, 0, (long)sig); /* deliver signals unchanged */
	}
	return 1;
}
