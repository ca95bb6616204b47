/* A thread blocks in read() on a pipe nobody writes; the main thread then
 * exits the whole process: the read's record is written, marked unfinished. */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int p[2];

static void *reader(void *arg)
{
	(void)arg;
	char c;
	syscall(SYS_read, p[0], &c, 1);
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pipe(p) < 0)
		return 1;
	pthread_create(&t, NULL, reader, NULL);
	struct timespec ts = {0, 200 * 1000000};
	nanosleep(&ts, NULL); /* the reader is blocked by now */
	syscall(SYS_exit_group, 3);
	return 0;
}
