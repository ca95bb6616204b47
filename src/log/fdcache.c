/* The paths of the program's file descriptors, for "fd 3 is /etc/passwd".
 * Read once per descriptor from /proc/PID/fd/N and cached per process; the
 * syscalls that close or replace descriptors (close, dup2, dup3, close_range)
 * are trapped while the log shows fds, exec forgets a process's entries. */
#include <limits.h>
#include <stdio.h>

#include "log/internal.h"

#define NBUCKETS 4096

struct fdent {
	pid_t pid;
	int fd;
	char *path;
	struct fdent *next;
};

static struct fdent *buckets[NBUCKETS];

static unsigned hash(pid_t pid, int fd)
{
	return ((unsigned)pid * 31u + (unsigned)fd) % NBUCKETS;
}

const char *fdc_path(pid_t pid, int fd)
{
	for (struct fdent *e = buckets[hash(pid, fd)]; e; e = e->next)
		if (e->pid == pid && e->fd == fd)
			return e->path;
	char link[64], target[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	struct fdent *e = xcalloc(1, sizeof(*e));
	e->pid = pid;
	e->fd = fd;
	e->path = xstrdup(target);
	struct fdent **b = &buckets[hash(pid, fd)];
	e->next = *b;
	*b = e;
	return e->path;
}

static void drop_where(pid_t pid, int lo, int hi)
{
	if (hi - lo < 64) {
		for (int fd = lo; fd <= hi; fd++) {
			for (struct fdent **p = &buckets[hash(pid, fd)]; *p; p = &(*p)->next) {
				struct fdent *e = *p;
				if (e->pid == pid && e->fd == fd) {
					*p = e->next;
					free(e->path);
					free(e);
					break;
				}
			}
		}
		return;
	}
	for (size_t i = 0; i < NBUCKETS; i++) {
		for (struct fdent **p = &buckets[i]; *p;) {
			struct fdent *e = *p;
			if (e->pid == pid && e->fd >= lo && e->fd <= hi) {
				*p = e->next;
				free(e->path);
				free(e);
			} else {
				p = &e->next;
			}
		}
	}
}

void fdc_close(pid_t pid, int lo, int hi)
{
	if (lo < 0 || hi < lo)
		return;
	drop_where(pid, lo, hi);
}

void fdc_forget(pid_t pid)
{
	drop_where(pid, 0, INT_MAX);
}
