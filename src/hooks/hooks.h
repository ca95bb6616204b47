/* Engine-neutral hook registry and verdicts.
 *
 * A hook is a function of some script engine (only JavaScript today) that runs
 * before or after a chosen syscall. The registry keeps them per (syscall,
 * phase) in registration order; hooks_run() calls them through the engine's
 * ops and folds their results into one verdict, applying the failure policy. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "hooks/argfilter.h"
#include "syscalls/syscalls.h"

enum hook_phase { HOOK_BEFORE = 0, HOOK_AFTER = 1 };

/* How a hook is served (docs/hooks.md, "Notify mode"). A notify-mode hook may
 * read, skip the call with a result or let it run; it may not change arguments
 * and has no after phase. It is served through seccomp user notification when
 * every hook of its syscall is notify-mode and nothing else must stop there,
 * else at a ptrace stop with the same rules. */
enum hook_mode { HOOK_MODE_PTRACE = 0, HOOK_MODE_NOTIFY = 1, HOOK_MODE_OBSERVE = 2 };
/* An observe-mode hook (docs/hooks.md, "Observe mode") never stops the program:
 * it gets each completed call from the event stream (src/hooks/observe.h),
 * after the call, and may not change it. hooks_wanted() and hooks_run() leave
 * observers out; hooks_observed() and hooks_observe() are theirs. */

/* "ptrace", "notify", "observe". */
const char *hook_mode_name(enum hook_mode m);

struct hook {
	unsigned id;
	int sysno; /* native number */
	enum hook_phase phase;
	void *fn;    /* engine handle (owned by the engine) */
	char *where; /* "file.js:12": where the hook was registered */
	unsigned long calls, failures;
	enum hook_mode mode;
	struct hook_filter *filter; /* NULL: every call (argfilter.h) */
	bool covered;		    /* in the seccomp filter the program has (argrules.c) */
	struct hook *next;	    /* same syscall and phase, registration order */
};

/* One syscall stop as the hooks see it. */
struct hook_event {
	pid_t pid, tid;
	int sysno; /* native number */
	enum sys_abi abi;
	enum hook_phase phase;
	uint64_t args[6]; /* raw register values (i386: zero-extended) */
	int64_t ret;	  /* after: -1 on failure, else the value */
	int err;	  /* after: errno, 0 on success */
	void **local;	  /* the thread's slot for engine per-thread state (may be NULL) */
	void *thread;	  /* the tracer's thread, stopped by ptrace (accessors); NULL
			     when served by a seccomp notification */
	bool notified;	  /* served by a seccomp notification (no ptrace stop) */
	/* Observe mode: a completed call from the event stream (observe.h). */
	bool observed;
	bool has_result;       /* ret/err are known (false: skipped or unfinished) */
	const char *obs_mode;  /* "observe-ptrace", "observe-notify", "observe-bpf" */
	const char *args_json; /* the decoded arguments as the log's "args" array */
	size_t args_len;
	uint64_t ts_ns;	 /* CLOCK_REALTIME at entry, as the log's "ts" */
	uint64_t dur_ns; /* entry to exit (0 when unknown) */
};

/* What the hooks decided. */
struct hook_verdict {
	unsigned args_set; /* bit i set: args[i] replaces the event's argument i */
	uint64_t args[6];
	bool skip;	 /* before: do not run the syscall */
	bool result_set; /* skip or after: the program sees `raw` */
	int64_t raw;	 /* the value placed in rax: -errno or the result */
};

/* A hook failure: where it happened and what. */
struct hook_failure {
	char where[256]; /* "file.js:12" */
	char msg[768];
};

struct hook_engine_ops {
	/* Call h for ev. Return 0 on success, filling *res when the hook returned
	 * a change; -1 with *f filled when the hook failed (threw, timed out,
	 * returned a bad result). The engine must not modify ev. */
	int (*call)(struct hook *h, struct hook_event *ev, struct hook_verdict *res,
		    struct hook_failure *f);
	/* Release a hook's engine handle. */
	void (*release)(struct hook *h);
	/* Release a thread's engine state (the thread is gone). */
	void (*thread_gone)(void *local);
};

void hooks_set_engine(const struct hook_engine_ops *ops);
/* fail_closed: a failed hook makes the syscall fail with EPERM. */
void hooks_set_fail_closed(bool fail_closed);
/* Where hook failures go besides stderr: the event log registers its writer when it
 * opens (the log includes this header, never the reverse). */
void hooks_set_error_sink(void (*sink)(pid_t pid, pid_t tid, const char *where,
				       const char *message));

/* Register fn; takes ownership of the engine handle only on success. Returns
 * the hook id (> 0) or -1 with *e filled: bad syscall number, a notify-mode
 * after-hook, or a ptrace-mode hook on a syscall served by notification. */
int hooks_add(int sysno, enum hook_phase phase, enum hook_mode mode, void *fn, const char *where,
	      struct jv_error *e);
/* The program's filter sends sysno to the notification listener: from now on
 * only notify-mode before-hooks can be added to it (src/tracer/notify.c). */
void hooks_lock_notify(int sysno);
/* Can every hook of sysno (and any added later) be served by notification? */
bool hooks_notify_only(int sysno);
/* Remove hooks of (sysno, phase); phase -1 = both; sysno -1 = every hook.
 * Returns how many were removed. */
int hooks_remove(int sysno, int phase);
/* Does any hook that stops the program (not observe mode) exist for (sysno,
 * phase)? Cheap: called on every stop. */
bool hooks_wanted(int sysno, enum hook_phase phase);
/* Does an observe-mode hook exist for sysno (either phase)? */
bool hooks_observed(int sysno);
/* Does some observer of sysno take a call with these arguments (its filter)? */
bool hooks_observers_match(int sysno, const uint64_t args[6]);
/* Are all observers of sysno before-observers (none needs the result)? */
bool hooks_observed_before_only(int sysno);
/* First hook of (sysno, phase), or NULL; follow ->next (every mode). */
struct hook *hooks_first(int sysno, enum hook_phase phase);
/* Count of registered hooks; generation bumps on every add or remove. */
unsigned hooks_count(void);
unsigned hooks_generation(void);
/* Bump the generation: a hook changed (its argument filter). */
void hooks_touch(void);

/* Run the hooks of ev->sysno/ev->phase in order, folding their results into
 * *v (zeroed first). Arguments changed by one hook are seen by the next;
 * a skip ends the chain. A hook whose filter does not match the arguments it
 * would be given is passed over. Failures are reported once per hook and location. */
void hooks_run(struct hook_event *ev, struct hook_verdict *v);
/* Run the observe-mode hooks of a completed call: the before-observers with
 * the entry view (phase before, no result), then the after-observers. A hook
 * whose filter does not match ev->args is passed over. A returned change is a
 * failure (reported once per hook) and ignored; the failure policy does not
 * apply (the call is over). ev->phase is set here. */
void hooks_observe(struct hook_event *ev);
/* Is a hook call (hooks_run or hooks_observe) in progress? */
bool hooks_in_call(void);
/* Tell the engine a thread is gone. */
void hooks_thread_gone(void *local);
/* Total hook failures seen so far. */
unsigned long hooks_failures(void);
