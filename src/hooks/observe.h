/* The observers' event stream: completed syscall records queued for the
 * observe-mode hooks (docs/hooks.md, "Observe mode").
 *
 * A producer (the ptrace stop path, src/tracer/observing.c; the notification
 * path; an event backend such as BPF) hands over each completed call of a
 * syscall that hooks_observed() names, per thread in program order, with its
 * arguments already decoded as the log shows them. The record is copied into a
 * bounded FIFO; the tracer's loop runs the observers from it when it has
 * nothing else to do (observe_drain), so the program goes on meanwhile. When
 * the queue is full the producer is held: observe_record() runs the queued
 * observers before it returns (backpressure), unless the drop policy is set,
 * which counts the record as dropped instead. Nothing is lost silently. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "syscalls/syscalls.h"

enum observe_source { OBSERVE_PTRACE = 0, OBSERVE_NOTIFY = 1, OBSERVE_BPF = 2 };

struct observe_record {
	pid_t pid, tid;
	int sysno; /* native number */
	enum sys_abi abi;
	uint64_t args[6];      /* raw, as the program passed them (i386: zero-extended) */
	bool has_result;       /* false: the call never returned (exit, killed) or its end is
				  not seen (notification) */
	int64_t raw;	       /* the result the program saw: -errno on failure */
	uint64_t ts_ns;	       /* CLOCK_REALTIME at entry: the log record's "ts" */
	uint64_t dur_ns;       /* entry to exit; 0 when unknown */
	const char *args_json; /* "[...]": exactly the log record's "args" (JSON) */
	size_t args_len;
	enum observe_source source;
};

/* Does any observer want calls of native syscall nr? Cheap (check before
 * decoding a record for the observers only). */
bool observe_wants(int nr);
/* An event backend feeds the observers of the syscalls for which feeds(nr)
 * is true (it calls observe_record with its records of them): the stop path
 * then neither traps nor captures those calls for the observers; it still
 * does for the others (e.g. calls the backend leaves to the stops because
 * they are hooked). NULL: no backend. */
void observe_set_backend(bool (*feeds)(int nr));
/* Must the stop path (ptrace or notification) capture calls of nr for the
 * observers (no backend feeds them)? With args: does an observer's filter
 * take this call? */
bool observe_at_stops(int nr);
bool observe_at_stop_match(int nr, const uint64_t args[6]);
/* The same for a call of ABI abi stopped anyway: a backend feeds only native
 * (x86_64) calls, so the stop observes the others. */
bool observe_at_stop_abi(int nr, enum sys_abi abi, const uint64_t args[6]);
/* Do calls of nr in the other ABIs (i386, x32) need a stop for the observers
 * (they are observed and a backend feeds the native ones only)? */
bool observe_foreign_stops(int nr);
/* Queue one completed call (copied; the caller keeps r). May run observers
 * before it returns when the queue is full (block policy). */
void observe_record(const struct observe_record *r);
/* Run the observers of every queued record, in order. Does nothing inside a
 * hook call (the queue is drained after it). */
void observe_drain(void);
/* Are records waiting for the observers? */
bool observe_pending(void);
/* Queue size in records (0: 4096) and the policy when it is full (drop:
 * count and discard instead of holding the producer). */
void observe_set_queue(size_t cap, bool drop);
/* Where observers find a thread's persistence.local slot (the tracer's
 * thread table); NULL or a NULL answer: none. */
void observe_set_local_lookup(void **(*fn)(pid_t tid));
struct observe_stats {
	unsigned long delivered; /* records whose observers ran */
	unsigned long dropped;	 /* discarded by the drop policy */
	unsigned long held;	 /* times the producer waited for a full queue */
	unsigned long max_queued;
};
void observe_stats(struct observe_stats *s);
/* At exit: run what is queued; report dropped records on stderr. Returns -1
 * when records were dropped. */
int observe_close(void);
