#include "accessors/proc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>

#include "common/util.h"
#include "tracer/tracer.h"

ssize_t procfs_read(pid_t pid, const char *what, char **out, struct jv_error *e)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	ssize_t n = jv_read_file(path, out);
	if (n < 0) {
		int err = errno == ENOENT ? ESRCH : errno;
		return jv_err(e, err, "cannot read %s", path);
	}
	return n;
}

const char *procfs_field(const char *status, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			p += klen + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
	}
	return NULL;
}

bool procfs_exiting(pid_t pid)
{
	_cleanup_free_ char *status = NULL;
	struct jv_error ignored;
	if (procfs_read(pid, "status", &status, &ignored) < 0)
		return true;
	const char *st = procfs_field(status, "State");
	return !st || *st == 'Z' || *st == 'X' || !procfs_field(status, "VmSize");
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* Split a NUL-separated procfs buffer into a vector. */
static char **split_nul(const char *buf, size_t len)
{
	size_t n = 0, cap = 16;
	char **v = xmalloc(cap * sizeof(*v));
	for (size_t i = 0; i < len;) {
		size_t l = strnlen(buf + i, len - i);
		if (n + 2 > cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n] = xmalloc(l + 1);
		memcpy(v[n], buf + i, l);
		v[n++][l] = '\0';
		i += l + 1;
	}
	v[n] = NULL;
	return v;
}

static int read_strv(pid_t pid, const char *what, char ***out, struct jv_error *e)
{
	_cleanup_free_ char *buf = NULL;
	ssize_t n = procfs_read(pid, what, &buf, e);
	if (n < 0)
		return -1;
	*out = split_nul(buf, (size_t)n);
	return 0;
}

int proc_argv(pid_t pid, char ***out, struct jv_error *e)
{
	if (read_strv(pid, "cmdline", out, e) < 0)
		return -1;
	if (!**out) {
		/* A zombie (or a kernel thread) has no command line left. */
		strv_free(*out);
		return jv_err(e, ESRCH, "process %d has no command line (it has exited)", (int)pid);
	}
	return 0;
}

int proc_environ(pid_t pid, char ***out, struct jv_error *e)
{
	if (read_strv(pid, "environ", out, e) < 0)
		return -1;
	if (!**out && procfs_exiting(pid)) {
		strv_free(*out);
		return jv_err(e, ESRCH, "process %d has exited", (int)pid);
	}
	return 0;
}

int proc_link(pid_t pid, const char *which, char **out, struct jv_error *e)
{
	char path[64], buf[PATH_MAX + 1];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0) {
		int err = errno == ENOENT ? ESRCH : errno;
		return jv_err(e, err, "cannot read the link %s", path);
	}
	buf[n] = '\0';
	*out = xstrdup(buf);
	return 0;
}

/* The fields of /proc/PID/stat after "(comm)": state is field 3. */
static const char *stat_fields(const char *stat)
{
	const char *p = strrchr(stat, ')');
	return p ? p + 2 : NULL;
}

static int read_stat_ids(pid_t tid, pid_t *ppid, pid_t *pgid, pid_t *sid, int *tty, pid_t *tpgid,
			 struct jv_error *e)
{
	_cleanup_free_ char *stat = NULL;
	if (procfs_read(tid, "stat", &stat, e) < 0)
		return -1;
	const char *f = stat_fields(stat);
	char state;
	int a, b, c, d, g;
	if (!f || sscanf(f, "%c %d %d %d %d %d", &state, &a, &b, &c, &d, &g) != 6)
		return jv_err(e, EIO, "cannot parse /proc/%d/stat", (int)tid);
	if (ppid)
		*ppid = a;
	*pgid = b;
	*sid = c;
	if (tty)
		*tty = d;
	if (tpgid)
		*tpgid = g;
	return 0;
}

static void parse_ids(const char *status, const char *key, unsigned v[4])
{
	const char *p = procfs_field(status, key);
	v[0] = v[1] = v[2] = v[3] = 0;
	if (p)
		sscanf(p, "%u %u %u %u", &v[0], &v[1], &v[2], &v[3]);
}

int proc_ids(pid_t tid, struct proc_ids *out, struct jv_error *e)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *status = NULL;
	if (procfs_read(tid, "status", &status, e) < 0)
		return -1;
	const char *tg = procfs_field(status, "Tgid");
	out->tid = tid;
	out->pid = tg ? atoi(tg) : tid;
	unsigned u[4], g[4];
	parse_ids(status, "Uid", u);
	parse_ids(status, "Gid", g);
	out->uid = u[0], out->euid = u[1], out->suid = u[2], out->fsuid = u[3];
	out->gid = g[0], out->egid = g[1], out->sgid = g[2], out->fsgid = g[3];
	if (read_stat_ids(tid, &out->ppid, &out->pgid, &out->sid, &out->tty_nr, &out->fg_pgid, e) <
	    0)
		return -1;
	_cleanup_free_ pid_t *procs = NULL;
	size_t n = tracer_processes(&procs);
	out->other_pgids = xmalloc((n + 1) * sizeof(pid_t));
	for (size_t i = 0; i < n; i++) {
		pid_t pgid, sid;
		struct jv_error ignored;
		if (read_stat_ids(procs[i], NULL, &pgid, &sid, NULL, NULL, &ignored) < 0)
			continue;
		if (sid != out->sid || pgid == out->pgid)
			continue;
		bool seen = false;
		for (size_t j = 0; j < out->n_other_pgids && !seen; j++)
			seen = out->other_pgids[j] == pgid;
		if (!seen)
			out->other_pgids[out->n_other_pgids++] = pgid;
	}
	return 0;
}

void proc_ids_free(struct proc_ids *p)
{
	free(p->other_pgids);
	p->other_pgids = NULL;
	p->n_other_pgids = 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int proc_threads(pid_t tid, pid_t *tgid, pid_t **tids, size_t *n, struct jv_error *e)
{
	_cleanup_free_ char *status = NULL;
	if (procfs_read(tid, "status", &status, e) < 0)
		return -1;
	const char *tg = procfs_field(status, "Tgid");
	*tgid = tg ? atoi(tg) : tid;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)*tgid);
	DIR *d = opendir(path);
	if (!d)
		return jv_err(e, errno == ENOENT ? ESRCH : errno, "cannot list %s", path);
	size_t cap = 16, len = 0;
	pid_t *v = xmalloc(cap * sizeof(*v));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (len == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[len++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	qsort(v, len, sizeof(*v), cmp_pid);
	*tids = v;
	*n = len;
	return 0;
}
