/* Argument filters of hooks: a hook runs only for calls whose arguments match
 * its filter. The tracer compiles them into the seccomp filter
 * (src/tracer/argrules.c), so that other calls do not stop the program, and
 * checks them again at each stop (hooks_run), so that each hook of a syscall
 * runs only for the calls its own filter matches. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

enum argcmp_op {
	ARGCMP_EQ,
	ARGCMP_NE,
	ARGCMP_LT,
	ARGCMP_LE,
	ARGCMP_GT,
	ARGCMP_GE,
	ARGCMP_MASKED_EQ, /* (arg & mask) == value */
};

/* One comparison of an argument register (unsigned 64-bit, as seccomp compares). */
struct argcmp {
	unsigned arg; /* 0..5 */
	enum argcmp_op op;
	uint64_t value, mask;
};

/* All comparisons must hold; at most one per argument. */
struct hook_filter {
	unsigned n;
	struct argcmp cmp[6];
};

/* Does f (NULL: no filter) match these argument values? */
bool argfilter_match(const struct hook_filter *f, const uint64_t args[6]);
/* Add a comparison; -1 with *e filled for a bad index, a second comparison of
 * the same argument, or a mask with an op other than ==. op: "==", "!=", "<",
 * "<=", ">", ">=" (NULL: "=="). */
int argfilter_add(struct hook_filter *f, long arg, const char *op, uint64_t value, bool has_mask,
		  uint64_t mask, struct jv_error *e);
/* Give hook id a copy of f (replacing any). -1 with *e filled: no such hook. */
int hooks_set_filter(unsigned id, const struct hook_filter *f, struct jv_error *e);
/* Parse "0=2", "1>=0x100,2!=-1", "0&0xff=3" (--trace-args): INDEX [&MASK] OP VALUE,
 * comma-separated; OP is = == != < <= > >=. -1 with *e filled. */
int argfilter_parse(const char *spec, struct hook_filter *f, struct jv_error *e);
/* "a0 == 0x1 && a2 & 0xff == 0x3" into buf. */
void argfilter_format(const struct hook_filter *f, char *buf, size_t len);
