/* Argument filters in the seccomp filter (docs/hooks.md, "Argument filters").
 *
 * A syscall whose hooks all have filters, which the log selects only with
 * --trace-args (or not at all) and the sandbox policy does not watch, gets one
 * RET_TRACE rule per hook (and the log) with its comparisons (libseccomp
 * SCMP_A0..A5); any other trapped syscall gets one
 * unconditional rule. libseccomp compares only the low 32 bits on the i386
 * and x32 ABIs, so on those every call of a filtered syscall stops (the ABI
 * prefix of src/tracer/filter.c); the tracer checks each hook's filter again. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Add the rules of trapped syscall nr to the libseccomp context, returning
 * action (SCMP_ACT_TRACE or SCMP_ACT_NOTIFY); 0 or -errno. */
int argrules_add(void *scmp_ctx, int nr, uint32_t action);
/* Has nr argument rules in the filter being built? */
bool argrules_filtered(int nr);
/* The filter is built: note what it traps, for growing it later. */
void argrules_built(void);
/* Does the filter built last stop every call of nr (no argument rules)? */
bool argrules_traps_all(int nr);
/* Has nr a hook registered after the filter was built (grow.c)? */
bool argrules_uncovered(int nr);
