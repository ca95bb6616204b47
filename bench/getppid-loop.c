/* getppid-loop N: call syscall(SYS_getppid) N times and print the time per call
 * in nanoseconds (the loop only: process startup and warm-up are excluded). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	if (n < 1) {
		fprintf(stderr, "usage: getppid-loop N (N >= 1)\n");
		return 2;
	}
	/* Warm-up: fault in the code path, let the tracer settle. */
	long warm = n / 20 < 1000 ? n / 20 : 1000;
	for (long i = 0; i < warm; i++)
		syscall(SYS_getppid);
	pid_t expect = getppid();
	double t0 = now_ns();
	long bad = 0;
	for (long i = 0; i < n; i++)
		bad += syscall(SYS_getppid) != expect;
	double t1 = now_ns();
	if (bad) {
		fprintf(stderr, "getppid-loop: %ld calls returned an unexpected value\n", bad);
		return 1;
	}
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;
}
