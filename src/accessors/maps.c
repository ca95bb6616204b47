#include "accessors/maps.h"

#include <errno.h>
#include <inttypes.h>

#include "accessors/proc.h"
#include "common/util.h"

int maps_text(pid_t pid, char **out, struct jv_error *e)
{
	return procfs_read(pid, "maps", out, e) < 0 ? -1 : 0;
}

int maps_read(pid_t pid, struct map_entry **out, size_t *n, struct jv_error *e)
{
	_cleanup_free_ char *text = NULL;
	if (maps_text(pid, &text, e) < 0)
		return -1;
	size_t cap = 64, len = 0;
	struct map_entry *v = xmalloc(cap * sizeof(*v));
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct map_entry m = {0};
		char perms[8];
		int off = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 "%n",
			   &m.start, &m.end, perms, &m.offset, &m.dev_major, &m.dev_minor, &m.inode,
			   &off) != 7)
			continue;
		m.readable = perms[0] == 'r';
		m.writable = perms[1] == 'w';
		m.executable = perms[2] == 'x';
		m.private_ = perms[3] == 'p';
		const char *path = line + off;
		while (*path == ' ')
			path++;
		m.path = xstrdup(path);
		if (len == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[len++] = m;
	}
	if (!len) {
		free(v);
		/* Only a process that has exited (a zombie) has no mappings. */
		return jv_err(e, ESRCH, "process %d has no memory (it has exited)", (int)pid);
	}
	*out = v;
	*n = len;
	return 0;
}

void maps_free(struct map_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}
