/* Process and signal behaviour helper for tests/test_process.py.
 *
 * proc_basic exit N          exit with status N
 * proc_basic raise SIG       raise SIG with its default action
 * proc_basic segv            write through a NULL pointer
 * proc_basic getppid K       call getppid K times (raw syscall), print "getppid K"
 * proc_basic ticks N MS      print "tick I" N times, MS milliseconds apart, then "done"
 * proc_basic tticks N MS     the same with 3 more threads calling getppid and sleeping
 * proc_basic waitsig         catch SIGTERM/INT/HUP/USR1/USR2, print "ready", wait; on a
 *                            signal print "got SIGNAME" and exit 0
 * proc_basic tstp            SIGTSTP with its default action (stops), then "resumed"
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_signal(int sig)
{
	got = sig;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

static void *spinner(void *arg)
{
	(void)arg;
	for (;;) {
		(void)syscall(SYS_getppid);
		sleep_ms(5);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2)
		return 2;
	const char *mode = argv[1];
	if (!strcmp(mode, "exit") && argc > 2)
		return atoi(argv[2]);
	if (!strcmp(mode, "raise") && argc > 2) {
		int sig = atoi(argv[2]);
		signal(sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		printf("survived signal %d\n", sig);
		return 3;
	}
	if (!strcmp(mode, "segv")) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile int *)(long)(argc - 2) = 1; /* argc == 2: a NULL write */
		return 3;
	}
	if (!strcmp(mode, "getppid") && argc > 2) {
		long k = atol(argv[2]), n = 0;
		pid_t pp = getppid();
		for (long i = 0; i < k; i++)
			if (syscall(SYS_getppid) == pp)
				n++;
		printf("getppid %ld\n", n);
		return 0;
	}
	if ((!strcmp(mode, "ticks") || !strcmp(mode, "tticks")) && argc > 3) {
		int n = atoi(argv[2]);
		long ms = atol(argv[3]);
		for (int i = 0; mode[0] == 't' && i < 3; i++) {
			pthread_t t;
			pthread_create(&t, NULL, spinner, NULL);
		}
		printf("pid %d\n", (int)getpid());
		for (int i = 0; i < n; i++) {
			printf("tick %d\n", i);
			(void)syscall(SYS_getppid);
			sleep_ms(ms);
		}
		printf("done\n");
		return 0;
	}
	if (!strcmp(mode, "waitsig")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGUSR2, &sa, NULL);
		printf("ready\n");
		for (int i = 0; i < 3000 && !got; i++)
			sleep_ms(10);
		if (!got) {
			printf("no signal\n");
			return 1;
		}
		printf("got %s\n", sigabbrev_np(got));
		return 0;
	}
	if (!strcmp(mode, "tstp")) {
		signal(SIGTSTP, SIG_DFL);
		printf("pid %d\n", (int)getpid());
		raise(SIGTSTP);
		printf("resumed\n");
		return 0;
	}
	fprintf(stderr, "proc_basic: bad arguments\n");
	return 2;
}
