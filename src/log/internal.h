/* Private to src/log/. */
#pragma once

#include <signal.h>

#include "common/sbuf.h"
#include "log/log.h"

/* ---- sinks (sink.c) ---- */
int sink_open_file(const char *path, int format, struct jv_error *e);
int sink_open_socket(const char *addr, int full, size_t cap, struct jv_error *e);
/* Bit 1 << LOG_FORMAT_* for each format some open sink wants. */
unsigned sink_formats(void);
/* One whole line (ending in '\n') to every sink of that format. */
void sink_write(int format, const char *line, size_t n);
/* Write what is buffered: final = at exit (block policy waits for the
 * listener; drop policy tries for a bounded time). */
void sink_flush_all(bool final);
/* Flush and close; returns -1 when records were lost. */
int sink_close_all(void);
/* A JSON line for the socket sink's drop reports. */
void log_dropped_record(struct sbuf *b, unsigned long count, unsigned long total);

/* ---- fd paths (fdcache.c) ---- */
const char *fdc_path(pid_t pid, int fd);
void fdc_close(pid_t pid, int lo, int hi);
void fdc_forget(pid_t pid);

/* ---- record pieces (log.c) ---- */
void log_put_ts(struct sbuf *b, uint64_t ns);
uint64_t log_realtime_ns(void);
/* JSON members every record gets (--container-id, --label), or NULL. */
const char *log_tags(void);

/* ---- --summary (summary.c) ---- */
/* The table on stderr, and a `summary` record to the sinks of formats. */
void summary_write(unsigned formats);
