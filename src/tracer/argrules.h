/* Argument filters in the seccomp filter (docs/hooks.md, "Argument filters").
 *
 * A syscall whose hooks all have filters, which the log selects only with
 * --trace-args (or not at all) and the sandbox policy does not watch, gets one
 * RET_TRACE rule per hook (and the log) with its comparisons (libseccomp
 * SCMP_A0..A5); any other trapped syscall gets one
 * unconditional rule. libseccomp compares only the low 32 bits on the i386
 * and x32 ABIs, so on those every call of a filtered syscall stops (a prefix
 * put in front of the program); the tracer checks each hook's filter again. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Add the rules of trapped syscall nr to the libseccomp context, returning
 * action (SCMP_ACT_TRACE or SCMP_ACT_NOTIFY); 0 or -errno. */
int argrules_add(void *scmp_ctx, int nr, uint32_t action);
/* After the program is built: note what it traps; put the i386/x32 prefix in front of it. */
struct sock_filter;
int argrules_wrap(struct sock_filter **prog, size_t *len, struct jv_error *e);
/* Does the filter built last stop every call of nr (no argument rules)? */
bool argrules_traps_all(int nr);
/* Has nr a hook registered after the filter was built (grow.c)? */
bool argrules_uncovered(int nr);
