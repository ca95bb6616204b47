/* Changing running processes (src/control, hooks that add hooks): run a
 * syscall inside a running traced process, and grow the seccomp filter of
 * every traced process when hooks are added for syscalls it lets through.
 * On the tracer's thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Remember which syscalls the filter installed at start traps. Call after
 * tracer_release(). */
void tracer_grow_init(void);
/* Syscalls hooked (or logged) now that the installed filters let through:
 * install one more filter trapping them in every traced process (seccomp
 * with TSYNC, injected into one thread of each). Returns the number of
 * syscalls added (0: nothing to do), or -1 with *e naming the processes that
 * could not be changed (the others are). */
int tracer_grow_filters(struct jv_error *e);
/* The same, from inside a hook call that added hooks: the process of thread
 * (stopped in that call) gets the filter through it before it goes on, so
 * none of its next calls slips past (x86_64 calls only: -1 otherwise). */
int tracer_grow_in_hook(void *thread, struct jv_error *e);
/* The same for a hook served by a seccomp notification of thread tid, before
 * the answer: the thread is interrupted, and its process gets the filter at
 * the stop it makes as soon as it has the answer. */
int tracer_grow_notified(pid_t tid, struct jv_error *e);
/* Processes that were stopped (SIGSTOP) when their filter had to grow get
 * it when they run again: the loop calls tracer_grow_at_stop() at their next
 * PTRACE_EVENT_STOP that is not a group-stop (true: the thread was resumed). */
extern bool tracer_grow_pending;
bool tracer_grow_at_stop(void *thread);
/* Run nr(args) in one thread of traced process pid; *result is the raw
 * result (-errno on failure). */
int tracer_inject_process(pid_t pid, int nr, const uint64_t args[6], int64_t *result,
			  struct jv_error *e);
