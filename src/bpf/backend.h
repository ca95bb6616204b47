/* The BPF event source of the log (docs/log.md, "Backends"): programs on the
 * raw_syscalls tracepoints write one record per call of the program's
 * processes to a ring buffer, without stopping it; jvisor decodes them with
 * the decoder of the ptrace path. Runs on the tracer's thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

enum log_backend { LOG_BACKEND_AUTO = 0, LOG_BACKEND_BPF = 1, LOG_BACKEND_PTRACE = 2 };

struct bpfl_options {
	size_t ring_bytes; /* ring buffer size (a power of 2 of pages); 0 = 16 MiB */
	size_t str_max;	   /* bytes of strings and buffers captured */
	bool full_drop;	   /* --log-full drop */
};

/* Can BPF be used (privileges, BTF)? Otherwise false with why. */
bool bpfl_usable(char *why, size_t len);
/* Load and attach the programs; pid is the spawned program (not exec'd yet),
 * tracked from its execve on. Calls log_use_bpf(), and feeds the observe-mode
 * hooks of the syscalls that do not stop anyway (observe_set_backend). */
int bpfl_start(const struct bpfl_options *o, pid_t pid, struct jv_error *e);
bool bpfl_on(void);
/* The fd to poll for records. */
int bpfl_fd(void);
/* Write the records waiting in the ring buffer (and bring the kernel's
 * per-syscall table up to date with hooks and the logged set). */
void bpfl_drain(void);
/* Bring the kernel's per-syscall table up to date with the hooks, the
 * observers and the logged set (cheap when nothing changed). */
void bpfl_sync(void);
/* A signal-delivery stop of tid: true when it is the BPF backend's hold (the
 * ring buffer ran full; it is drained now): resume tid without the signal. */
bool bpfl_hold_stop(pid_t tid, int sig);
/* Drain, report what was lost, detach. */
void bpfl_stop(void);
/* Records the ring buffer had no room for so far, and in *held how often a
 * thread was held for backpressure (control stats). */
unsigned long bpfl_lost(unsigned long *holds);
/* Records of calls of native syscall nr read from the ring buffer so far
 * (control stats; an exec makes up to three: entry, new image, exit). */
unsigned long bpfl_records(int nr);
/* "bpf" or "ptrace" for the spawn record and control stats. */
const char *bpfl_backend_name(void);
