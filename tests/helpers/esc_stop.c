/* esc_stop: stop itself with SIGSTOP, then sleep 30 s (issue 13, finding 7).
 * With "catch", a SIGTERM handler is installed first (it prints "caught"). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_term(int sig)
{
	(void)sig;
	(void)!write(1, "caught\n", 7);
	_exit(3);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "catch"))
		signal(SIGTERM, on_term);
	printf("stopping\n");
	fflush(stdout);
	kill(getpid(), SIGSTOP);
	printf("continued\n");
	fflush(stdout);
	sleep(30);
	return 0;
}
