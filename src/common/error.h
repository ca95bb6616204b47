/* The one error contract of jvisor (docs/errors.md):
 * a function that can fail returns a negative value (usually -1) and fills a
 * struct jv_error {errnum, message}; callers may add context on the way up with
 * jv_err_prefix(); only the top level (main, or a forked child) prints it. */
#pragma once

#include "common/util.h"

struct jv_error {
	int errnum;	/* errno value, or 0 when the error is not a system error */
	char msg[1024]; /* human readable, without trailing newline */
};

/* Fill *e and return -1. errnum may be 0. The errno name and strerror text are
 * appended when errnum != 0. */
int jv_err(struct jv_error *e, int errnum, const char *fmt, ...) JV_PRINTF(3, 4);
/* Prepend "context: " to an error already set; returns -1. */
int jv_err_prefix(struct jv_error *e, const char *fmt, ...) JV_PRINTF(2, 3);
/* Print "jvisor: <msg>" on stderr. */
void jv_err_print(const struct jv_error *e);
/* "EFAULT" for EFAULT, or NULL when unknown. */
const char *jv_errno_name(int errnum);
/* Warnings and notes on stderr, "jvisor: " prefixed. */
void jv_warn(const char *fmt, ...) JV_PRINTF(1, 2);
