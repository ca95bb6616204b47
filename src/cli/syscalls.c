/* jvisor syscalls [NAME|NUMBER|SET]: the syscall table. */
#include "cli/cli.h"

static void print_row(const struct sys_info *si, bool verbose)
{
	char cls[256];
	sys_class_names(si->classes, cls, sizeof(cls));
	if (!verbose) {
		printf("%d\t%s\t%s\n", si->nr, si->name, cls);
		return;
	}
	printf("%s(", si->name);
	for (int i = 0; i < si->nargs; i++) {
		const struct sys_arg *a = &si->args[i];
		printf("%s%s", i ? ", " : "", sys_role_name(a->role));
		if (a->role == SR_FLAGS || a->role == SR_ENUM)
			printf(":%s", sys_kind_name(a->param));
		else if (a->role == SR_BUFIN || a->role == SR_IOVIN || a->role == SR_IOVOUT ||
			 a->role == SR_SOCKADDR || a->role == SR_SOCKADDROUT ||
			 a->role == SR_SIGSET || a->role == SR_SIGSETOUT)
			printf(":%d", a->param);
	}
	printf(")\n  number: %d", si->nr);
	int i386 = sys_from_native(SYS_ABI_I386, si->nr);
	int x32 = sys_from_native(SYS_ABI_X32, si->nr);
	if (i386 >= 0)
		printf(" (i386: %d)", i386);
	if (x32 >= 0)
		printf(" (x32: %d)", x32);
	printf("\n  classes: %s%s\n", cls, si->classes & SC_NORETURN ? " (never returns)" : "");
}

int cmd_syscalls(int argc, char **argv)
{
	const char *q = NULL;
	int nq = 0;
	/* -h anywhere before --; anything else (-5 too) is the query. */
	for (int i = 1, options = 1; i < argc; i++) {
		if (options && !strcmp(argv[i], "--")) {
			options = 0;
		} else if (options && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
			puts("Usage: jvisor syscalls [NAME|NUMBER|SET]\n"
			     "List the x86_64 syscall table (number, name, classes), show one\n"
			     "row with its argument roles, or list a set as -e takes it (e.g.\n"
			     "%file, !%desc).\n\n"
			     "Options:\n"
			     "  -h, --help   this help");
			return 0;
		} else {
			q = argv[i];
			nq++;
		}
	}
	if (nq > 1) {
		fputs("jvisor syscalls: expected at most one NAME, NUMBER or SET\n", stderr);
		return EXIT_USAGE;
	}
	if (q) {
		char *end;
		long nr = strtol(q, &end, 10);
		if (*end || end == q)
			nr = strpbrk(q, "%,!/") || !strcmp(q, "all") ? -1 : sys_number(q);
		else if (nr < 0 || nr >= SYS_NR_MAX)
			nr = -2;
		const struct sys_info *si = nr >= 0 ? sys_info((int)nr) : NULL;
		if (si) {
			print_row(si, true);
			return 0;
		}
		struct sys_set set = {{0}};
		struct jv_error e;
		if (nr != -1 || sys_set_parse(q, &set, &e) < 0) {
			if (nr != -1)
				fprintf(stderr, "jvisor syscalls: unknown syscall '%s'\n", q);
			else
				fprintf(stderr, "jvisor syscalls: %s\n", e.msg);
			return 1;
		}
		for (int n = sys_next(-1); n >= 0; n = sys_next(n))
			if (sys_set_has(&set, n))
				print_row(sys_info(n), false);
		return 0;
	}
	for (int n = sys_next(-1); n >= 0; n = sys_next(n))
		print_row(sys_info(n), false);
	return 0;
}
