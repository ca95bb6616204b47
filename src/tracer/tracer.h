/* The tracer: runs the program under ptrace + a seccomp filter and turns its
 * stops into hook calls. Single-threaded: every function here runs on the
 * thread that called tracer_spawn(). */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Fork the program (argv[0] searched in PATH). The child waits until
 * tracer_release(); call this before starting any thread. */
int tracer_spawn(char *const argv[], struct jv_error *e);
/* Build the seccomp filter from the hook registry and let the program exec. */
int tracer_release(struct jv_error *e);
/* Kill the program that is still waiting (setup failed). */
void tracer_abort(void);
/* Trace until every traced process is gone. Returns jvisor's exit status:
 * the program's, or 128+N when it was killed by signal N. */
int tracer_run(void);
/* tracer_run() returns as soon as the program itself (the first process) has
 * ended, whatever else runs (--container); the rest dies with jvisor. */
void tracer_exit_with_root(void);

/* For accessors, with the `thread` of a struct hook_event. */
pid_t tracer_thread_tid(void *thread);
pid_t tracer_thread_pid(void *thread);
/* Run syscall nr(args) inside the stopped thread (which is in a hook call)
 * and store its raw result (-errno on failure) in *result. The thread's
 * registers and its pending syscall are intact afterwards. */
int tracer_inject(void *thread, int nr, const uint64_t args[6], int64_t *result,
		  struct jv_error *e);

/* In a before-hook: copy argument argi (a NUL-terminated string of at most
 * max bytes with its NUL, or max bytes when !string) into memory the program
 * cannot write, point the argument at the copy until the syscall's exit stop,
 * and return the copy in *out (malloc'd; for a string its length without the
 * NUL, *out NUL-terminated). src/tracer/pin.c, docs/api.md. */
ssize_t tracer_pin(void *thread, int argi, size_t max, bool string, uint8_t **out,
		   struct jv_error *e);

/* For accessors (src/tracer/query.c, stop.c). None of these runs on the stop path. */
/* The tgid of tid when tid is a thread traced by this sandbox, else -1. */
pid_t tracer_traced_tgid(pid_t tid);
/* The traced processes (tgids) in *out (malloc'd); returns how many. */
size_t tracer_processes(pid_t **out);
/* Stack pointer of a thread stopped in a hook call. */
int tracer_thread_sp(void *thread, uint64_t *sp, struct jv_error *e);
/* Stop every other thread of the calling thread's process (PTRACE_INTERRUPT);
 * returns when they are all stopped, with how many this call stopped. */
int tracer_stop_threads(void *thread, struct jv_error *e);
/* Let the threads stopped by tracer_stop_threads() go on exactly where they
 * were (blocking syscalls are restarted). Returns how many were resumed. */
int tracer_resume_threads(void);

/* Wake-up of the loop by another thread (src/control): its signal handler
 * sets tracer_wake; the loop then calls tracer_wake_fn between two stops. */
extern volatile sig_atomic_t tracer_wake;
extern void (*tracer_wake_fn)(void);
/* How many calls of native syscall nr stopped in the tracer (control stats). */
unsigned long tracer_seen(int nr);
/* Handle one waitpid() status as the loop would (src/tracer/grow.c). */
void tracer_handle(pid_t tid, int status);

/* Bytes of strings and buffers the observers' records show (observing.c;
 * --string-limit; 0 keeps 256). */
void tracer_observe_string_limit(size_t n);

/* The pid of the program jvisor started (logging.c). */
pid_t tracer_root(void);
