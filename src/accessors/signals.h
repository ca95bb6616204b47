/* Signals: names <-> numbers, masks, and a thread's signal state (masks from
 * /proc, dispositions by an injected rt_sigaction query). JS-free.
 * Numbering is the kernel's: SIGRTMIN = 32 ... SIGRTMAX = 64. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "hooks/hooks.h"

#define SIG_MAXNUM 64

/* "SIGUSR1", "SIGRTMIN+3", "SIGRTMAX"; buf needs 16 bytes. NULL for 0 or >64. */
const char *sig_name(int sig, char buf[16]);
/* Number of a signal name: "SIGUSR1", "USR1", "usr1", "SIGRTMIN+2", "SIGRTMAX-1",
 * "SIGIOT", a decimal "10". -1 when unknown. */
int sig_number(const char *name);
/* Names of the signals in a mask (bit N-1 = signal N); NULL-terminated vector. */
char **sig_mask_names(uint64_t mask);
/* "SA_SIGINFO|SA_RESTORER|SA_RESTART" (unknown bits in hex); "0" when none. */
char *sig_flags_names(uint64_t flags);

struct sig_action {
	int sig;
	bool known;	  /* false: another process, only "caught" or "ignored" is known */
	uint64_t handler; /* 0 = SIG_DFL, 1 = SIG_IGN, else the handler's address */
	uint64_t flags, restorer, mask;
};

struct sig_info {
	pid_t tid;
	uint64_t blocked, pending, shared_pending, ignored, caught;
	bool has_wait;	    /* waiting in rt_sigtimedwait, rt_sigsuspend or pause */
	uint64_t wait_mask; /* the signals that end that wait */
	bool has_saved;	    /* false while blocked in rt_sigsuspend (the kernel hides it) */
	uint64_t saved_mask;
	struct sig_action *acts; /* each signal with a non-default disposition */
	size_t n_acts;
};

/* Signal state of thread tid. ev is the hook call in progress (or NULL): its
 * thread answers for itself without /proc, and when tid is in the same
 * process the handlers are asked for by injecting rt_sigaction into it. */
int sig_info(const struct hook_event *ev, pid_t tid, struct sig_info *out, struct jv_error *e);
void sig_info_free(struct sig_info *s);
