/* The control socket: a running sandbox is changed through it (load or
 * remove hooks, signal, renice, umask, list processes). docs/control.md.
 *
 * The server runs in a thread of its own (socket I/O and JSON parsing); what
 * needs the tracer is handed to the tracer's thread, which it wakes with a
 * signal (waitpid returns EINTR) and which answers between two stops. */
#pragma once

#include <stdbool.h>

#include "common/error.h"

struct control_options {
	const char
	    *addr; /* "unix:PATH", "unix:@NAME", "tcp:127.0.0.1:PORT"; NULL: a fresh abstract one */
	bool no_token;	      /* tcp: let clients in without the token (the seed's client) */
	unsigned timeout_ms;  /* the hook time limit, reported by `config` */
	int fail_closed;      /* the hook failure policy at start */
	const char *log_path; /* the event log file (-o), followed by `subscribe` */
};

/* Create the socket (and the token file): before the program is spawned, so
 * that a bad address stops jvisor before anything runs (the fds are
 * close-on-exec). */
int control_open(const struct control_options *o, struct jv_error *e);
/* After control_open(): the TCP port of the control socket (0: not TCP), and
 * whether it is an abstract unix socket; the sandbox keeps the program from
 * both (src/sandbox/confine.c). */
int control_tcp_port(void);
bool control_is_abstract(void);
/* Start serving; call on the tracer's thread after tracer_release() (no
 * thread may exist at the fork). The address (and the token file) is printed
 * on stderr once tracer_run() runs. Does nothing without control_open(). */
int control_start(struct jv_error *e);
/* Stop the server (the program has ended, or setup failed): pending requests
 * are answered with an error, the socket file (and token file) are removed. */
void control_stop(void);
