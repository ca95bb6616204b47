/* A program whose truth is known, for tests/test_accessors.py.
 *
 * acc_truth truth FILE  set up a known state, print it as one line "TRUTH {json}", call
 *                       getppid(WAITER) once (the tests hook it; the argument is the
 *                       waiter thread's tid), then print "after ..." lines
 *                       and exit 0. The state: FILE opened O_WRONLY|O_APPEND|O_CLOEXEC at
 *                       fd 10 (5 bytes written), a pipe at fds 11 (read) and 12 (write), a
 *                       TCP listener on 127.0.0.1 at fd 13 with a connected client at 14 and
 *                       its accepted peer at 15; a SIGUSR1 handler (SA_SIGINFO|SA_RESTART,
 *                       mask SIGINT); SIGUSR2 blocked; setsid(), plus a child in a process
 *                       group of its own; umask 027; nice 5; 4 threads, one of them waiting
 *                       for SIGUSR2 in sigwaitinfo, two blocked in read().
 * acc_truth exec        re-exec itself as "acc_truth env one two" with ACC_FOO=bar added.
 * acc_truth env ...     call getppid() once and exit 0.
 * acc_truth ro          write(1) a string of a read-only page (the test rewrites it).
 * acc_truth write       write(1, "original\n").
 * acc_truth stop        a sibling thread increments a counter forever; getppid(&counter)
 *                       is called from the main thread, then "stop done".
 * acc_truth exit        a sibling thread calls getppid(&x) while the main thread calls
 *                       _exit(3) 200 ms later.
 * acc_truth storm N     4 threads call getppid() N times each at once; prints
 *                       "storm CALLS" (the calls that returned the real parent).
 * acc_truth vfork       the main thread vforks a child that calls getppid(2) 100 ms
 *                       later and exits; a sibling calls getppid(1) after 50 ms (its
 *                       hook waits, then stops the threads); prints "vfork done".
 * acc_truth loop N      call getppid() N times (for the accessor benchmark); the buffer
 *                       address is its first argument.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t got_usr1;
static pid_t tids[4];
static int release_pipe[2];
static volatile int waiter_done;
static volatile int waiter_sig;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	got_usr1 = 1;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void move_fd(int fd, int to)
{
	if (fd == to)
		return;
	if (dup3(fd, to, fcntl(fd, F_GETFD) & FD_CLOEXEC ? O_CLOEXEC : 0) < 0)
		die("dup3");
	close(fd);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *waiter(void *arg)
{
	(void)arg;
	tids[1] = (pid_t)syscall(SYS_gettid);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	int sig = sigwaitinfo(&set, NULL);
	waiter_sig = sig;
	waiter_done = 1;
	return NULL;
}

static void *reader(void *arg)
{
	tids[(long)arg] = (pid_t)syscall(SYS_gettid);
	char c;
	while (read(release_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Wait until tid sits in syscall nr (so the test sees a settled state). */
static void wait_in_syscall(pid_t tid, int nr)
{
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	for (int i = 0; i < 400; i++) {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (atoi(buf) == nr && buf[0] != 'r')
				return;
		}
		sleep_ms(5);
	}
}

static int truth(const char *file)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int sid_ok = setsid() >= 0;
	int gate[2];
	if (pipe2(gate, O_CLOEXEC) < 0)
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		setpgid(0, 0);
		close(gate[1]);
		char c;
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(gate[0]);
	setpgid(child, child);
	umask(027);
	if (setpriority(PRIO_PROCESS, 0, 5) < 0)
		die("setpriority");

	int f = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_TRUNC, 0666);
	if (f < 0)
		die("open");
	move_fd(f, 10);
	if (write(10, "hello", 5) != 5)
		die("write");
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	int pr = dup(p[0]), pw = dup(p[1]); /* out of the way of 11/12 */
	close(p[0]);
	close(p[1]);
	move_fd(pr, 11);
	move_fd(pw, 12);

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 4) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) < 0)
		die("listen");
	move_fd(ls, 13);
	int cs = socket(AF_INET, SOCK_STREAM, 0);
	if (cs < 0 || connect(cs, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	move_fd(cs, 14);
	int as = accept(13, NULL, NULL);
	if (as < 0)
		die("accept");
	move_fd(as, 15);
	struct sockaddr_in ca;
	socklen_t calen = sizeof(ca);
	getsockname(14, (struct sockaddr *)&ca, &calen);

	struct sigaction sa = {0};
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		die("sigaction");
	signal(SIGHUP, SIG_IGN);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	if (pipe(release_pipe) < 0)
		die("pipe");
	tids[0] = (pid_t)syscall(SYS_gettid);
	pthread_t th[3];
	pthread_create(&th[0], NULL, waiter, NULL);
	pthread_create(&th[1], NULL, reader, (void *)2L);
	pthread_create(&th[2], NULL, reader, (void *)3L);
	for (int i = 1; i < 4; i++)
		while (!__atomic_load_n(&tids[i], __ATOMIC_SEQ_CST))
			sleep_ms(1);
	wait_in_syscall(tids[1], SYS_rt_sigtimedwait);
	wait_in_syscall(tids[2], SYS_read);
	wait_in_syscall(tids[3], SYS_read);

	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		die("getcwd");
	printf("TRUTH {\"pid\":%d,\"tids\":[%d,%d,%d,%d],\"waiter\":%d,\"sid\":%d,\"sid_ok\":%d,"
	       "\"pgid\":%d,\"child\":%d,\"uid\":%d,\"gid\":%d,\"port\":%d,\"client_port\":%d,"
	       "\"handler\":\"%p\",\"file\":\"%s\",\"exe\":\"%s\",\"cwd\":\"%s\","
	       "\"umask\":%d,\"nice\":%d}\n",
	       getpid(), tids[0], tids[1], tids[2], tids[3], tids[1], getsid(0), sid_ok, getpgid(0),
	       child, getuid(), getgid(), ntohs(a.sin_port), ntohs(ca.sin_port), (void *)on_usr1,
	       file, exe, cwd, 027, getpriority(PRIO_PROCESS, 0));

	/* The waiter's tid for the hook: the order of tids says nothing (pids wrap). */
	long r = syscall(SYS_getppid, tids[1]);

	mode_t um = umask(0);
	errno = 0;
	int nice_now = getpriority(PRIO_PROCESS, 0);
	printf("after getppid=%ld umask=%03o nice=%d\n", r, (unsigned)um, nice_now);
	for (int i = 0; i < 200 && !waiter_done; i++)
		sleep_ms(5);
	printf("after waiter=%d sig=%d\n", waiter_done, waiter_sig);
	if (!waiter_done)
		pthread_kill(th[0], SIGUSR2);
	if (write(release_pipe[1], "xx", 2) != 2)
		die("write");
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	close(gate[1]);
	int st;
	waitpid(child, &st, 0);
	printf("after child=%s%d usr1=%d\n", WIFSIGNALED(st) ? "signal" : "exit",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), (int)got_usr1);
	return 0;
}

