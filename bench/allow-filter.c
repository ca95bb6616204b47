/* allow-filter PROG [ARGS...]: install a seccomp filter that allows every
 * syscall (one dummy rule: kexec_load fails with EPERM, so the filter is not
 * trivial), then exec PROG. The floor for syscalls a jvisor filter lets through. */
#include <stdio.h>
#include <string.h>

#include "bench-filter.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: allow-filter PROG [ARGS...]\n");
		return 2;
	}
	if (bench_install_filter(SYS_kexec_load, SECCOMP_RET_ERRNO | EPERM) < 0) {
		perror("allow-filter: seccomp");
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "allow-filter: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
