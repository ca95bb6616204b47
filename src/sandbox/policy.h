/* The sandbox policy: syscalls the program may not make (docs/sandbox.md).
 * Always on; the table can be changed with `--policy FILE.json`. Denied
 * syscalls are trapped with RET_TRACE and JV_POLICY_DATA (they are rare), the
 * tracer asks policy_check() and fails them; allowed calls never stop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* RET_DATA of the policy's RET_TRACE rules (the hooks' rules use JV_TRACE_DATA).
 * Never trusted at a stop (the program's filters can return it too): the
 * tracer asks policy_check() at every stop of a syscall the policy watches. */
#define JV_POLICY_DATA 0x4a50
/* RET_DATA of the stop of a syscall of another ABI (i386, x32) that nothing traps. */
#define JV_ABI_DATA 0x4a41

/* Replace the default table by the one of a JSON file (docs/sandbox.md). */
int policy_load(const char *path, struct jv_error *e);
/* The program runs in its own pid namespace (--isolate): rules that keep it
 * from signalling or reading jvisor by pid are left to the namespace. */
void policy_set_isolated(bool isolated);
/* How the policy learns which processes are the program's (process_vm_* may only
 * name them): the tracer registers its own lookup, which returns the traced thread
 * group of tid or -1. Until then no process counts as the program's. The sandbox
 * subsystem does not include the tracer's header: the dependency is one-way. */
void policy_set_membership(pid_t (*traced_tgid)(pid_t tid));
/* Add the policy's rules to a libseccomp filter; syscalls for which trapped(nr)
 * is true already stop for hooks (the tracer checks the policy there too). */
int policy_add_rules(void *scmp_ctx, bool (*trapped)(int nr), struct jv_error *e);
/* The foreign-ABI rule: i386 and x32 syscalls nothing traps are stopped
 * (RET_TRACE with JV_ABI_DATA, src/tracer/filter.c) and checked by
 * policy_check_abi(). False when the policy file allows other ABIs. */
bool policy_foreign_abi_denied(void);
/* Is a syscall of another ABI with native twin nr denied? (0 or the errno.) */
int policy_check_abi(int nr, const char **reason);
/* Does the policy look at native syscall nr (at any stop)? */
bool policy_watches(int nr);
/* Decide a syscall of thread tid (native number, arguments as the program
 * passed them). Returns 0 to allow it or the errno it fails with; *reason
 * says why. */
int policy_check(pid_t tid, int nr, const uint64_t args[6], const char **reason);
/* A denial: a warning on stderr (the first few of each syscall) and a log record. */
void policy_report(pid_t pid, pid_t tid, int nr, int abi, int err, const char *reason);
/* Clear the environment jvisor was started with from its memory (a root program
 * can read /proc/JVISOR/environ), keeping copies in `environ`. Call first
 * thing: pointers getenv() returned before are cleared too. */
void policy_hide_environment(void);
/* Make jvisor itself hard to reach (not dumpable: no /proc/PID/mem, no ptrace). */
void policy_protect_supervisor(void);
