#include "accessors/fds.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "accessors/proc.h"
#include "common/util.h"

/* One socket of the /proc/PID/net tables. */
struct sock_entry {
	uint64_t inode;
	const char *family, *proto, *state;
	char *local, *remote;
};

struct net_tables {
	bool loaded;
	struct sock_entry *v;
	size_t n, cap;
};

static const char *const tcp_states[] = {
    NULL,    "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",	 "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",	 "NEW_SYN_RECV",
};

/* "0100007F:1F90" (v4) or 32 hex digits:port (v6), as the kernel prints them. */
static char *inet_addr_text(const char *hex, bool v6)
{
	char buf[INET6_ADDRSTRLEN + 16];
	const char *colon = strchr(hex, ':');
	if (!colon)
		return xstrdup(hex);
	unsigned port = (unsigned)strtoul(colon + 1, NULL, 16);
	if (!v6) {
		uint32_t a = (uint32_t)strtoul(hex, NULL, 16);
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "%s:%u", ip, port);
	} else {
		uint32_t a[4];
		for (int i = 0; i < 4; i++) {
			char w[9];
			memcpy(w, hex + 8 * i, 8);
			w[8] = '\0';
			a[i] = (uint32_t)strtoul(w, NULL, 16);
		}
		char ip[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, a, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "[%s]:%u", ip, port);
	}
	return xstrdup(buf);
}

static struct sock_entry *add_entry(struct net_tables *t)
{
	if (t->n == t->cap)
		t->v = xrealloc(t->v, (t->cap = t->cap ? t->cap * 2 : 32) * sizeof(*t->v));
	struct sock_entry *s = &t->v[t->n++];
	memset(s, 0, sizeof(*s));
	return s;
}

static void load_inet(struct net_tables *t, pid_t pid, const char *file, const char *family,
		      const char *proto)
{
	_cleanup_free_ char *text = NULL;
	struct jv_error ignored;
	if (procfs_read(pid, file, &text, &ignored) < 0)
		return;
	bool v6 = !strcmp(family, "inet6");
	char *save = NULL;
	char *line = strtok_r(text, "\n", &save); /* header */
	while ((line = strtok_r(NULL, "\n", &save))) {
		char local[64], remote[64];
		unsigned st;
		unsigned long long inode;
		if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %llu", local, remote, &st,
			   &inode) != 4)
			continue;
		struct sock_entry *s = add_entry(t);
		s->inode = inode;
		s->family = family;
		s->proto = proto;
		s->local = inet_addr_text(local, v6);
		s->remote = inet_addr_text(remote, v6);
		if (!strcmp(proto, "tcp"))
			s->state = st < JV_ARRAY_SIZE(tcp_states) ? tcp_states[st] : NULL;
		else
			s->state = st == 1 ? "ESTABLISHED" : st == 7 ? "UNCONN" : NULL;
	}
}

static void load_unix(struct net_tables *t, pid_t pid)
{
	_cleanup_free_ char *text = NULL;
	struct jv_error ignored;
	if (procfs_read(pid, "net/unix", &text, &ignored) < 0)
		return;
	char *save = NULL;
	char *line = strtok_r(text, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned type, state;
		unsigned long flags;
		unsigned long long inode;
		int off = 0;
		if (sscanf(line, "%*s %*s %*s %lx %x %x %llu%n", &flags, &type, &state, &inode,
			   &off) != 4)
			continue;
		struct sock_entry *s = add_entry(t);
		s->inode = inode;
		s->family = "unix";
		s->proto = type == 1   ? "stream"
			   : type == 2 ? "dgram"
			   : type == 5 ? "seqpacket"
				       : NULL;
		const char *path = line + off;
		while (*path == ' ')
			path++;
		s->local = xstrdup(path);
		static const char *const states[] = {NULL, "UNCONNECTED", "CONNECTING", "CONNECTED",
						     "DISCONNECTING"};
		s->state = state < JV_ARRAY_SIZE(states) ? states[state] : NULL;
		if (flags & 0x10000) /* __SO_ACCEPTCON */
			s->state = "LISTEN";
	}
}

static void load_tables(struct net_tables *t, pid_t pid)
{
	if (t->loaded)
		return;
	t->loaded = true;
	load_inet(t, pid, "net/tcp", "inet", "tcp");
	load_inet(t, pid, "net/tcp6", "inet6", "tcp");
	load_inet(t, pid, "net/udp", "inet", "udp");
	load_inet(t, pid, "net/udp6", "inet6", "udp");
	load_unix(t, pid);
}

