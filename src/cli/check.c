/* jvisor check FILE.js...: load hook scripts in a VM without running anything. */
#include "cli/cli.h"
#include "js/js.h"

int cmd_check(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs("Usage: jvisor check [-s] FILE.js...\n"
		      "Run hook scripts in the engine without tracing anything: report syntax\n"
		      "errors, exceptions and bad registrations with file:line, and list the\n"
		      "hooks each script registers (with their mode and argument filter).\n"
		      "Exit status 0 when all are valid. -s/--hooks before a file is accepted,\n"
		      "as jvisor run takes it.\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	struct js_options jo = {.timeout_ms = 1000};
	struct jv_error e;
	if (js_init(&jo, &e) < 0) {
		jv_err_print(&e);
		return 1;
	}
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--hooks")) && i + 1 < argc)
			continue;
		if (js_load_file(argv[i], &e) < 0) {
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
