/* getppid loops for exact record counts.
 * log_loop N THREADS [kill]  each of THREADS threads (0 = only main) makes N
 *                            getppid calls; "kill": then SIGKILL itself
 * log_loop term              getppid until SIGTERM, then print the count
 * log_loop pause N MS        N getppid calls, sleep MS ms, N more calls */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long n;
static volatile sig_atomic_t stop;

static void *worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return NULL;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "term")) {
		struct sigaction sa = {.sa_handler = on_term};
		sigaction(SIGTERM, &sa, NULL);
		long count = 0;
		printf("ready\n");
		fflush(stdout);
		while (!stop) {
			syscall(SYS_getppid);
			count++;
		}
		printf("%ld\n", count);
		return 0;
	}
	if (argc > 3 && !strcmp(argv[1], "pause")) {
		n = atol(argv[2]);
		worker(NULL);
		struct timespec ts = {atol(argv[3]) / 1000, atol(argv[3]) % 1000 * 1000000};
		nanosleep(&ts, NULL);
		worker(NULL);
		return 0;
	}
	if (argc < 3)
		return 2;
	n = atol(argv[1]);
	int threads = atoi(argv[2]);
	pthread_t t[64];
	if (threads > 64)
		return 2;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	if (!threads)
		worker(NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	if (argc > 3 && !strcmp(argv[3], "kill"))
		kill(getpid(), SIGKILL);
	return 0;
}
