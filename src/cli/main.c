#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	fputs("Usage: jvisor COMMAND [ARGS]\n"
	      "Run a Linux program under a supervisor that intercepts its system calls\n"
	      "and lets JavaScript hooks change what happens.\n\n"
	      "Commands:\n"
	      "  run [options] -- PROGRAM [ARGS...]   run a program under the supervisor\n"
	      "  check FILE.js...                     validate hook scripts without running "
	      "anything\n"
	      "  syscalls [NAME|NUMBER]               list the syscall table, or show one row\n"
	      "  ctl ADDR COMMAND [ARGS]              talk to a running sandbox (--control)\n"
	      "  view [--web ADDR] LOG.jsonl          browse a saved log in the web viewer\n\n"
	      "  jvisor COMMAND --help                help on one command\n"
	      "  jvisor --version\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("jvisor %s\n", JV_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "run")) {
		/* getopt names argv[0] in its messages: "jvisor run: unrecognized option". */
		static char run_name[] = "jvisor run";
		argv[1] = run_name;
		return cmd_run(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "ctl"))
		return cmd_ctl(argc - 1, argv + 1);
	if (!strcmp(cmd, "view")) {
		static char view_name[] = "jvisor view";
		argv[1] = view_name;
		return cmd_view(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "syscalls"))
		return cmd_syscalls(argc - 1, argv + 1);
	fprintf(stderr, "jvisor: unknown command '%s' (see jvisor --help)\n", cmd);
	return EXIT_USAGE;
}
