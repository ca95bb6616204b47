/* Try to start a child the tracer cannot see, for tests/test_process.py.
 *
 * proc_untraced clone|clone3 PIDFILE
 *   clone (or clone3) with CLONE_UNTRACED | SIGCHLD. The parent prints
 *   "clone failed ERRNO" or "clone ok" and exits at once without waiting. The child
 *   writes its pid to PIDFILE, prints "child getppid R" (R = -errno on failure),
 *   lingers 1 s and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 3)
		return 2;
	long c;
	if (!strcmp(argv[1], "clone3")) {
		struct clone_args ca;
		memset(&ca, 0, sizeof(ca));
		ca.flags = CLONE_UNTRACED;
		ca.exit_signal = SIGCHLD;
		c = syscall(SYS_clone3, &ca, sizeof(ca));
	} else {
		c = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
	}
	if (c < 0) {
		printf("clone failed %s\n", strerrorname_np(errno));
		return 0;
	}
	if (c == 0) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		(void)!write(fd, line, (size_t)n);
		close(fd);
		long r = syscall(SYS_getppid);
		printf("child getppid %ld\n", r < 0 ? -(long)errno : r);
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
		_exit(0);
	}
	printf("clone ok\n");
	return 0;
}
