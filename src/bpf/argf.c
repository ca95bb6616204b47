/* The observers' argument filters for the kernel (argf.h). */
#include "bpf/argf.h"

#include <string.h>

#include "bpf/argfmatch.h"
#include "hooks/hooks.h"

/* argfilter.h's comparisons as (argument & mask) op value. */
static void put_cmp(struct jb_cmp *o, const struct argcmp *c)
{
	static const __u8 ops[] = {
	    [ARGCMP_EQ] = JB_CMP_EQ,	    [ARGCMP_NE] = JB_CMP_NE, [ARGCMP_LT] = JB_CMP_LT,
	    [ARGCMP_LE] = JB_CMP_LE,	    [ARGCMP_GT] = JB_CMP_GT, [ARGCMP_GE] = JB_CMP_GE,
	    [ARGCMP_MASKED_EQ] = JB_CMP_EQ,
	};
	memset(o, 0, sizeof(*o));
	o->arg = (__u8)c->arg;
	o->op = ops[c->op];
	o->mask = c->op == ARGCMP_MASKED_EQ ? c->mask : ~0ull;
	o->value = c->value;
}

bool argf_build(int nr, struct jb_argf *out)
{
	memset(out, 0, sizeof(*out));
	for (int ph = 0; ph < 2; ph++) {
		for (const struct hook *h = hooks_first(nr, (enum hook_phase)ph); h; h = h->next) {
			if (h->mode != HOOK_MODE_OBSERVE)
				continue;
			if (!h->filter || !h->filter->n || out->n == JB_ARGF_TERMS)
				return false;
			struct jb_term *t = &out->term[out->n++];
			t->n = h->filter->n;
			for (unsigned i = 0; i < h->filter->n; i++)
				put_cmp(&t->cmp[i], &h->filter->cmp[i]);
		}
	}
	return out->n != 0;
}

bool argf_eval(const struct jb_argf *f, const uint64_t args[6])
{
	__u64 a[6];
	for (int i = 0; i < 6; i++)
		a[i] = args[i];
	return jb_argf_pass(f, a);
}
