/* esc_clone3: race clone3's flags, which live in memory, against any check
 * made before the kernel reads them (issue 13, finding 3). A second thread
 * flips clone_args.flags between 0 and FLAGS while the main thread calls
 * clone3 N times. Each child reports what it got on a pipe: 'N' when it is in
 * a new user namespace, 'U' when nobody traces it; then it exits.
 *   esc_clone3 newuser N          FLAGS = CLONE_NEWUSER
 *   esc_clone3 untraced N [PID]   FLAGS = CLONE_UNTRACED; with PID, every child
 *                                 asks for that pid (set_tid: --isolate)
 * Prints "ok=A enosys=B other=C newuser=D untraced=E". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct clone_args ca;
static uint64_t flip;
static volatile int stop;

static void *flipper(void *arg)
{
	(void)arg;
	while (!stop) {
		__atomic_store_n(&ca.flags, flip, __ATOMIC_RELAXED);
		__atomic_store_n(&ca.flags, 0, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int traced(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	char *p = strstr(buf, "TracerPid:");
	return p ? atoi(p + 10) != 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	flip = !strcmp(argv[1], "newuser") ? CLONE_NEWUSER : CLONE_UNTRACED;
	int n = atoi(argv[2]);
	pid_t tid[1] = {argc > 3 ? (pid_t)atoi(argv[3]) : 0};
	char user_ns[64] = "";
	if (readlink("/proc/self/ns/user", user_ns, sizeof(user_ns) - 1) < 0)
		return 2;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return 2;
	ca.exit_signal = SIGCHLD;
	if (tid[0]) {
		ca.set_tid = (uintptr_t)tid;
		ca.set_tid_size = 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, flipper, NULL);
	int ok = 0, enosys = 0, other = 0, newuser = 0, untraced = 0;
	for (int i = 0; i < n; i++) {
		long r = syscall(SYS_clone3, &ca, sizeof(ca));
		if (r == 0) {
			char ns[64] = "";
			if (readlink("/proc/self/ns/user", ns, sizeof(ns) - 1) > 0 &&
			    strcmp(ns, user_ns))
				(void)!write(fds[1], "N", 1);
			if (!traced())
				(void)!write(fds[1], "U", 1);
			_exit(0);
		}
		if (r > 0) {
			ok++;
			waitpid((pid_t)r, NULL, __WALL);
		} else if (errno == ENOSYS) {
			enosys++;
		} else {
			other++;
		}
	}
	stop = 1;
	pthread_join(th, NULL);
	close(fds[1]);
	char c;
	while (read(fds[0], &c, 1) == 1) {
		newuser += c == 'N';
		untraced += c == 'U';
	}
	printf("ok=%d enosys=%d other=%d newuser=%d untraced=%d\n", ok, enosys, other, newuser,
	       untraced);
	return 0;
}
