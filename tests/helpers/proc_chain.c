/* fork / vfork / clone3 / exec helper for tests/test_process.py. Every process
 * prints "ROLE pid PID" and then calls getppid a role-specific number of times
 * (raw syscalls), so the test can check the hooks' per-pid counts.
 *
 * proc_chain fork        root (2 calls) forks a child (3 calls) that forks a grandchild
 *                        (4 calls, exit 13); the child exits 12
 * proc_chain vfork       vfork, then the child execs "proc_chain calls 5 21"
 * proc_chain clone3      raw clone3 without CLONE_VM (6 calls, exit 22); when it fails
 *                        with ENOSYS (under jvisor), raw clone as libc falls back to
 * proc_chain threadexec  a second thread calls getppid 3 times and execs
 *                        "proc_chain calls 7 23" while the leader is alive (in pause())
 * proc_chain leaderexit  the leader starts 4 threads and calls pthread_exit; each
 *                        thread waits until the leader is a zombie, calls getppid 8
 *                        times; then one calls exit(24)
 * proc_chain calls N S   call getppid N times, exit S
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void calls(const char *role, int n)
{
	printf("%s pid %d\n", role, (int)getpid());
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void *exec_thread(void *arg)
{
	(void)arg;
	sleep_ms(50);
	for (int i = 0; i < 3; i++)
		syscall(SYS_getppid);
	char *args[] = {"proc_chain", "calls", "7", "23", NULL};
	execv("/proc/self/exe", args);
	perror("execv");
	exit(1);
}

static pthread_barrier_t barrier;
static pid_t leader;

static void *late_thread(void *arg)
{
	long idx = (long)arg;
	/* Wait until the leader has exited (a zombie until the group goes). */
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)leader);
	int zombie = 0;
	for (int i = 0; i < 500 && !zombie; i++) {
		FILE *f = fopen(path, "r");
		if (!f) {
			zombie = 1;
			break;
		}
		if (fgets(buf, sizeof(buf), f)) {
			char *p = strrchr(buf, ')');
			zombie = p && p[2] == 'Z';
		}
		fclose(f);
		if (!zombie)
			sleep_ms(10);
	}
	for (int i = 0; i < 8; i++)
		syscall(SYS_getppid);
	pthread_barrier_wait(&barrier);
	if (idx == 0) {
		printf("leader %s\n", zombie ? "gone" : "alive");
		exit(24);
	}
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2)
		return 2;
	const char *mode = argv[1];
	if (!strcmp(mode, "calls") && argc > 3) {
		calls("exec", atoi(argv[2]));
		return atoi(argv[3]);
	}
	if (!strcmp(mode, "fork")) {
		calls("root", 2);
		pid_t c = fork();
		if (c == 0) {
			calls("child", 3);
			pid_t g = fork();
			if (g == 0) {
				calls("grandchild", 4);
				exit(13);
			}
			printf("grandchild status %d\n", wait_status(g));
			exit(12);
		}
		printf("child status %d\n", wait_status(c));
		return 0;
	}
	if (!strcmp(mode, "vfork")) {
		calls("root", 2);
		pid_t c = vfork();
		if (c == 0) {
			char *args[] = {"proc_chain", "calls", "5", "21", NULL};
			execv("/proc/self/exe", args);
			_exit(127);
		}
		printf("vfork child status %d\n", wait_status(c));
		return 0;
	}
	if (!strcmp(mode, "clone3")) {
		calls("root", 2);
		struct clone_args ca;
		memset(&ca, 0, sizeof(ca));
		ca.exit_signal = SIGCHLD;
		long c = syscall(SYS_clone3, &ca, sizeof(ca));
		if (c < 0 && errno == ENOSYS) {
			printf("clone3 ENOSYS: clone\n");
			c = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
		}
		if (c < 0) {
			perror("clone3");
			return 1;
		}
		if (c == 0) {
			calls("clone3-child", 6);
			_exit(22);
		}
		printf("clone3 child status %d\n", wait_status((pid_t)c));
		return 0;
	}
	if (!strcmp(mode, "threadexec")) {
		calls("root", 2);
		pthread_t t;
		pthread_create(&t, NULL, exec_thread, NULL);
		for (;;)
			pause();
	}
	if (!strcmp(mode, "leaderexit")) {
		calls("root", 2);
		leader = getpid();
		pthread_barrier_init(&barrier, NULL, 4);
		for (long i = 0; i < 4; i++) {
			pthread_t t;
			pthread_create(&t, NULL, late_thread, (void *)i);
		}
		pthread_exit(NULL);
	}
	fprintf(stderr, "proc_chain: bad arguments\n");
	return 2;
}
