/* The observers' argument filters for the kernel (map argf of jvisor.bpf.c):
 * when every observer of a syscall has a filter, the BPF program passes over
 * the calls none of them takes, before capturing anything (docs/hooks.md,
 * "Argument filters"). */
#pragma once

#include <stdint.h>

#include "bpf/types.h"

/* The filters of nr's observe-mode hooks (both phases) as one disjunction in
 * *out. False when a call of nr must be captured whatever its arguments: no
 * observer, an observer without a filter, or more than JB_ARGF_TERMS. */
bool argf_build(int nr, struct jb_argf *out);
/* What the BPF program decides for these argument values (for tests). */
bool argf_eval(const struct jb_argf *f, const uint64_t args[6]);
