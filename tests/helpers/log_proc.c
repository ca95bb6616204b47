/* Process events: a thread, a fork whose child execs /bin/true, a signal to
 * itself (SIGUSR1, handled), a child killed by SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void *thread(void *arg)
{
	return arg;
}
static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	pthread_join(t, NULL);
	pid_t c = fork();
	if (c == 0) {
		execl("/bin/true", "true", "from-child", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(c, &st, 0);
	signal(SIGUSR1, on_usr1);
	kill(getpid(), SIGUSR1);
	pid_t k = fork();
	if (k == 0) {
		pause();
		_exit(0);
	}
	kill(k, SIGTERM);
	waitpid(k, &st, 0);
	printf("%d %d\n", (int)c, (int)k);
	return 0;
}
