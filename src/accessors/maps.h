/* Memory mappings of a process (/proc/PID/maps). JS-free. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct map_entry {
	uint64_t start, end, offset, inode;
	bool readable, writable, executable, private_;
	unsigned dev_major, dev_minor;
	char *path; /* "" for anonymous memory; "[stack]", "[heap]", "[vdso]", ... */
};

int maps_read(pid_t pid, struct map_entry **out, size_t *n, struct jv_error *e);
void maps_free(struct map_entry *v, size_t n);
/* The procfs text itself. */
int maps_text(pid_t pid, char **out, struct jv_error *e);
