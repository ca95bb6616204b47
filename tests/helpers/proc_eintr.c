/* EINTR / SA_RESTART helper for tests/test_process.py.
 *
 * proc_eintr restart|norestart timer|child
 *
 * Blocks in read() on an empty pipe. A SIGUSR1 arrives while it waits:
 *   timer: from a timer of this process (setitimer, 100 ms; the handler writes
 *          "data" into the pipe);
 *   child: from a child process, which writes "data" into the pipe 200 ms later.
 * The handler is installed with or without SA_RESTART. Prints what each read()
 * returned; the output is the same natively and under a tracer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int pfd[2];
static int write_in_handler;
static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
	if (write_in_handler)
		(void)!write(pfd[1], "data", 4);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 3)
		return 2;
	int restart = !strcmp(argv[1], "restart");
	int timer = !strcmp(argv[2], "timer");
	if (pipe(pfd) < 0)
		return 1;
	write_in_handler = timer;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(timer ? SIGALRM : SIGUSR1, &sa, NULL);
	pid_t child = -1;
	if (timer) {
		struct itimerval it = {{0, 0}, {0, 100000}};
		setitimer(ITIMER_REAL, &it, NULL);
	} else {
		pid_t parent = getpid();
		child = fork();
		if (child == 0) {
			close(pfd[0]);
			sleep_ms(100);
			kill(parent, SIGUSR1);
			sleep_ms(200);
			(void)!write(pfd[1], "data", 4);
			_exit(0);
		}
	}
	for (int i = 0; i < 3; i++) {
		char buf[16];
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0) {
			printf("read %d: %s, handled %d\n", i, strerrorname_np(errno),
			       (int)handled);
			continue;
		}
		printf("read %d: %zd bytes '%.*s', handled %d\n", i, n, (int)n, buf, (int)handled);
		break;
	}
	if (child > 0) {
		int st;
		waitpid(child, &st, 0);
		printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return 0;
}
