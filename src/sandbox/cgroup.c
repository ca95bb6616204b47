/* --memory and --pids: a cgroup v2 child of jvisor's own cgroup for the
 * program (docs/sandbox.md). Needs the controllers delegated to us: listed in
 * our cgroup's cgroup.controllers and enabled (or enableable) in its
 * cgroup.subtree_control. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/util.h"
#include "sandbox/cgroup.h"

static char *child_dir; /* the cgroup made for the program, removed at exit */

/* The cgroup2 mount point, or NULL. */
static char *cgroup2_mount(void)
{
	_cleanup_free_ char *info = NULL;
	if (jv_read_file("/proc/self/mountinfo", &info) < 0)
		return NULL;
	for (char *line = strtok(info, "\n"); line; line = strtok(NULL, "\n")) {
		char *sep = strstr(line, " - cgroup2 ");
		if (!sep)
			continue;
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		char *p = line;
		for (int i = 0; i < 4 && p; i++)
			p = strchr(p + 1, ' ');
		if (!p)
			continue;
		char *end = strchr(p + 1, ' ');
		if (!end)
			continue;
		return strndup(p + 1, (size_t)(end - p - 1));
	}
	return NULL;
}

/* jvisor's own cgroup directory (unified hierarchy), or NULL. */
static char *own_cgroup(void)
{
	_cleanup_free_ char *mnt = cgroup2_mount();
	_cleanup_free_ char *cg = NULL;
	if (!mnt || jv_read_file("/proc/self/cgroup", &cg) < 0)
		return NULL;
	for (char *line = strtok(cg, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "0::", 3))
			return xasprintf("%s%s", mnt, strcmp(line + 3, "/") ? line + 3 : "");
	return NULL;
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static int write_str(const char *dir, const char *file, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return jv_write_all(fd, text, strlen(text));
}

int cgroup_check(bool memory, bool pids, struct jv_error *e)
{
	_cleanup_free_ char *own = own_cgroup();
	if (!own)
		return jv_err(e, 0,
			      "--memory and --pids need cgroup v2, which is not mounted here; use "
			      "--rlimit as=BYTES or --rlimit nproc=N instead");
	_cleanup_free_ char *path = xasprintf("%s/cgroup.controllers", own);
	_cleanup_free_ char *list = NULL;
	if (jv_read_file(path, &list) < 0)
		return jv_err(e, errno, "reading %s", path);
	const char *c = memory && !has_word(list, "memory") ? "memory"
			: pids && !has_word(list, "pids")   ? "pids"
							    : NULL;
	if (c)
		return jv_err(e, 0,
			      "--%s needs the cgroup v2 '%s' controller, which is not delegated to "
			      "jvisor's cgroup (%s lists: %s); use --rlimit as=BYTES or --rlimit "
			      "nproc=N instead",
			      c, c, path,
			      list[0] && list[0] != '\n' ? strtok(list, "\n") : "nothing");
	return 0;
}

static void cgroup_remove(void)
{
	if (!child_dir)
		return;
	/* The program's processes may still be going away. */
	for (int i = 0; i < 50 && rmdir(child_dir) < 0 && errno == EBUSY; i++)
		usleep(10000);
	free(child_dir);
	child_dir = NULL;
}

int cgroup_enter(pid_t pid, long long memory, long pids, struct jv_error *e)
{
	_cleanup_free_ char *own = own_cgroup();
	if (!own)
		return jv_err(e, 0, "cgroup v2 is not mounted");
	char want[32] = "";
	if (memory)
		strcat(want, "+memory ");
	if (pids)
		strcat(want, "+pids");
	if (write_str(own, "cgroup.subtree_control", want) < 0)
		return jv_err(
		    e, errno,
		    "cannot enable '%s' in %s/cgroup.subtree_control (EBUSY: other "
		    "processes live in that cgroup; run jvisor in a delegated cgroup of "
		    "its own, e.g. systemd-run --user --scope -p Delegate=yes jvisor ...)",
		    want, own);
	child_dir = xasprintf("%s/jvisor-%d", own, (int)getpid());
	if (mkdir(child_dir, 0755) < 0 && errno != EEXIST) {
		int err = errno;
		free(steal_pointer(&child_dir));
		return jv_err(e, err, "mkdir %s/jvisor-%d", own, (int)getpid());
	}
	atexit(cgroup_remove);
	char num[32];
	if (memory) {
		snprintf(num, sizeof(num), "%lld", memory);
		if (write_str(child_dir, "memory.max", num) < 0)
			return jv_err(e, errno, "writing %s/memory.max", child_dir);
		write_str(child_dir, "memory.swap.max", "0"); /* may not exist */
	}
	if (pids) {
		snprintf(num, sizeof(num), "%ld", pids);
		if (write_str(child_dir, "pids.max", num) < 0)
			return jv_err(e, errno, "writing %s/pids.max", child_dir);
	}
	snprintf(num, sizeof(num), "%d", (int)pid);
	if (write_str(child_dir, "cgroup.procs", num) < 0)
		return jv_err(e, errno, "moving the program into %s", child_dir);
	return 0;
}
