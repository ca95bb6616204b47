/* Argument filters of hooks (argfilter.h). */
#include "hooks/argfilter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "hooks/hooks.h"

static bool cmp_match(const struct argcmp *c, uint64_t a)
{
	switch (c->op) {
	case ARGCMP_EQ:
		return a == c->value;
	case ARGCMP_NE:
		return a != c->value;
	case ARGCMP_LT:
		return a < c->value;
	case ARGCMP_LE:
		return a <= c->value;
	case ARGCMP_GT:
		return a > c->value;
	case ARGCMP_GE:
		return a >= c->value;
	case ARGCMP_MASKED_EQ:
		return (a & c->mask) == c->value;
	}
	return false;
}

bool argfilter_match(const struct hook_filter *f, const uint64_t args[6])
{
	if (!f)
		return true;
	for (unsigned i = 0; i < f->n; i++)
		if (!cmp_match(&f->cmp[i], args[f->cmp[i].arg]))
			return false;
	return true;
}

static const char *const op_names[] = {
    [ARGCMP_EQ] = "==", [ARGCMP_NE] = "!=", [ARGCMP_LT] = "<",	       [ARGCMP_LE] = "<=",
    [ARGCMP_GT] = ">",	[ARGCMP_GE] = ">=", [ARGCMP_MASKED_EQ] = "==",
};

int argfilter_add(struct hook_filter *f, long arg, const char *op, uint64_t value, bool has_mask,
		  uint64_t mask, struct jv_error *e)
{
	if (arg < 0 || arg > 5)
		return jv_err(e, 0, "argument index %ld is outside 0..5", arg);
	for (unsigned i = 0; i < f->n; i++)
		if (f->cmp[i].arg == (unsigned)arg)
			return jv_err(e, 0, "argument %ld is compared twice", arg);
	int k = -1;
	for (int i = ARGCMP_EQ; i <= ARGCMP_GE; i++)
		if (!strcmp(op ? op : "==", op_names[i]))
			k = i;
	if (k < 0)
		return jv_err(e, 0, "argument %ld: unknown op '%s' (expected ==, !=, <, <=, >, >=)",
			      arg, op);
	if (has_mask && k != ARGCMP_EQ)
		return jv_err(e, 0, "argument %ld: a mask goes only with op '=='", arg);
	struct argcmp *c = &f->cmp[f->n++];
	c->arg = (unsigned)arg;
	c->op = has_mask ? ARGCMP_MASKED_EQ : (enum argcmp_op)k;
	c->value = value;
	c->mask = has_mask ? mask : ~0ull;
	return 0;
}

int hooks_set_filter(unsigned id, const struct hook_filter *f, struct jv_error *e)
{
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		for (int ph = 0; ph < 2; ph++) {
			for (struct hook *h = hooks_first(nr, (enum hook_phase)ph); h;
			     h = h->next) {
				if (h->id != id)
					continue;
				free(h->filter);
				h->filter = NULL;
				if (f && f->n) {
					h->filter = xmalloc(sizeof(*f));
					*h->filter = *f;
				}
				hooks_touch(); /* the BPF backend exports filters (bpf/argf.h) */
				return 0;
			}
		}
	}
	return jv_err(e, 0, "no hook %u", id);
}

void argfilter_format(const struct hook_filter *f, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (unsigned i = 0; f && i < f->n && off < len; i++) {
		const struct argcmp *c = &f->cmp[i];
		int w;
		if (c->op == ARGCMP_MASKED_EQ)
			w = snprintf(buf + off, len - off, "%sa%u & %#llx == %#llx",
				     i ? " && " : "", c->arg, (unsigned long long)c->mask,
				     (unsigned long long)c->value);
		else
			w = snprintf(buf + off, len - off, "%sa%u %s %#llx", i ? " && " : "",
				     c->arg, op_names[c->op], (unsigned long long)c->value);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

int argfilter_parse(const char *spec, struct hook_filter *f, struct jv_error *e)
{
	memset(f, 0, sizeof(*f));
	const char *p = spec;
	while (*p) {
		if (*p < '0' || *p > '9')
			return jv_err(e, 0, "'%s': expected an argument index 0..5 at '%s'", spec,
				      p);
		long idx = strtol(p, (char **)&p, 10);
		uint64_t mask = 0;
		bool has_mask = *p == '&';
		char *end;
		if (has_mask) {
			mask = strtoull(p + 1, &end, 0);
			if (end == p + 1)
				return jv_err(e, 0, "'%s': expected a mask after '&'", spec);
			p = end;
		}
		char op[3] = {0};
		size_t n = strspn(p, "=!<>");
		if (n == 0 || n > 2)
			return jv_err(e, 0, "'%s': expected an op (= == != < <= > >=) at '%s'",
				      spec, p);
		memcpy(op, p, n);
		p += n;
		if (!strcmp(op, "="))
			strcpy(op, "==");
		errno = 0;
		uint64_t v = *p == '-' ? (uint64_t)strtoll(p, &end, 0) : strtoull(p, &end, 0);
		if (end == p || errno)
			return jv_err(e, 0, "'%s': expected a value at '%s'", spec, p);
		p = end;
		if (argfilter_add(f, idx, op, v, has_mask, mask, e) < 0)
			return jv_err_prefix(e, "'%s'", spec);
		if (*p == ',')
			p++;
		else if (*p)
			return jv_err(e, 0, "'%s': unexpected '%s'", spec, p);
	}
	if (!f->n)
		return jv_err(e, 0, "'%s': no comparison", spec);
	return 0;
}
