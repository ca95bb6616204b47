/* Threads helper for tests/test_process.py.
 *
 * proc_threads N K     N threads each call getppid K times (raw syscall), all at once;
 *                      prints "threads N calls TOTAL" (calls that returned the parent)
 * proc_threads churn R N K  R rounds of the first form (threads come and go)
 * proc_threads local N  N threads started together each call getgid 3 times and
 *                      print "results a b c"; then the main thread prints "main x".
 *                      (the test's hook fakes getgid's result from persistence.local)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long k;
static pid_t parent;
static pthread_barrier_t barrier;
static long results[64][3];

static void *caller(void *arg __attribute__((unused)))
{
	long n = 0;
	pthread_barrier_wait(&barrier);
	for (long i = 0; i < k; i++)
		if (syscall(SYS_getppid) == parent)
			n++;
	return (void *)n;
}

static void *local_caller(void *arg)
{
	long idx = (long)arg;
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < 3; i++)
		results[idx][i] = syscall(SYS_getgid);
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 3)
		return 2;
	int local = !strcmp(argv[1], "local");
	int rounds = 1;
	if (!strcmp(argv[1], "churn") && argc > 4) {
		rounds = atoi(argv[2]);
		argv += 2;
	}
	int n = atoi(argv[local ? 2 : 1]);
	if (n < 1 || n > 64)
		return 2;
	k = local ? 0 : atol(argv[2]);
	parent = getppid();
	pthread_t th[64];
	long total = 0;
	for (int round = 0; round < rounds; round++) {
		pthread_barrier_init(&barrier, NULL, (unsigned)n);
		for (long i = 0; i < n; i++)
			if (pthread_create(&th[i], NULL, local ? local_caller : caller,
					   (void *)i)) {
				perror("pthread_create");
				return 1;
			}
		for (int i = 0; i < n; i++) {
			void *r;
			pthread_join(th[i], &r);
			total += (long)r;
		}
		pthread_barrier_destroy(&barrier);
	}
	if (local) {
		for (int i = 0; i < n; i++)
			printf("results %ld %ld %ld\n", results[i][0], results[i][1],
			       results[i][2]);
		/* The main thread has its own counter too. */
		printf("main %ld\n", syscall(SYS_getgid));
	} else {
		printf("threads %d calls %ld\n", n * rounds, total);
	}
	return 0;
}
