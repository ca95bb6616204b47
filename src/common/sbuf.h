/* A growable byte buffer for building text (JSON records, log lines). */
#pragma once

#include "common/util.h"

struct sbuf {
	char *p;
	size_t len, cap;
};

void sb_grow(struct sbuf *b, size_t extra);
static inline void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 >= b->cap)
		sb_grow(b, 1);
	b->p[b->len++] = c;
}
static inline void sb_put(struct sbuf *b, const void *s, size_t n)
{
	if (b->len + n >= b->cap)
		sb_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}
static inline void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}
void sb_printf(struct sbuf *b, const char *fmt, ...) JV_PRINTF(2, 3);
void sb_u64(struct sbuf *b, uint64_t v);
void sb_i64(struct sbuf *b, int64_t v);
/* "0x1f" */
void sb_hex(struct sbuf *b, uint64_t v);
/* A quoted JSON string of n bytes: valid UTF-8 passes through, control
 * characters and invalid bytes are escaped (\u00XX). */
void sb_json_str(struct sbuf *b, const char *s, size_t n);
/* A quoted C-like string for humans: \n, \t, \", \\, \xNN for the rest. */
void sb_c_str(struct sbuf *b, const char *s, size_t n);
void sb_free(struct sbuf *b);
