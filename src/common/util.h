/* House style: cleanup attributes, allocators that abort on OOM, small helpers.
 * Every file of jvisor may include this header; it includes nothing of ours. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define JV_UNUSED __attribute__((unused))
#define JV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) JV_PRINTF(1, 2);

static inline void jv_freep(void *p)
{
	free(*(void **)p);
}
static inline void jv_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void jv_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ __attribute__((cleanup(jv_freep)))
#define _cleanup_close_ __attribute__((cleanup(jv_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(jv_fclosep)))

/* Hand ownership out of a cleanup variable: `return steal_pointer(&p);` */
static inline void *steal_pointer(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* Read a whole small file (procfs) into a NUL-terminated malloc'd buffer.
 * Returns the length or -1 with errno set. */
ssize_t jv_read_file(const char *path, char **out);
/* write(2) all of buf, retrying on EINTR and short writes. 0 or -1/errno. */
int jv_write_all(int fd, const void *buf, size_t n);
/* Monotonic clock in nanoseconds. */
uint64_t jv_now_ns(void);
/* A whole decimal number in min..max, or -1 (for options and config values). */
long jv_parse_long(const char *s, long min, long max);
/* Compare a secret (a token) in time that does not depend on where it differs. */
bool jv_secret_eq(const char *given, const char *secret);

struct sockaddr_un;
/* Fill a unix socket address for PATH, or for the abstract socket NAME when
 * given "@NAME"; the address length, or -1 when it does not fit. */
int jv_unix_addr(struct sockaddr_un *sa, const char *path);
