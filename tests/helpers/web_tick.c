/* A program for the web viewer's live tests: web_tick SECONDS
 * forks a child that makes 5 getppid calls and exits 3; then, until SECONDS
 * have passed, calls getppid and open("/nonexistent/web-tick") (ENOENT) every
 * 20 ms; prints "hooked" once when getppid returns 4242. Exits 0. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < 5; i++)
			syscall(SYS_getppid);
		_exit(3);
	}
	waitpid(c, NULL, 0);
	struct timespec t0, now, d = {0, 20 * 1000 * 1000};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int said = 0;
	for (;;) {
		if (syscall(SYS_getppid) == 4242 && !said) {
			printf("hooked\n");
			fflush(stdout);
			said = 1;
		}
		int fd = open("/nonexistent/web-tick", O_RDONLY);
		if (fd >= 0)
			close(fd);
		nanosleep(&d, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9 > secs)
			break;
	}
	return 0;
}
