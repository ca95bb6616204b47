/* esc_prio: calls that act on another process by pid, aimed at the
 * supervisor (issue 13, finding 8): PID, "self", or "ppid" for the parent (jvisor;
 * under --isolate the namespace's init, pid 1). Prints "NAME ok" or
 * "NAME ERRNO" per call; each one is harmless when it succeeds (no change). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *name, long r)
{
	printf("%s %s\n", name, r < 0 ? strerrorname_np(errno) : "ok");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pid_t pid = !strcmp(argv[1], "ppid")   ? getppid()
		    : !strcmp(argv[1], "self") ? getpid()
					       : atoi(argv[1]);
	errno = 0;
	int prio = getpriority(PRIO_PROCESS, (id_t)pid);
	show("setpriority", errno ? -1 : setpriority(PRIO_PROCESS, (id_t)pid, prio));
	long io = syscall(SYS_ioprio_get, 1, pid);
	show("ioprio_set", io < 0 ? -1 : syscall(SYS_ioprio_set, 1, pid, io));
	cpu_set_t set;
	show("sched_setaffinity", sched_getaffinity(pid, sizeof(set), &set) < 0
				      ? -1
				      : sched_setaffinity(pid, sizeof(set), &set));
	struct sched_param sp = {0};
	show("sched_setparam", sched_getparam(pid, &sp) < 0 ? -1 : sched_setparam(pid, &sp));
	struct rlimit rl;
	show("prlimit", prlimit(pid, RLIMIT_NOFILE, NULL, &rl));
	show("kill", kill(pid, 0));
	show("pidfd_open", syscall(SYS_pidfd_open, pid, 0));
	return 0;
}
