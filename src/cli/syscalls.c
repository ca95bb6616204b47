/* jvisor syscalls [NAME|NUMBER]: the syscall table. */
#include "cli/cli.h"

int cmd_syscalls(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("Usage: jvisor syscalls [NAME|NUMBER]\nList the x86_64 syscall table, or one row.");
		return 0;
	}
	if (argc > 1) {
		char *end;
		long nr = strtol(argv[1], &end, 10);
		if (*end || end == argv[1])
			nr = sys_number(argv[1]);
		const char *name = nr >= 0 && nr < SYS_NR_MAX ? sys_name((int)nr) : NULL;
		if (!name) {
			fprintf(stderr, "jvisor syscalls: unknown syscall '%s'\n", argv[1]);
			return 1;
		}
		printf("%ld\t%s\n", nr, name);
		return 0;
	}
	for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr))
		printf("%d\t%s\n", nr, sys_name(nr));
	return 0;
}
