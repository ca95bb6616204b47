/* exec from a thread that is not the process's leader: the thread execs
 * itself with "done", which prints and exits. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *self;

static void *run(void *arg)
{
	(void)arg;
	char *const argv[] = {self, "done", NULL};
	execv(self, argv);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "done")) {
		puts("exec'd");
		return 0;
	}
	self = argv[0];
	pthread_t t;
	pthread_create(&t, NULL, run, NULL);
	pause();
	return 1;
}