static volatile unsigned long counter;
static volatile int stop_flag;

static void *spin(void *arg)
{
	(void)arg;
	while (!stop_flag)
		counter++;
	return NULL;
}

static void *vfork_sibling(void *arg)
{
	(void)arg;
	sleep_ms(50);
	syscall(SYS_getppid, 1L);
	return NULL;
}

static void *exit_caller(void *arg)
{
	(void)arg;
	static unsigned long x = 42;
	/* Let the main thread get past pthread_create (jvisor traps clone3) and
	 * into its sleep, so it can exit while this thread's hook runs. */
	sleep_ms(50);
	syscall(SYS_getppid, &x);
	return NULL;
}

static long storm_n;
static pid_t storm_parent;
static pthread_barrier_t storm_barrier;

static void *storm(void *arg)
{
	(void)arg;
	long ok = 0;
	pthread_barrier_wait(&storm_barrier);
	for (long i = 0; i < storm_n; i++)
		ok += syscall(SYS_getppid) == storm_parent;
	return (void *)ok;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "truth") && argc > 2)
		return truth(argv[2]);
	if (!strcmp(mode, "exec")) {
		setenv("ACC_FOO", "bar", 1);
		char *args[] = {argv[0], "env", "one", "two", NULL};
		execve("/proc/self/exe", args, environ);
		die("execve");
	}
	if (!strcmp(mode, "env")) {
		syscall(SYS_getppid);
		return 0;
	}
	if (!strcmp(mode, "ro")) {
		static const char ro[] = "readonly-original\n";
		if (write(1, ro, sizeof(ro) - 1) < 0)
			return 1;
		printf("ro now: %s", ro);
		return 0;
	}
	if (!strcmp(mode, "write")) {
		return write(1, "original\n", 9) > 0 ? 0 : 1; /* hooks may change the size */
	}
	if (!strcmp(mode, "stop")) {
		pthread_t t;
		pthread_create(&t, NULL, spin, NULL);
		while (counter < 1000)
			;
		syscall(SYS_getppid, &counter);
		stop_flag = 1;
		pthread_join(t, NULL);
		printf("stop done\n");
		return 0;
	}
	if (!strcmp(mode, "exit")) {
		pthread_t t;
		pthread_create(&t, NULL, exit_caller, NULL);
		sleep_ms(200);
		_exit(3);
	}
	if (!strcmp(mode, "vfork")) {
		pthread_t t;
		pthread_create(&t, NULL, vfork_sibling, NULL);
		pid_t c = vfork();
		if (c == 0) {
			/* Raw syscalls only: this child shares the parent's memory. */
			struct timespec ts = {0, 100 * 1000 * 1000};
			syscall(SYS_nanosleep, &ts, NULL);
			syscall(SYS_getppid, 2L);
			syscall(SYS_exit, 0);
		}
		int st;
		waitpid(c, &st, 0);
		pthread_join(t, NULL);
		printf("vfork done\n");
		return 0;
	}
	if (!strcmp(mode, "storm") && argc > 2) {
		storm_n = atol(argv[2]);
		storm_parent = getppid();
		pthread_t t[4];
		pthread_barrier_init(&storm_barrier, NULL, 4);
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, storm, NULL);
		long total = 0;
		for (int i = 0; i < 4; i++) {
			void *r;
			pthread_join(t[i], &r);
			total += (long)r;
		}
		printf("storm %ld\n", total);
		return 0;
	}
	if (!strcmp(mode, "loop") && argc > 2) {
		static char buf[8192];
		long n = atol(argv[2]);
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid, buf);
		printf("loop done\n");
		return 0;
	}
	fprintf(stderr, "usage: acc_truth truth FILE | exec | ro | write | stop | exit | loop N\n");
	return 2;
}
