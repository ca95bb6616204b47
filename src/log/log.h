/* The event stream: one record per completed syscall, process event and hook
 * output, encoded as JSON lines (or strace-like text) and written to the sinks:
 * a file or stdout (-o), stderr, and the log socket.
 *
 * Everything runs on the tracer's thread. When no sink is open (log_active is
 * false) nothing here is called on the stop path. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "hooks/hooks.h"
#include "syscalls/syscalls.h"

enum log_format { LOG_FORMAT_AUTO = -1, LOG_FORMAT_JSON = 0, LOG_FORMAT_TEXT = 1 };
enum log_full { LOG_FULL_BLOCK = 0, LOG_FULL_DROP = 1 };

struct log_options {
	const char *path;     /* -o FILE, "-" for stdout; NULL: stderr when a set is given */
	int format;	      /* enum log_format of the -o/stderr sink */
	const char *socket;   /* --log-socket HOST:PORT or unix:PATH, or NULL */
	int socket_full;      /* enum log_full */
	size_t socket_buffer; /* bytes kept while the listener is slow or away; 0 = 4 MiB */
	bool trace_given;     /* -e given (otherwise: all syscalls when a sink is open) */
	struct sys_set trace;
	size_t string_limit;		      /* bytes of strings and buffers shown; 0 = 256 */
	const struct hook_filter *trace_args; /* --trace-args: only matching calls; NULL: all */
	bool summary;	  /* --summary: count calls, errors and time per syscall */
	const char *tags; /* JSON members added to every record (",\"container\":..."), or NULL */
};

/* Open the sinks before the program is spawned; the log socket is dialed now
 * (nobody listening is an error). Without -o, --log-socket and -e nothing is
 * opened and log_active stays false. */
int log_open(const struct log_options *o, struct jv_error *e);
/* Flush everything and close the sinks; report lost or dropped records on
 * stderr; with --summary, the table on stderr and a `summary` record first.
 * Returns -1 when records were lost (write error, drops). */
int log_close(void);

extern bool log_active;
/* --trace-args (NULL: none): the log follows only calls whose arguments match. */
const struct hook_filter *log_trace_args(void);
/* Change the logged set while the program runs (the control socket's `trace`;
 * the caller grows the seccomp filter). -1 when no log is open. */
int log_set_trace(const struct sys_set *s);
/* Does the log need every call of nr to stop (no --trace-args, or an fd it watches)? */
bool log_wants_all(int nr);
/* Set by jvisor's SIGINT/SIGTERM handler: a blocked log socket gives up soon. */
extern volatile sig_atomic_t log_interrupted;
/* Buffered bytes not yet written: the loop flushes before it blocks. */
extern size_t log_unflushed;
void log_flush(void);
/* Syscalls the seccomp filter must trap for the log. */
bool log_wants(int nr);

/* ---- syscalls (the tracer's stop path) ---- */
struct log_thread;
/* Entry of ev->sysno, before the hooks run (ev->args as the program passed
 * them). Returns true when the log follows this call. */
bool log_sys_enter(struct log_thread **lt, const struct hook_event *ev);
/* After the before-hooks: their verdict, ev->args as they left them. Returns
 * true when the exit stop is needed (false: the record is already written,
 * e.g. the call was skipped, or never returns). */
bool log_sys_hooked(struct log_thread *lt, const struct hook_event *ev,
		    const struct hook_verdict *v);
/* Exit stop: raw is the kernel's result; v the after-hooks' verdict (NULL when
 * the call was interrupted to be restarted). */
void log_sys_exit(struct log_thread *lt, int64_t raw, const struct hook_verdict *v);
/* A thread's state ends: a call in progress is written as unfinished. */
void log_thread_end(struct log_thread **lt);

/* ---- calls from an event source without stops (the BPF backend, src/bpf/) ---- */
struct dec_mem;
struct log_call {
	pid_t pid, tid;
	const char *comm;
	int sysno;
	uint64_t args[6];
	int64_t ret;
	bool unfinished, noreturn;
	uint64_t ts_ns;		   /* CLOCK_REALTIME at entry */
	uint64_t dur_ns;	   /* entry to exit */
	const struct dec_mem *mem; /* the captured memory the arguments are decoded from */
};
/* Write the record of a completed call (when the set and --trace-args take it). */
void log_call_captured(const struct log_call *c);
/* The "args" array (JSON) the log writes for c, also for a call the log does
 * not take (observe-mode hooks, src/hooks/observe.h); replaces out's text. */
struct sbuf;
void log_call_args_json(const struct log_call *c, struct sbuf *out);
/* Does a call of nr stop whatever the backend (hooked before or after, or
 * clone3)? Then the stop path logs and observes it. */
bool log_stops_anyway(int nr);
/* The BPF backend logs the calls that do not stop: from now on the log traps
 * only the calls that stop anyway (hooked ones; log_wants), and the fds of
 * those are read from /proc at the stop. */
void log_use_bpf(void);
/* Does the stop path log the calls of nr it sees (BPF mode: hooked ones, and
 * those of the other ABIs, which the BPF programs leave out)? */
bool log_stop_logs(int nr, enum sys_abi abi);
/* --summary: calls counted elsewhere (the BPF backend's kernel counters). */
void log_summary_add(int nr, unsigned long calls, unsigned long errors, uint64_t ns);
/* Does the log write records (false: --summary alone)? */
bool log_has_sinks(void);
/* Records an event source could not keep (of thread tid): a `lost` record. */
void log_lost(pid_t pid, pid_t tid, unsigned long count);
/* Is nr in the logged set? Its generation changes with the set (control `trace`). */
bool log_follows(int nr);
unsigned log_trace_generation(void);

/* ---- process events ---- */
/* backend: where syscall records come from, "bpf" or "ptrace". */
void log_ev_spawn(pid_t pid, char *const argv[], const char *backend);
/* Records handed to the sinks, lost (write errors) and dropped (a slow
 * listener under the drop policy), summed over the sinks (control stats). */
void log_counts(unsigned long *records, unsigned long *lost, unsigned long *dropped);
/* The control socket listens at addr (src/control; token_file may be NULL). */
void log_ev_control(pid_t pid, const char *addr, const char *token_file);
/* kind: "fork", "vfork" or "clone"; flags_known false when flags were unreadable. */
void log_ev_clone(struct log_thread **parent, pid_t pid, pid_t tid, const char *kind, pid_t child,
		  struct log_thread **child_lt, uint64_t flags, bool flags_known);
/* After an exec: the thread has the new image (and maybe a new tid). */
void log_ev_exec(struct log_thread **lt, pid_t pid, pid_t tid, pid_t old_tid);
void log_ev_exit(struct log_thread **lt, pid_t pid, pid_t tid, int status);
void log_ev_signal(struct log_thread **lt, pid_t pid, pid_t tid, int sig, const siginfo_t *si);

/* ---- hook output ---- */
/* print(): text is one line (without newline). */
void log_hook_print(pid_t pid, pid_t tid, const char *where, const char *text);
/* logJson(): json is a JSON value. */
void log_hook_json(pid_t pid, pid_t tid, const char *where, const char *json);
/* A hook failed (every failure; stderr gets the first of each place). */
void log_hook_error(pid_t pid, pid_t tid, const char *where, const char *message);
