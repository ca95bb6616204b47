/* Argument decoding: one generic decoder that walks the roles of a row of the
 * syscall table. Tracee memory is read with src/accessors/mem.h and never
 * trusted: an unreadable pointer is shown as its address with the error. */
#pragma once

#include <sys/types.h>

#include "common/sbuf.h"
#include "syscalls/syscalls.h"

enum dec_fmt { DEC_JSON = 0, DEC_TEXT = 1 };

/* Where the decoder reads the program's memory and its fds' paths when not in
 * the tracee itself: the bytes an event source captured (src/bpf/capture.c).
 * Same contract as mem_read() and mem_read_string(), errors as errno values. */
struct dec_mem {
	ssize_t (*read)(const struct dec_mem *m, uint64_t addr, void *buf, size_t n, int *err);
	ssize_t (*read_string)(const struct dec_mem *m, uint64_t addr, size_t max, char **out,
			       int *err);
	/* The path of fd, or NULL when unknown. */
	const char *(*fd_path)(const struct dec_mem *m, int fd);
};

struct dec_ctx {
	pid_t pid, tid;
	enum sys_abi abi;
	enum dec_fmt fmt;
	size_t str_max; /* bytes of strings and buffers shown (paths: up to PATH_MAX) */
	/* The path of fd in process pid, or NULL when unknown. May be NULL. */
	const char *(*fd_path)(pid_t pid, int fd);
	/* NULL: read the tracee (src/accessors/mem.h) and ask fd_path. */
	const struct dec_mem *mem;
};

/* Render argument i of si into out. In-roles are decoded at entry
 * (at_exit false); out-roles at exit, with the raw return value ret (after a
 * failed call, or at entry, an out-role is shown as its address). */
void dec_arg(const struct dec_ctx *c, const struct sys_info *si, int i, const uint64_t args[6],
	     bool at_exit, int64_t ret, struct sbuf *out);
/* A string value in the context's format; truncated adds the marker. */
void dec_str(const struct dec_ctx *c, const char *s, size_t n, bool truncated, struct sbuf *out);
/* A NUL-terminated string array at addr (argv), at most max entries. */
void dec_strv(const struct dec_ctx *c, uint64_t addr, size_t max, struct sbuf *out);

/* Constant names (xlat.c). */
void xlat_flags(enum sys_kind k, uint64_t v, struct sbuf *out);
bool xlat_enum(enum sys_kind k, uint64_t v, struct sbuf *out);
/* "SIGTERM", "SIGRTMIN+2"; the number when unknown (returns false). */
bool xlat_signame(int sig, char *buf, size_t len);
/* "SI_USER", "CLD_EXITED", "SEGV_MAPERR"... of a siginfo's si_code, or NULL. */
const char *xlat_si_code(int sig, int code);
/* "ENOENT", "ERESTARTSYS", or NULL. */
const char *xlat_errname(int err);
