/* The index of a JSON-lines event log (private to src/web/): one small entry
 * per line (offset, length and the fields the filters need), the process tree
 * and the chart counters, built as the log grows. Records themselves stay in
 * the file and are read back by offset. Every function takes the caller's
 * lock: the index is shared by the server's threads. */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/sbuf.h"

enum wi_type {
	WT_SYSCALL,
	WT_SPAWN,
	WT_FORK,
	WT_VFORK,
	WT_CLONE,
	WT_EXEC,
	WT_EXIT,
	WT_SIGNAL,
	WT_PRINT,
	WT_LOG,
	WT_OTHER,
	WT__COUNT
};

enum { WF_ERROR = 1, WF_HOOKED = 2, WF_UNFINISHED = 4, WF_INVALID = 8 };

struct wi_rec {
	uint64_t off;
	uint32_t len;
	int32_t pid, tid;
	int16_t name; /* interned syscall name, -1 for other records */
	uint8_t type; /* enum wi_type */
	uint8_t flags;
};

/* A filter of the event table; zero/NULL fields do not filter. */
struct wi_filter {
	int pid, tid;	  /* 0: any */
	char **names;	  /* syscall names (NULL-terminated) */
	unsigned classes; /* enum sys_class mask; 0: any */
	bool errors, hooked, syscalls_only;
	char *text; /* case-insensitive substring of the JSON line */
	char *key;  /* canonical form (the cache key) */
};

struct web_index;

struct web_index *wi_open(const char *path, struct jv_error *e);
void wi_close(struct web_index *x);
/* Index what was appended since the last call (complete lines only). */
void wi_refresh(struct web_index *x);
size_t wi_count(struct web_index *x);
/* Matching record numbers from `offset` (at most limit); *total gets their count. */
size_t wi_query(struct web_index *x, const struct wi_filter *f, size_t offset, size_t limit,
		uint32_t *out, size_t *total);
/* Append record n as a JSON object with "seq" (the raw line). */
void wi_put_record(struct web_index *x, size_t n, struct sbuf *b);
/* Hook output (print/log records) of the same thread written just before record n. */
void wi_put_output(struct web_index *x, size_t n, struct sbuf *b);
json_t *wi_processes(struct web_index *x);
json_t *wi_stats(struct web_index *x);
void wi_filter_free(struct wi_filter *f);