static void free_tables(struct net_tables *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].local);
		free(t->v[i].remote);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static void perm_text(mode_t m, char out[10])
{
	static const char rwx[] = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[i] = (m & (0400 >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		out[2] = out[2] == 'x' ? 's' : 'S';
	if (m & S_ISGID)
		out[5] = out[5] == 'x' ? 's' : 'S';
	if (m & S_ISVTX)
		out[8] = out[8] == 'x' ? 't' : 'T';
	out[9] = '\0';
}

static void flags_text(unsigned f, char *buf, size_t len)
{
	static const struct {
		unsigned bits;
		const char *name;
	} names[] = {
	    {O_SYNC, "O_SYNC"},		{__O_TMPFILE | O_DIRECTORY, "O_TMPFILE"},
	    {O_APPEND, "O_APPEND"},	{O_NONBLOCK, "O_NONBLOCK"},
	    {O_DSYNC, "O_DSYNC"},	{O_ASYNC, "O_ASYNC"},
	    {O_DIRECT, "O_DIRECT"},	{O_DIRECTORY, "O_DIRECTORY"},
	    {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
	    {O_PATH, "O_PATH"},		{O_CLOEXEC, "O_CLOEXEC"},
	};
	unsigned acc = f & O_ACCMODE;
	size_t n = (size_t)snprintf(buf, len, "%s",
				    acc == O_RDONLY   ? "O_RDONLY"
				    : acc == O_WRONLY ? "O_WRONLY"
				    : acc == O_RDWR   ? "O_RDWR"
						      : "3");
	f &= ~(unsigned)O_ACCMODE;
	f &= ~(unsigned)0100000; /* O_LARGEFILE: always set on 64-bit kernels */
	for (size_t i = 0; i < JV_ARRAY_SIZE(names); i++) {
		if ((f & names[i].bits) == names[i].bits) {
			n += (size_t)snprintf(buf + n, len > n ? len - n : 0, "|%s", names[i].name);
			f &= ~names[i].bits;
		}
	}
	if (f)
		snprintf(buf + n, len > n ? len - n : 0, "|0%o", f);
}

static bool proc_alive(pid_t pid)
{
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return access(path, F_OK) == 0;
}

static int one_fd(pid_t pid, int fd, struct net_tables *nt, struct fd_info *out, struct jv_error *e)
{
	memset(out, 0, sizeof(*out));
	out->fd = fd;
	char path[64], link[PATH_MAX + 1];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		int err = errno;
		if (err == ENOENT)
			err = proc_alive(pid) ? EBADF : ESRCH;
		return jv_err(e, err, "fd %d of process %d", fd, (int)pid);
	}
	link[n] = '\0';
	char what[48];
	snprintf(what, sizeof(what), "fdinfo/%d", fd);
	_cleanup_free_ char *info = NULL;
	if (procfs_read(pid, what, &info, e) < 0) {
		if (e->errnum == ESRCH && proc_alive(pid))
			e->errnum = EBADF;
		return -1;
	}
	const char *p = procfs_field(info, "pos");
	out->pos = p ? strtoll(p, NULL, 10) : 0;
	p = procfs_field(info, "flags");
	out->flags_value = p ? (unsigned)strtoul(p, NULL, 8) : 0;
	flags_text(out->flags_value, out->flags, sizeof(out->flags));
	unsigned acc = out->flags_value & O_ACCMODE;
	out->readable = !(out->flags_value & O_PATH) && (acc == O_RDONLY || acc == O_RDWR);
	out->writable = !(out->flags_value & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
	out->name = xstrdup(link);
	struct stat st;
	if (stat(path, &st) == 0) {
		perm_text(st.st_mode, out->mode);
		out->nlinks = st.st_nlink;
		out->inode = st.st_ino;
		out->size = (uint64_t)st.st_size;
		out->dev_major = major(st.st_dev);
		out->dev_minor = minor(st.st_dev);
		switch (st.st_mode & S_IFMT) {
		case S_IFREG:
			out->type = "file";
			break;
		case S_IFDIR:
			out->type = "dir";
			break;
		case S_IFIFO:
			out->type = "pipe";
			break;
		case S_IFSOCK:
			out->type = "socket";
			break;
		case S_IFCHR:
			out->type = "chr";
			break;
		case S_IFBLK:
			out->type = "blk";
			break;
		case S_IFLNK:
			out->type = "link";
			break;
		default:
			out->type = "other";
			break;
		}
	} else {
		strcpy(out->mode, "---------");
		out->type = "other";
	}
	if (!strncmp(link, "anon_inode:", 11))
		out->type = "anon";
	if (!strcmp(out->type, "socket")) {
		load_tables(nt, pid);
		for (size_t i = 0; i < nt->n; i++) {
			struct sock_entry *s = &nt->v[i];
			if (s->inode != out->inode)
				continue;
			out->sock_family = s->family;
			out->sock_proto = s->proto;
			out->sock_state = s->state;
			out->sock_local = s->local ? xstrdup(s->local) : NULL;
			out->sock_remote = s->remote ? xstrdup(s->remote) : NULL;
			break;
		}
	}
	return 0;
}

int fd_info(pid_t pid, int fd, struct fd_info *out, struct jv_error *e)
{
	if (fd < 0)
		return jv_err(e, EBADF, "fd %d", fd);
	struct net_tables nt = {0};
	int rc = one_fd(pid, fd, &nt, out, e);
	free_tables(&nt);
	return rc;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int fds_info(pid_t pid, struct fd_info **out, size_t *n, struct jv_error *e)
{
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return jv_err(e, errno == ENOENT ? ESRCH : errno, "cannot list %s", path);
	size_t cap = 16, len = 0;
	_cleanup_free_ int *fds = xmalloc(cap * sizeof(int));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (len == cap)
			fds = xrealloc(fds, (cap *= 2) * sizeof(int));
		fds[len++] = atoi(de->d_name);
	}
	closedir(d);
	if (!len && procfs_exiting(pid))
		return jv_err(e, ESRCH, "process %d has exited", (int)pid);
	qsort(fds, len, sizeof(int), cmp_int);
	struct net_tables nt = {0};
	struct fd_info *v = xcalloc(len ? len : 1, sizeof(*v));
	size_t got = 0;
	for (size_t i = 0; i < len; i++) {
		if (one_fd(pid, fds[i], &nt, &v[got], e) == 0) {
			got++;
		} else if (e->errnum == ESRCH) {
			fds_info_free(v, got);
			free_tables(&nt);
			return -1;
		} /* else closed meanwhile: left out */
	}
	free_tables(&nt);
	*out = v;
	*n = got;
	return 0;
}

void fd_info_free(struct fd_info *f)
{
	free(f->name);
	free(f->sock_local);
	free(f->sock_remote);
	f->name = f->sock_local = f->sock_remote = NULL;
}

void fds_info_free(struct fd_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fd_info_free(&v[i]);
	free(v);
}
