/* exec from a thread that is not the process's leader: the thread execs
 * itself with "done", which prints and exits. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *self;

/* The leader's state letter (R, S, ...) from /proc/self/stat. */
static char leader_state(void)
{
	char buf[512];
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return '?';
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

static void *run(void *arg)
{
	(void)arg;
	/* Deterministic: the leader is asleep in pause() before the exec. */
	while (leader_state() != 'S')
		usleep(1000);
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
