/* hook_probe MODE [ARG]: make syscalls with known arguments and print their raw
 * results, so tests of the hook contract can assert exact effects.
 *
 * Every syscall is made with a raw `syscall` instruction (no libc wrapper, no
 * errno translation) and reported as one line:
 *   NAME ret=R errno=E [extra...]
 * where R is -1 and E the error number when the kernel (or a hook) returned
 * -4095..-1, else R is the raw value (signed decimal) and E is 0. Reports go
 * to stdout with one write(2) each, except in mode write-stdout where they
 * go to stderr (so write hooks can filter on fd 1 without touching them).
 *
 * Modes:
 *   getppid [N]     N (default 1) getppid calls; extra: real=PPID from /proc,
 *                   pid= and tid=
 *   args6           getppid with six known arguments (see ARGS6 below)
 *   lseek OFF       lseek(memfd, OFF, SEEK_SET): the result echoes the offset
 *   write-stdout T  write(1, T, strlen(T))
 *   openat PATH     openat(AT_FDCWD, PATH, O_RDONLY)
 *   close FD        close(FD)
 *   fork            getppid; fork: child getppid; parent getppid (prefixed)
 *   thread          getppid; a thread getppid; getppid again (prefixed)
 *   exec            getppid, then re-exec itself as `hook_probe getppid`
 *   thread-exec     main getppid twice, a thread getppid once and then execs
 *                   `hook_probe getppid` from that thread
 *   seq OP...       the calls in order; OP is getppid or close:FD
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The arguments of mode args6: negative, > 2^53, exactly 2^53, the largest
 * int64, a small number and a value with the top bit set. */
static const uint64_t ARGS6[6] = {
    (uint64_t)-100,	   /* AT_FDCWD-like: a small negative number */
    9007199254740993ull,   /* 2^53 + 1: needs a BigInt */
    9007199254740992ull,   /* 2^53: still exact as a number */
    0x7fffffffffffffffull, /* INT64_MAX */
    0xdeadbeefull,	   /* a plain number */
    0xfedcba9876543210ull, /* top bit set: a negative BigInt */
};

static long raw6(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5)
{
	long ret;
	register uint64_t r10 __asm__("r10") = a3;
	register uint64_t r8 __asm__("r8") = a4;
	register uint64_t r9 __asm__("r9") = a5;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static int out_fd = 1;
static const char *prefix = "";

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s", prefix);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(out_fd, buf, (size_t)n) != n)
		_exit(99);
}

static void report(const char *name, long raw, const char *extra)
{
	if (raw < 0 && raw >= -4095)
		say("%s ret=-1 errno=%ld%s", name, -raw, extra);
	else
		say("%s ret=%ld errno=0%s", name, raw, extra);
}

/* The parent pid from /proc/self/stat, read without getppid(). */
static long real_ppid(void)
{
	char buf[512];
	int fd = open("/proc/self/stat", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	char state;
	long ppid;
	if (!p || sscanf(p + 1, " %c %ld", &state, &ppid) != 2)
		return -1;
	return ppid;
}

static void do_getppid(void)
{
	long r = raw6(SYS_getppid, 0, 0, 0, 0, 0, 0);
	char extra[128];
	snprintf(extra, sizeof(extra), " real=%ld pid=%d tid=%ld", real_ppid(), (int)getpid(),
		 (long)syscall(SYS_gettid));
	report("getppid", r, extra);
}

static const char *self_exe;

static void exec_getppid(void)
{
	char *argv[] = {(char *)"hook_probe", (char *)"getppid", NULL};
	execv(self_exe, argv);
	say("execv failed: %s", strerror(errno));
	_exit(98);
}

static void *thread_main(void *arg)
{
	prefix = "thread: ";
	do_getppid();
	if (arg)
		exec_getppid();
	return NULL;
}

static int usage(void)
{
	fputs("usage: hook_probe getppid [N] | args6 | lseek OFF | write-stdout TEXT |\n"
	      "       openat PATH | close FD | fork | thread | exec | thread-exec | seq OP...\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	self_exe = "/proc/self/exe";
	const char *mode = argv[1];
	const char *arg = argc > 2 ? argv[2] : NULL;
	if (!strcmp(mode, "getppid")) {
		long n = arg ? strtol(arg, NULL, 10) : 1;
		for (long i = 0; i < n; i++)
			do_getppid();
	} else if (!strcmp(mode, "args6")) {
		long r =
		    raw6(SYS_getppid, ARGS6[0], ARGS6[1], ARGS6[2], ARGS6[3], ARGS6[4], ARGS6[5]);
		report("args6", r, "");
	} else if (!strcmp(mode, "lseek") && arg) {
		int fd = (int)syscall(SYS_memfd_create, "probe", 0);
		if (fd < 0)
			return 3;
		uint64_t off = strtoull(arg, NULL, 0);
		report("lseek", raw6(SYS_lseek, (uint64_t)fd, off, SEEK_SET, 0, 0, 0), "");
	} else if (!strcmp(mode, "write-stdout") && arg) {
		out_fd = 2;
		long r = raw6(SYS_write, 1, (uint64_t)(uintptr_t)arg, strlen(arg), 0, 0, 0);
		report("write", r, "");
	} else if (!strcmp(mode, "openat") && arg) {
		long r = raw6(SYS_openat, (uint64_t)AT_FDCWD, (uint64_t)(uintptr_t)arg, O_RDONLY, 0,
			      0, 0);
		report("openat", r, "");
	} else if (!strcmp(mode, "close") && arg) {
		report("close", raw6(SYS_close, strtoull(arg, NULL, 0), 0, 0, 0, 0, 0), "");
	} else if (!strcmp(mode, "fork")) {
		prefix = "parent: ";
		do_getppid();
		pid_t pid = fork();
		if (pid < 0)
			return 3;
		if (pid == 0) {
			prefix = "child: ";
			do_getppid();
			_exit(0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			return 4;
		do_getppid();
	} else if (!strcmp(mode, "thread") || !strcmp(mode, "thread-exec")) {
		bool do_exec = !strcmp(mode, "thread-exec");
		prefix = "main: ";
		do_getppid();
		if (do_exec)
			do_getppid();
		pthread_t th;
		if (pthread_create(&th, NULL, thread_main, do_exec ? (void *)1 : NULL))
			return 3;
		pthread_join(th, NULL); /* never returns in thread-exec */
		prefix = "main: ";
		do_getppid();
	} else if (!strcmp(mode, "seq")) {
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "getppid"))
				do_getppid();
			else if (!strncmp(argv[i], "sleep:", 6))
				usleep((useconds_t)strtoul(argv[i] + 6, NULL, 0) * 1000);
			else if (!strncmp(argv[i], "close:", 6))
				report(
				    "close",
				    raw6(SYS_close, strtoull(argv[i] + 6, NULL, 0), 0, 0, 0, 0, 0),
				    "");
			else
				return usage();
		}
	} else if (!strcmp(mode, "exec")) {
		prefix = "before-exec: ";
		do_getppid();
		exec_getppid();
	} else {
		return usage();
	}
	return 0;
}
