/* The web viewer (docs/web.md): an HTTP server (libmicrohttpd, threads of its
 * own) over a JSON-lines event log. It indexes the log by line offsets and
 * follows it while it grows, so the tracer only writes its log as usual and
 * never waits for a browser. In `jvisor run --web` it also forwards the hooks
 * panel and kill to the control socket (unix), token-protected. */
#pragma once

#include <stdbool.h>

#include "common/error.h"

struct web_options {
	const char *addr;     /* "127.0.0.1:PORT", "[::1]:PORT", "0.0.0.0:PORT", "PORT" */
	const char *log_path; /* the JSON-lines log to serve */
	const char *control;  /* "unix:PATH" or "unix:@NAME" of the control socket, or NULL */
	bool live;	      /* the log is still being written */
};

/* Index the log's current content and start serving; the URL (with the
 * token) is printed on stderr. */
int web_start(const struct web_options *o, struct jv_error *e);
/* The sandbox has ended: the page says so, the control actions fail. */
void web_set_ended(void);
/* Stop serving and free everything. */
void web_stop(void);
