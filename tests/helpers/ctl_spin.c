/* A multi-threaded program that keeps calling getuid() (hooked only at run
 * time through the control socket): half of the threads spin, half sleep
 * between calls; a forked child does the same. Each thread prints once when
 * getuid() returns 4242, then ends; the program exits 0 when all have. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *spin(void *arg)
{
	long sleepy = (long)arg;
	while (syscall(SYS_getuid) != 4242) {
		if (sleepy) {
			struct timespec ts = {0, 2 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	printf("changed %d %ld\n", getpid(), (long)syscall(SYS_gettid));
	fflush(stdout);
	return NULL;
}

static void run(int n)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, spin, (void *)(i % 2));
	spin((void *)0);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	alarm(60);
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_t child = fork();
	if (child == 0) {
		run(n);
		_exit(0);
	}
	printf("ready %d %d\n", getpid(), child);
	fflush(stdout);
	run(n);
	int st;
	waitpid(child, &st, 0);
	printf("all changed\n");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
