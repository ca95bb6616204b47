/* jvisor --version: the version (the Makefile's VERSION) and the commit the
 * binary was built from, both written into the generated version.h. */
#include <stdio.h>

#include "cli/cli.h"
#include "version.h"

void print_version(void)
{
	printf("jvisor %s (commit %s)\n", JV_VERSION, JV_COMMIT);
}
