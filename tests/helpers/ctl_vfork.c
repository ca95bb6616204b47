/* A vfork parent that stays blocked in vfork() for a while (its child sleeps
 * before it exits): the parent cannot be interrupted meanwhile. Afterwards
 * the parent calls getuid() until it returns 4242 (a hook added at run time),
 * then prints "parent changed". */
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	alarm(30);
	printf("ready %d\n", getpid());
	fflush(stdout);
	pid_t c = vfork();
	if (c == 0) {
		struct timespec ts = {3,
				      0}; /* long enough for a `jvisor ctl` on a loaded machine */
		syscall(SYS_nanosleep, &ts, NULL);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	while (syscall(SYS_getuid) != 4242)
		;
	printf("parent changed\n");
	return 0;
}
