/* Does a call with these argument values pass the filters of struct jb_argf
 * (event.h)? Shared by the BPF program, which asks it at each entry of a
 * syscall flagged JB_ARGF, and by jvisor's unit tests. */
#pragma once

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline int jb_cmp_holds(const struct jb_cmp *c, const __u64 a[6])
{
	__u32 i = c->arg;
	if (i >= 6)
		return 0;
	__u64 v = a[i] & c->mask;
	switch (c->op) {
	case JB_CMP_EQ:
		return v == c->value;
	case JB_CMP_NE:
		return v != c->value;
	case JB_CMP_LT:
		return v < c->value;
	case JB_CMP_LE:
		return v <= c->value;
	case JB_CMP_GT:
		return v > c->value;
	case JB_CMP_GE:
		return v >= c->value;
	default:
		return 0;
	}
}

/* One term whose comparisons all hold. */
static __always_inline int jb_argf_pass(const struct jb_argf *f, const __u64 a[6])
{
	for (int t = 0; t < JB_ARGF_TERMS; t++) {
		if (t >= (int)f->n)
			break;
		const struct jb_term *term = &f->term[t];
		int all = 1;
		for (int i = 0; i < 6; i++) {
			if (i >= (int)term->n)
				break;
			if (!jb_cmp_holds(&term->cmp[i], a)) {
				all = 0;
				break;
			}
		}
		if (all)
			return 1;
	}
	return 0;
}
