/* A process tree that outlives its welcome, for tests/test_process.py.
 *
 * proc_tree FILE N   fork N children; each forks a grandchild and starts a thread;
 *                    every process appends its pid to FILE and then sleeps (calling
 *                    getppid every 20 ms). When all 1+2N pids are in FILE the root
 *                    writes "ready" to stdout. Everything exits by itself after 60 s.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *file;

static void record(void)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd >= 0) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
}

static void linger(void)
{
	struct timespec ts = {0, 20 * 1000000L};
	for (int i = 0; i < 3000; i++) {
		syscall(SYS_getppid);
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

static void *thread_main(void *arg)
{
	(void)arg;
	linger();
	return NULL;
}

static int count_lines(void)
{
	FILE *f = fopen(file, "r");
	int n = 0, c;
	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	file = argv[1];
	int n = atoi(argv[2]);
	record();
	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			if (fork() == 0) {
				record();
				linger();
			}
			record();
			pthread_t t;
			pthread_create(&t, NULL, thread_main, NULL);
			linger();
		}
	}
	struct timespec ts = {0, 10 * 1000000L};
	for (int i = 0; i < 1000 && count_lines() < 1 + 2 * n; i++)
		nanosleep(&ts, NULL);
	printf("ready\n");
	fflush(stdout);
	linger();
}
