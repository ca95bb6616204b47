/* Threads calling getppid with a sequence number, for tests/test_observe.py.
 *
 * obs_threads T K [PATH]   T threads (started together) each make K getppid calls
 *                          with a0 = THREAD << 32 | I (I = 0..K-1); then print
 *                          "calls TOTAL elapsed NS" (TOTAL: calls that returned the
 *                          parent; NS: wall time of the calls). With PATH: print
 *                          "waiting", then wait (10 s at most) until PATH exists. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long k;
static pid_t parent;
static pthread_barrier_t barrier;

static void *caller(void *arg)
{
	uint64_t idx = (uint64_t)(uintptr_t)arg;
	long n = 0;
	pthread_barrier_wait(&barrier);
	for (long i = 0; i < k; i++)
		if (syscall(SYS_getppid, idx << 32 | (uint64_t)i, 0xb5) == parent)
			n++;
	return (void *)n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	long t = atol(argv[1]);
	k = atol(argv[2]);
	if (t < 1 || t > 64 || k < 0)
		return 2;
	parent = getppid();
	pthread_t th[64];
	pthread_barrier_init(&barrier, NULL, (unsigned)t + 1);
	for (long i = 0; i < t; i++)
		pthread_create(&th[i], NULL, caller, (void *)(uintptr_t)i);
	pthread_barrier_wait(&barrier);
	uint64_t t0 = now_ns();
	long total = 0;
	for (long i = 0; i < t; i++) {
		void *r;
		pthread_join(th[i], &r);
		total += (long)r;
	}
	printf("calls %ld elapsed %llu\n", total, (unsigned long long)(now_ns() - t0));
	fflush(stdout);
	if (argc > 3) {
		printf("waiting\n");
		fflush(stdout);
		for (int i = 0; i < 1000 && access(argv[3], F_OK) != 0; i++)
			usleep(10000);
	}
	return 0;
}
