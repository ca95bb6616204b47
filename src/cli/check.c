/* jvisor check [-s] FILE.js...: load hook scripts in a VM without running anything. */
#include <getopt.h>

#include "cli/cli.h"
#include "js/js.h"

static void usage(FILE *f)
{
	fputs("Usage: jvisor check [-s] FILE.js...\n"
	      "Run hook scripts in the engine without tracing anything: report syntax\n"
	      "errors, exceptions and bad registrations with file:line, and list the\n"
	      "hooks each script registers (with their mode and argument filter).\n"
	      "Exit status 0 when all are valid.\n\n"
	      "Options (anywhere before --):\n"
	      "  -s, --hooks FILE.js  a script to check, as jvisor run takes it\n"
	      "  -h, --help           this help\n",
	      f);
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"hooks", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* The scripts in command-line order: -s FILE and plain operands alike. */
	_cleanup_free_ const char **files = xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n = 0;
	int c;
	optind = 1;
	/* "-": operands come back as option 1, in order (options anywhere). */
	while ((c = getopt_long(argc, argv, "-s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 1:
		case 's':
			files[n++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fputs("Try 'jvisor check --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	while (optind < argc) /* after -- */
		files[n++] = argv[optind++];
	if (!n) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct js_options jo = {.timeout_ms = 1000};
	struct jv_error e;
	if (js_init(&jo, &e) < 0) {
		jv_err_print(&e);
		return 1;
	}
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (js_load_file(files[i], &e) < 0) {
			jv_err_print(&e);
			bad++;
		}
	}
	for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr))
		for (int ph = 0; ph < 2; ph++)
			for (struct hook *h = hooks_first(nr, (enum hook_phase)ph); h;
			     h = h->next) {
				char filter[256] = "";
				if (h->filter)
					argfilter_format(h->filter, filter, sizeof(filter));
				printf("%s-hook on %s (%d)%s%s%s%s%s registered at %s\n",
				       ph == HOOK_BEFORE ? "before" : "after", sys_name(nr), nr,
				       h->mode != HOOK_MODE_PTRACE ? ", " : "",
				       h->mode != HOOK_MODE_PTRACE ? hook_mode_name(h->mode) : "",
				       h->mode != HOOK_MODE_PTRACE ? " mode" : "",
				       filter[0] ? ", when " : "", filter, h->where);
			}
	js_shutdown();
	return bad ? 1 : 0;
}
