/* Open file descriptors of a process, from /proc/PID/fd and fdinfo (sockets'
 * addresses from /proc/PID/net/{tcp,tcp6,udp,udp6,unix}). JS-free. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct fd_info {
	int fd;
	char *name;	      /* link target: "/tmp/x", "pipe:[123]", "socket:[456]" */
	char mode[10];	      /* permission bits as "rwxr-xr-x" */
	char flags[192];      /* "O_WRONLY|O_APPEND|O_CLOEXEC" (O_LARGEFILE left out) */
	unsigned flags_value; /* the open flags, O_CLOEXEC included */
	uint64_t nlinks;
	bool readable, writable;
	int64_t pos;
	const char *type; /* file dir pipe socket chr blk anon other */
	uint64_t inode, size;
	unsigned dev_major, dev_minor;
	/* sockets (NULL when procfs does not tell) */
	const char *sock_family;	/* "inet" "inet6" "unix" */
	const char *sock_proto;		/* "tcp" "udp" "stream" "dgram" "seqpacket" */
	char *sock_local, *sock_remote; /* "127.0.0.1:8080", "[::1]:80", a unix path */
	const char *sock_state;		/* "LISTEN" "ESTABLISHED" ... */
};

/* One descriptor (EBADF when it is not open). */
int fd_info(pid_t pid, int fd, struct fd_info *out, struct jv_error *e);
/* Every descriptor, ascending. */
int fds_info(pid_t pid, struct fd_info **out, size_t *n, struct jv_error *e);
void fd_info_free(struct fd_info *f);
void fds_info_free(struct fd_info *v, size_t n);
