/* The decoder's memory for a BPF record (capture.h). */
#include "bpf/capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define SOCKFS_MAGIC 0x534F434B
#define PIPEFS_MAGIC 0x50495045
#define ANON_INODE_FS_MAGIC 0x09041934

/* The captures, in order: calls fn until it returns true. */
#define FOR_CAPS(m, c, data)                                                            \
	for (const unsigned char *p_ = (const unsigned char *)((m)->ev + 1);            \
	     p_ + sizeof(struct jb_cap) <= (m)->end &&                                  \
	     ((c) = (const struct jb_cap *)p_, (data) = p_ + sizeof(struct jb_cap), 1); \
	     p_ += sizeof(struct jb_cap) + (((c)->len + 7u) & ~7u))

static const struct capmem *self(const struct dec_mem *m)
{
	return (const struct capmem *)m;
}

static ssize_t cap_read(const struct dec_mem *dm, uint64_t addr, void *buf, size_t n, int *err)
{
	const struct capmem *m = self(dm);
	const struct jb_cap *c;
	const unsigned char *d;
	*err = EFAULT;
	FOR_CAPS(m, c, d)
	{
		if (c->kind == JB_CAP_FD)
			continue;
		if (c->addr == addr && c->err) {
			*err = c->err;
			continue;
		}
		if (addr < c->addr || addr - c->addr >= c->len)
			continue;
		size_t have = c->len - (size_t)(addr - c->addr);
		size_t k = have < n ? have : n;
		memcpy(buf, d + (addr - c->addr), k);
		*err = 0;
		return (ssize_t)k;
	}
	return -1;
}

static ssize_t cap_read_string(const struct dec_mem *dm, uint64_t addr, size_t max, char **out,
			       int *err)
{
	const struct capmem *m = self(dm);
	const struct jb_cap *c;
	const unsigned char *d;
	*err = EFAULT;
	FOR_CAPS(m, c, d)
	{
		if (c->kind != JB_CAP_STR || c->addr != addr)
			continue;
		if (c->err) {
			*err = c->err;
			continue;
		}
		size_t n = strnlen((const char *)d, c->len);
		if (n > max)
			n = max;
		*out = xmalloc(n + 1);
		memcpy(*out, d, n);
		(*out)[n] = '\0';
		*err = 0;
		return (ssize_t)n;
	}
	return -1;
}

/* d_path() from the pieces of struct jb_fdpath. */
static const char *cap_fd_path(const struct dec_mem *dm, int fd)
{
	struct capmem *m = (struct capmem *)dm;
	const struct jb_cap *c;
	const unsigned char *d;
	FOR_CAPS(m, c, d)
	{
		if (c->kind != JB_CAP_FD || c->addr != (uint64_t)fd ||
		    c->len < sizeof(struct jb_fdpath))
			continue;
		const struct jb_fdpath *fp = (const void *)d;
		const char *names = (const char *)(fp + 1);
		size_t nlen = c->len - sizeof(*fp);
		const char *comp[JB_FD_DEPTH];
		unsigned n = 0;
		for (size_t i = 0; i < nlen && n < fp->ncomp && n < JB_FD_DEPTH;) {
			size_t l = strnlen(names + i, nlen - i);
			comp[n++] = names + i;
			i += l + 1;
		}
		if (fp->magic == SOCKFS_MAGIC) {
			snprintf(m->fdpath, sizeof(m->fdpath), "socket:[%llu]",
				 (unsigned long long)fp->ino);
			return m->fdpath;
		}
		if (fp->magic == PIPEFS_MAGIC) {
			snprintf(m->fdpath, sizeof(m->fdpath), "pipe:[%llu]",
				 (unsigned long long)fp->ino);
			return m->fdpath;
		}
		if (fp->magic == ANON_INODE_FS_MAGIC && n) {
			snprintf(m->fdpath, sizeof(m->fdpath), "anon_inode:%s", comp[0]);
			return m->fdpath;
		}
		if ((fp->flags & 4) && n) {
			/* simple_dname(), as for memfd and other pseudo files */
			snprintf(m->fdpath, sizeof(m->fdpath), "/%s (deleted)", comp[0]);
			return m->fdpath;
		}
		if (fp->flags & 2)
			return NULL; /* not reachable from the root: unknown */
		size_t len = 0;
		m->fdpath[0] = '\0';
		for (unsigned i = n; i-- > 0;) {
			int w = snprintf(m->fdpath + len, sizeof(m->fdpath) - len, "/%s", comp[i]);
			if (w < 0 || (size_t)w >= sizeof(m->fdpath) - len)
				return NULL;
			len += (size_t)w;
		}
		if (!n)
			snprintf(m->fdpath, sizeof(m->fdpath), "/");
		else if (fp->flags & 1)
			snprintf(m->fdpath + len, sizeof(m->fdpath) - len, " (deleted)");
		return m->fdpath;
	}
	return NULL;
}

bool capmem_init(struct capmem *m, const struct jb_event *ev, size_t size)
{
	if (size < sizeof(*ev) || ev->size > size || ev->size < sizeof(*ev))
		return false;
	m->mem.read = cap_read;
	m->mem.read_string = cap_read_string;
	m->mem.fd_path = cap_fd_path;
	m->ev = ev;
	m->end = (const unsigned char *)ev + ev->size;
	const struct jb_cap *c;
	const unsigned char *d;
	unsigned k = 0;
	FOR_CAPS(m, c, d)
	{
		if (d + c->len > m->end)
			return false;
		k++;
	}
	return k == ev->ncap;
}
