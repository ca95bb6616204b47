/* Memory of a traced process. Tracee pointers are never trusted: every
 * access is checked by the kernel and failures come back as errors, never as
 * a crash. Errors: EFAULT (bad address), ESRCH (process gone), other errno. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Read n bytes at addr of tid into buf. Returns the bytes read (a short read
 * stops at the first unreadable page) or -1 with *e filled when nothing could
 * be read. */
ssize_t mem_read(pid_t tid, uint64_t addr, void *buf, size_t n, struct jv_error *e);
/* Read a NUL-terminated string of at most max bytes (without the NUL).
 * Returns its malloc'd copy in *out and its length, or -1. */
ssize_t mem_read_string(pid_t tid, uint64_t addr, size_t max, char **out, struct jv_error *e);
/* Write n bytes at addr of tid, read-only pages included (as a debugger
 * would). Returns the bytes written or -1. */
ssize_t mem_write(pid_t tid, uint64_t addr, const void *buf, size_t n, struct jv_error *e);
