/* getppid-loop N [eperm]: call syscall(SYS_getppid) N times and print the time
 * per call in nanoseconds (the loop only: process startup and warm-up are
 * excluded). Every call must return the parent's pid, or with `eperm` fail
 * with EPERM (a supervisor denies them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	int eperm = argc > 2 && strcmp(argv[2], "eperm") == 0;
	if (n < 1 || (argc > 2 && !eperm)) {
		fprintf(stderr, "usage: getppid-loop N [eperm] (N >= 1)\n");
		return 2;
	}
	/* Warm-up: fault in the code path, let the tracer settle. */
	long warm = n / 20 < 1000 ? n / 20 : 1000;
	for (long i = 0; i < warm; i++)
		syscall(SYS_getppid);
	long expect = eperm ? -1 : (long)getppid();
	double t0 = now_ns();
	long bad = 0;
	for (long i = 0; i < n; i++) {
		errno = 0;
		bad += syscall(SYS_getppid) != expect || (eperm && errno != EPERM);
	}
	double t1 = now_ns();
	if (bad) {
		fprintf(stderr, "getppid-loop: %ld calls returned an unexpected value\n", bad);
		return 1;
	}
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;
}
