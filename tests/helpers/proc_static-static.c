/* Statically linked helper for tests/test_process.py (musl-gcc -static by the
 * Makefile; the test also builds it with gcc -static when it can).
 *
 * proc_static-static   print "getppid X" and "getuid Y" (raw syscalls), then fork a
 *                      child that prints "child getppid X" and exits 7; print
 *                      "child status S"
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("getppid %ld\n", syscall(SYS_getppid));
	printf("getuid %ld\n", syscall(SYS_getuid));
	pid_t c = fork();
	if (c == 0) {
		printf("child getppid %ld\n", syscall(SYS_getppid));
		_exit(7);
	}
	int st = 0;
	waitpid(c, &st, 0);
	printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
