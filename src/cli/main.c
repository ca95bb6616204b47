#include <string.h>

#include "cli/cli.h"
#include "sandbox/policy.h"

static void usage(FILE *f)
{
	fputs("Usage: jvisor COMMAND [ARGS]\n"
	      "Run a Linux program under a supervisor that intercepts its system calls\n"
	      "and lets JavaScript hooks change what happens.\n\n"
	      "Commands:\n"
	      "  run [options] -- PROGRAM [ARGS...]   run a program under the supervisor\n"
	      "  check [-s] FILE.js...                validate hook scripts without running "
	      "anything\n"
	      "  syscalls [NAME|NUMBER]               list the syscall table, or show one row\n"
	      "  ctl [options] ADDR COMMAND [ARGS]    talk to a running sandbox (--control)\n"
	      "  view [--web ADDR] LOG.jsonl          browse a saved log in the web viewer\n"
	      "  version                              print the version and the commit\n\n"
	      "  jvisor COMMAND --help                help on one command (man jvisor-COMMAND)\n"
	      "  jvisor -V, --version                 print the version and the commit\n",
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
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		print_version();
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
	    {"run", cmd_run},	{"check", cmd_check},	    {"ctl", cmd_ctl},
	    {"view", cmd_view}, {"syscalls", cmd_syscalls},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmd, cmds[i].name))
			continue;
		if (cmds[i].fn == cmd_run)
			policy_hide_environment(); /* before anything reads it */
		/* getopt names argv[0] in its messages: "jvisor run: unrecognized option". */
		static char name[32];
		snprintf(name, sizeof(name), "jvisor %s", cmd);
		argv[1] = name;
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "jvisor: unknown command '%s' (see jvisor --help)\n", cmd);
	return EXIT_USAGE;
}
