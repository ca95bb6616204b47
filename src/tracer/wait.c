/* Waiting for the next stop: spin, then block.
 *
 * A tracee resumed by the loop usually stops again a few microseconds later.
 * A tracer that blocks at once lets its CPU go idle, and the tracee's next stop
 * then has to wake that CPU, which costs far more than the stop itself on a
 * virtual machine (a halted vCPU is woken through the hypervisor). So the loop
 * first polls with WNOHANG for a short budget and blocks only after it.
 *
 * The budget adapts as the kernel's haltpoll does: a stop that came within the
 * ceiling sets it back to the ceiling; a longer wait (the program is blocked,
 * not stopping) halves it, down to 0, so a program that mostly sleeps costs
 * little spinning. No spinning when jvisor may run on one CPU only: the spin
 * would only delay the tracee it waits for.
 *
 * JVISOR_SPIN_US sets the ceiling in microseconds. The default is 0 (block at
 * once): measured with bench/trace-all (BENCHMARKS.md), a spin of 50 us made the
 * 200-process shell loop slower on an idle machine, and every workload slower on
 * a loaded one (the spinning tracer takes the CPU a tracee or a neighbour needs). */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

#define SPIN_US_DEFAULT 0

static long max_ns = -1;     /* the budget's ceiling (-1: not read yet) */
static long budget_ns;	     /* the budget now */
static bool spun_out;	     /* this wait's spin found nothing */
static long long wait_start; /* when this wait began (0: no wait in progress) */

static void init(void)
{
	const char *s = getenv("JVISOR_SPIN_US");
	char *end;
	long us = SPIN_US_DEFAULT;
	if (s && *s) {
		long v = strtol(s, &end, 10);
		if (!*end && v >= 0 && v <= 1000000)
			us = v;
	}
	cpu_set_t cpus;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2)
		us = 0;
	max_ns = budget_ns = us * 1000;
}

static pid_t done(pid_t r)
{
	if (r > 0) {
		if (max_ns > 0) {
			if ((long long)jv_now_ns() - wait_start <= max_ns)
				budget_ns = max_ns;
			else
				budget_ns = budget_ns >= 2000 ? budget_ns / 2 : 0;
		}
		spun_out = false;
		wait_start = 0;
	}
	return r;
}

pid_t tracer_wait_next(int *status, bool nonblock)
{
	if (max_ns < 0)
		init();
	if (max_ns > 0 && !wait_start)
		wait_start = (long long)jv_now_ns();
	if (budget_ns > 0 && !spun_out) {
		long long deadline = wait_start + budget_ns;
		do {
			pid_t r = waitpid(-1, status, __WALL | WNOHANG);
			if (r != 0)
				return done(r); /* a stop, or an error (ECHILD, EINTR) */
			if (tracer_wake) {
				errno = EINTR; /* as the blocking waitpid would say */
				return -1;
			}
		} while ((long long)jv_now_ns() < deadline);
		spun_out = true;
	}
	return done(waitpid(-1, status, __WALL | (nonblock ? WNOHANG : 0)));
}

/* With an event source besides the stops (the BPF backend's ring buffer): wait
 * in poll() on fd and a signalfd for SIGCHLD (blocked since tracer_spawn), 10 ms
 * at most. Returns a stop, 0 when fd is readable or 10 ms went by (or nonblock
 * and nothing came), -1. */
pid_t tracer_wait_fd(int fd, int *status, bool nonblock)
{
	static int sfd = -1;
	if (sfd < 0) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGCHLD);
		sfd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
	}
	for (;;) {
		pid_t r = waitpid(-1, status, __WALL | WNOHANG);
		if (r != 0)
			return r;
		if (tracer_wake) {
			errno = EINTR;
			return -1;
		}
		if (nonblock)
			return 0;
		struct pollfd p[2] = {{sfd, POLLIN, 0}, {fd, POLLIN, 0}};
		/* The BPF programs wake the reader only when enough waits: poll
		 * for the rest (the log lags by this much at most). */
		int n = poll(p, 2, 10);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (p[0].revents) {
			struct signalfd_siginfo si[8];
			while (read(sfd, si, sizeof(si)) > 0)
				;
		}
		if (p[1].revents)
			return 0;
	}
}
