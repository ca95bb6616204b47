/* The sandbox policy (docs/sandbox.md): one table of the syscalls the program
 * may not make, or may make only with some arguments, each with its reason.
 * Unconditional denials and rare syscalls stop with RET_TRACE(JV_POLICY_DATA)
 * and are decided here; everything else stays RET_ALLOW in the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/personality.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stddef.h>
#include <sys/uio.h>

#include "accessors/mem.h"
#include "common/util.h"
#include "log/log.h"
#include "sandbox/policy.h"
#include "syscalls/syscalls.h"

enum pol_kind {
	K_DENY,	       /* always fails */
	K_KILL,	       /* a0 is a pid, 0, -1 or -pgid: fails when it reaches the supervisor */
	K_TKILL,       /* a0 is a tid: fails when it is one of the supervisor's threads */
	K_TGKILL,      /* a0 is a tgid: fails when it is the supervisor's */
	K_PIDFD_OPEN,  /* a0 is a pid: fails when it is the supervisor or one of its threads */
	K_PIDFD_FD,    /* a0 is a pidfd: fails when it refers to jvisor */
	K_PROCESS_VM,  /* a0 is a pid: fails when it is not a process of the sandbox */
	K_PERSONALITY, /* fails when the persona changes the ABI or the address space */
	K_CLONE,       /* fails when it asks for new namespaces */
	K_FCNTL_OWN,   /* F_SETOWN(_EX) naming jvisor: the kernel would signal it (SIGIO) */
	K_IOCTL_OWN,   /* FIOSETOWN and SIOCSPGRP: the same; TIOCSTI, TIOCLINUX always */
	K_PID_ARG,     /* a0 is a pid, 0 the caller: fails on the supervisor (prlimit64, sched_*) */
	K_PRIO,	       /* setpriority, ioprio_set: fails when (which, who) covers the supervisor */
	K_SECCOMP,     /* a filter with a user-space listener: USER_NOTIF outranks RET_TRACE */
};

struct pol_rule {
	const char *name;
	enum pol_kind kind;
	int err;
	const char *reason;
};

#define NS_FLAGS                                                                                   \
	(CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif
#ifndef F_SETOWN_EX
#define F_SETOWN_EX 15
#endif
#ifndef IOPRIO_WHO_PROCESS
#define IOPRIO_WHO_PROCESS 1 /* <linux/ioprio.h> */
#endif
#define FIOSETOWN_CMD 0x8901
#define SIOCSPGRP_CMD 0x8902

/* The default policy. Keep docs/sandbox.md in step. */
static const struct pol_rule default_rules[] = {
    {"io_uring_setup", K_DENY, EPERM, "io_uring operations bypass syscall interception"},
    {"io_uring_enter", K_DENY, EPERM, "io_uring operations bypass syscall interception"},
    {"io_uring_register", K_DENY, EPERM, "io_uring operations bypass syscall interception"},
    {"bpf", K_DENY, EPERM, "kernel attack surface (eBPF programs and maps)"},
    {"perf_event_open", K_DENY, EPERM, "kernel attack surface, reads other processes"},
    {"kexec_load", K_DENY, EPERM, "replaces the running kernel"},
    {"kexec_file_load", K_DENY, EPERM, "replaces the running kernel"},
    {"init_module", K_DENY, EPERM, "loads code into the kernel"},
    {"finit_module", K_DENY, EPERM, "loads code into the kernel"},
    {"delete_module", K_DENY, EPERM, "unloads kernel code"},
    {"userfaultfd", K_DENY, EPERM, "stalls the kernel on page faults (exploit primitive)"},
    {"keyctl", K_DENY, EPERM, "kernel keyrings are not namespaced"},
    {"add_key", K_DENY, EPERM, "kernel keyrings are not namespaced"},
    {"request_key", K_DENY, EPERM, "kernel keyrings are not namespaced"},
    {"open_by_handle_at", K_DENY, EPERM, "opens files outside the visible tree"},
    {"mount", K_DENY, EPERM, "changes the file system view (--isolate does it for you)"},
    {"umount2", K_DENY, EPERM, "changes the file system view"},
    {"pivot_root", K_DENY, EPERM, "changes the file system view"},
    {"fsopen", K_DENY, EPERM, "mount API: changes the file system view"},
    {"fsmount", K_DENY, EPERM, "mount API: changes the file system view"},
    {"fspick", K_DENY, EPERM, "mount API: changes the file system view"},
    {"move_mount", K_DENY, EPERM, "mount API: changes the file system view"},
    {"open_tree", K_DENY, EPERM, "mount API: changes the file system view"},
    {"mount_setattr", K_DENY, EPERM, "mount API: changes the file system view"},
    {"unshare", K_DENY, EPERM, "new namespaces escape the sandbox's view"},
    {"setns", K_DENY, EPERM, "enters other namespaces"},
    {"clone", K_CLONE, EPERM, "new namespaces escape the sandbox's view"},
    {"ptrace", K_DENY, EPERM, "jvisor is the program's tracer; ptrace reaches other processes"},
    {"process_vm_readv", K_PROCESS_VM, EPERM, "reads memory outside the sandbox"},
    {"process_vm_writev", K_PROCESS_VM, EPERM, "writes memory outside the sandbox"},
    {"personality", K_PERSONALITY, EPERM, "changes the ABI or the address space layout"},
    {"kill", K_KILL, EPERM, "signals jvisor"},
    {"rt_sigqueueinfo", K_KILL, EPERM, "signals jvisor"},
    {"tkill", K_TKILL, EPERM, "signals jvisor"},
    {"tgkill", K_TGKILL, EPERM, "signals jvisor"},
    {"rt_tgsigqueueinfo", K_TGKILL, EPERM, "signals jvisor"},
    {"pidfd_open", K_PIDFD_OPEN, EPERM, "opens jvisor's pidfd"},
    {"pidfd_send_signal", K_PIDFD_FD, EPERM, "signals jvisor"},
    {"seccomp", K_SECCOMP, EPERM,
     "a user-space listener (SECCOMP_FILTER_FLAG_NEW_LISTENER) would take syscalls away "
     "from the hooks and the policy"},
    {"fcntl", K_FCNTL_OWN, EPERM, "makes the kernel signal jvisor (F_SETOWN)"},
    {"ioctl", K_IOCTL_OWN, EPERM, "makes the kernel signal jvisor (FIOSETOWN, SIOCSPGRP)"},
    {"prlimit64", K_PID_ARG, EPERM, "changes jvisor's resource limits"},
    {"setpriority", K_PRIO, EPERM, "renices jvisor"},
    {"ioprio_set", K_PRIO, EPERM, "changes jvisor's I/O priority"},
    {"sched_setaffinity", K_PID_ARG, EPERM, "moves jvisor to other CPUs"},
    {"sched_setscheduler", K_PID_ARG, EPERM, "changes jvisor's scheduling"},
    {"sched_setparam", K_PID_ARG, EPERM, "changes jvisor's scheduling"},
    {"sched_setattr", K_PID_ARG, EPERM, "changes jvisor's scheduling"},
    {"migrate_pages", K_PID_ARG, EPERM, "moves jvisor's memory"},
    {"move_pages", K_PID_ARG, EPERM, "moves jvisor's memory"},
    {"pidfd_getfd", K_PIDFD_FD, EPERM, "steals jvisor's file descriptors"},
    {"iopl", K_DENY, EPERM, "raw I/O port access"},
    {"ioperm", K_DENY, EPERM, "raw I/O port access"},
    {"reboot", K_DENY, EPERM, "reboots the machine"},
    {"swapon", K_DENY, EPERM, "changes the machine's swap"},
    {"swapoff", K_DENY, EPERM, "changes the machine's swap"},
    {"acct", K_DENY, EPERM, "process accounting is machine-wide"},
};

/* The active table, by native syscall number. */
struct pol_entry {
	bool on;
	enum pol_kind kind;
	int err;
	const char *reason;
};
static struct pol_entry table[SYS_NR_MAX];
static bool table_ready;
static bool isolated;
static pid_t (*membership)(pid_t tid);

void policy_set_membership(pid_t (*traced_tgid)(pid_t tid))
{
	membership = traced_tgid;
}
static bool foreign_abi_allowed;	/* "foreign-abi": "allow" in the policy file */
static char *reasons_owned[SYS_NR_MAX]; /* reasons given in a policy file */

static void table_default(void)
{
	memset(table, 0, sizeof(table));
	for (size_t i = 0; i < JV_ARRAY_SIZE(default_rules); i++) {
		const struct pol_rule *r = &default_rules[i];
		int nr = sys_number(r->name);
		if (nr < 0 || nr >= SYS_NR_MAX)
			continue; /* not on this kernel's headers */
		table[nr] = (struct pol_entry){true, r->kind, r->err, r->reason};
	}
	table_ready = true;
}

static void ensure_table(void)
{
	if (!table_ready)
		table_default();
}

void policy_set_isolated(bool on)
{
	isolated = on;
}

/* Kinds that guard jvisor by pid: a pid namespace hides jvisor by itself, but
 * not the namespace's init (pid 1), which those that name one pid guard then. */
static bool kind_active(enum pol_kind k)
{
	switch (k) {
	case K_PIDFD_FD:
	case K_PROCESS_VM:
	case K_FCNTL_OWN:
		return !isolated;
	case K_KILL:
	case K_TKILL:
	case K_TGKILL:
	case K_PIDFD_OPEN:
	case K_PID_ARG:
	case K_PRIO:
	case K_IOCTL_OWN: /* TIOCSTI matters in every namespace */
	case K_DENY:
	case K_PERSONALITY:
	case K_CLONE:
	case K_SECCOMP:
		return true;
	}
	return true;
}

/* The supervisor's process as the program names it: jvisor, or under
 * --isolate the pid namespace's init. */
static pid_t guarded_tgid(void)
{
	return isolated ? 1 : getpid();
}

bool policy_watches(int nr)
{
	ensure_table();
	return nr >= 0 && nr < SYS_NR_MAX && table[nr].on && kind_active(table[nr].kind);
}

static int errno_parse(json_t *v)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		return n >= 1 && n <= 4095 ? (int)n : -1;
	}
	const char *s = json_string_value(v);
	if (!s)
		return -1;
	for (int n = 1; n < 4096; n++) {
		const char *name = jv_errno_name(n);
		if (name && !strcmp(name, s))
			return n;
	}
	return -1;
}

static int load_list(const char *path, const char *key, json_t *arr, bool deny, struct jv_error *e)
{
	if (!json_is_array(arr))
		return jv_err(e, 0, "%s: '%s' must be an array", path, key);
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v) {
		json_t *name = json_is_object(v) ? json_object_get(v, "syscall") : v;
		if (!json_is_string(name))
			return jv_err(e, 0,
				      "%s: %s[%zu] must be a syscall name or {\"syscall\": NAME, "
				      "\"errno\": E, \"reason\": TEXT}",
				      path, key, i);
		int nr = sys_number(json_string_value(name));
		if (nr < 0 || nr >= SYS_NR_MAX)
			return jv_err(e, 0, "%s: %s[%zu]: unknown syscall '%s'", path, key, i,
				      json_string_value(name));
		if (!deny) {
			table[nr].on = false;
			continue;
		}
		int err = EPERM;
		const char *reason = "denied by the policy file";
		if (json_is_object(v)) {
			const char *k;
			json_t *x;
			json_object_foreach (v, k, x) {
				if (!strcmp(k, "errno")) {
					if ((err = errno_parse(x)) < 0)
						return jv_err(
						    e, 0,
						    "%s: %s[%zu].errno: not an errno name "
						    "(\"EPERM\") or a number in 1..4095",
						    path, key, i);
				} else if (!strcmp(k, "reason")) {
					if (!json_is_string(x))
						return jv_err(e, 0,
							      "%s: %s[%zu].reason must be a string",
							      path, key, i);
					free(reasons_owned[nr]);
					reasons_owned[nr] = xstrdup(json_string_value(x));
					reason = reasons_owned[nr];
				} else if (strcmp(k, "syscall")) {
					return jv_err(
					    e, 0,
					    "%s: %s[%zu]: unknown key '%s' (expected syscall, "
					    "errno, reason)",
					    path, key, i, k);
				}
			}
		}
		table[nr] = (struct pol_entry){true, K_DENY, err, reason};
	}
	return 0;
}

int policy_load(const char *path, struct jv_error *e)
{
	json_error_t je;
	json_auto_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return jv_err(e, 0, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	if (!json_is_object(root))
		return jv_err(e, 0, "%s: the policy must be a JSON object", path);
	json_t *base = json_object_get(root, "base");
	if (base && (!json_is_string(base) || (strcmp(json_string_value(base), "default") &&
					       strcmp(json_string_value(base), "none"))))
		return jv_err(e, 0, "%s: 'base' must be \"default\" or \"none\"", path);
	table_default();
	if (base && !strcmp(json_string_value(base), "none")) {
		memset(table, 0, sizeof(table));
		foreign_abi_allowed = true;
	}
	const char *key;
	json_t *v;
	json_object_foreach (root, key, v) {
		if (!strcmp(key, "base"))
			continue;
		if (!strcmp(key, "foreign-abi")) {
			const char *a = json_string_value(v);
			if (!a || (strcmp(a, "allow") && strcmp(a, "deny")))
				return jv_err(
				    e, 0, "%s: 'foreign-abi' must be \"allow\" or \"deny\"", path);
			foreign_abi_allowed = !strcmp(a, "allow");
			continue;
		}
		if (!strcmp(key, "allow") || !strcmp(key, "deny")) {
			if (load_list(path, key, v, key[0] == 'd', e) < 0)
				return -1;
		} else {
			return jv_err(
			    e, 0, "%s: unknown key '%s' (known: base, allow, deny, foreign-abi)",
			    path, key);
		}
	}
	return 0;
}

int policy_add_rules(void *scmp_ctx, bool (*trapped)(int nr), struct jv_error *e)
{
	scmp_filter_ctx ctx = scmp_ctx;
	ensure_table();
	const uint32_t act = SCMP_ACT_TRACE(JV_POLICY_DATA);
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		if (!policy_watches(nr) || trapped(nr))
			continue;
		int r = 0;
		switch (table[nr].kind) {
		case K_TGKILL:
			/* The kernel takes an int: compare the low 32 bits only. */
			r = seccomp_rule_add(ctx, act, nr, 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu,
						     (scmp_datum_t)(uint32_t)guarded_tgid()));
			break;
		case K_SECCOMP:
			r = seccomp_rule_add(ctx, act, nr, 1,
					     SCMP_A1(SCMP_CMP_MASKED_EQ,
						     SECCOMP_FILTER_FLAG_NEW_LISTENER,
						     SECCOMP_FILTER_FLAG_NEW_LISTENER));
			break;
		case K_FCNTL_OWN:
		case K_IOCTL_OWN: {
			/* Hot syscalls: only these (unsigned int) commands stop. */
			uint32_t cmds[4] = {F_SETOWN, F_SETOWN_EX};
			int n = 2;
			if (table[nr].kind == K_IOCTL_OWN) {
				cmds[0] = TIOCSTI;
				cmds[1] = TIOCLINUX;
				if (!isolated) {
					cmds[2] = FIOSETOWN_CMD;
					cmds[3] = SIOCSPGRP_CMD;
					n = 4;
				}
			}
			for (int i = 0; i < n && r == 0; i++)
				r = seccomp_rule_add(
				    ctx, act, nr, 1,
				    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, cmds[i]));
			break;
		}
		case K_PID_ARG:
			/* pid 0 (the caller: glibc's getrlimit and setrlimit) never stops. */
			r = seccomp_rule_add(ctx, act, nr, 1, SCMP_A0(SCMP_CMP_NE, 0));
			break;
		case K_PRIO: {
			/* (this process, 0) never stops: nice(1), glibc's nice(). */
			uint64_t self = nr == __NR_setpriority ? PRIO_PROCESS : IOPRIO_WHO_PROCESS;
			r = seccomp_rule_add(ctx, act, nr, 1, SCMP_A0(SCMP_CMP_NE, self));
			if (r == 0)
				r = seccomp_rule_add(ctx, act, nr, 1, SCMP_A1(SCMP_CMP_NE, 0));
			break;
		}
		case K_CLONE: {
			static const uint64_t flags[] = {
			    CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,	 CLONE_NEWNET,
			    CLONE_NEWIPC, CLONE_NEWUTS,	 CLONE_NEWCGROUP};
			for (size_t i = 0; i < JV_ARRAY_SIZE(flags) && r == 0; i++)
				r = seccomp_rule_add(
				    ctx, act, nr, 1,
				    SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
			break;
		}
		case K_DENY:
		case K_KILL:
		case K_TKILL:
		case K_PIDFD_OPEN:
		case K_PIDFD_FD:
		case K_PROCESS_VM:
		case K_PERSONALITY:
			r = seccomp_rule_add(ctx, act, nr, 0);
			break;
		}
		if (r < 0) {
			const char *name = sys_name(nr);
			return jv_err(e, -r, "seccomp: cannot add the policy rule for %s",
				      name ? name : "?");
		}
	}
	return 0;
}

/* Is pid the supervisor (under --isolate: init), or one of jvisor's threads? */
static bool is_jvisor(long pid)
{
	if (pid <= 0 || pid > INT32_MAX)
		return false;
	if (isolated)
		return pid == 1;
	if (pid == getpid())
		return true;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%ld", pid);
	return access(path, F_OK) == 0;
}

/* The process a pidfd (or a /proc/PID directory fd) of thread tid refers to; -1 if none. */
static long fd_pid(pid_t tid, int fd)
{
	char path[64];
	_cleanup_free_ char *info = NULL;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)tid, fd);
	if (jv_read_file(path, &info) >= 0) {
		const char *p = strstr(info, "\nPid:");
		if (p)
			return strtol(p + 5, NULL, 10);
	}
	char link[256];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n <= 6)
		return -1;
	link[n] = 0;
	if (strncmp(link, "/proc/", 6))
		return -1;
	char *end;
	long pid = strtol(link + 6, &end, 10);
	return *end ? -1 : pid;
}

/* Personas that keep the ABI and the address space: plain Linux (and linux32's
 * uname), with or without randomization. */
static bool persona_ok(uint32_t p)
{
	if (p == 0xffffffffu)
		return true; /* a query */
	if ((p & PER_MASK) != PER_LINUX && (p & PER_MASK) != PER_LINUX32)
		return false;
	return (p & ~(uint32_t)(PER_MASK | ADDR_NO_RANDOMIZE | UNAME26)) == 0;
}

static int read_mem(pid_t tid, uint64_t addr, void *buf, size_t n)
{
	struct jv_error e; /* mem_read: /proc/PID/mem when process_vm_readv is denied */
	return mem_read(tid, addr, buf, n, &e) == (ssize_t)n ? 0 : -1;
}

/* setpriority(which, who) and ioprio_set(which, who): which counts from
 * "process" (PRIO_PROCESS 0, IOPRIO_WHO_PROCESS 1) to "process group" and
 * "user"; who 0 is the caller's own. */
static bool prio_reaches_supervisor(pid_t tid, int nr, uint64_t which, uint64_t who)
{
	long base = nr == __NR_setpriority ? PRIO_PROCESS : IOPRIO_WHO_PROCESS;
	long w = (int)which - base, id = (int)who;
	if (w == 0)
		return is_jvisor(id);
	if (w == 1) /* a process group: jvisor's (init's cannot be named inside) */
		return !isolated && (id ? id == getpgrp() : getpgid(tid) == getpgrp());
	if (w == 2) /* every process of a user: 0 is the caller's uid */
		return id == 0 || (!isolated && id == (long)getuid());
	return false; /* the kernel fails it with EINVAL */
}

/* An F_SETOWN-style owner: a pid, or -pgid. */
static bool owner_is_jvisor(int owner)
{
	return owner < 0 ? -(long)owner == getpgrp() : is_jvisor(owner);
}

static bool fcntl_owner_is_jvisor(pid_t tid, uint32_t cmd, uint64_t arg)
{
	if (cmd == F_SETOWN)
		return owner_is_jvisor((int)arg);
	if (cmd != F_SETOWN_EX)
		return false;
	struct f_owner_ex o;
	if (read_mem(tid, arg, &o, sizeof(o)) < 0)
		return false;
	return o.type == F_OWNER_PGRP ? o.pid == getpgrp() : is_jvisor(o.pid);
}

int policy_check(pid_t tid, int nr, const uint64_t a[6], const char **reason)
{
	if (!policy_watches(nr))
		return 0;
	const struct pol_entry *p = &table[nr];
	bool deny = false;
	const char *why = p->reason;
	long pid = (int)a[0];
	switch (p->kind) {
	case K_DENY:
		deny = true;
		break;
	case K_KILL:
		if (pid == -1) /* under --isolate: the namespace's processes but init */
			deny = !isolated;
		else if (pid == 0)
			deny = getpgid(tid) == getpgrp();
		else if (pid < 0)
			deny = !isolated && -pid == getpgrp();
		else
			deny = is_jvisor(pid);
		break;
	case K_TKILL:
	case K_PIDFD_OPEN:
		deny = is_jvisor(pid);
		break;
	case K_TGKILL:
		deny = pid == guarded_tgid();
		break;
	case K_PIDFD_FD:
		deny = is_jvisor(fd_pid(tid, (int)a[0]));
		break;
	case K_PROCESS_VM:
		deny = !membership || membership((pid_t)pid) < 0;
		break;
	case K_PERSONALITY:
		deny = !persona_ok((uint32_t)a[0]);
		break;
	case K_CLONE:
		deny = (a[0] & NS_FLAGS) != 0;
		break;
	case K_FCNTL_OWN:
		deny = fcntl_owner_is_jvisor(tid, (uint32_t)a[1], a[2]);
		break;
	case K_SECCOMP:
		deny = (a[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
		break;
	case K_IOCTL_OWN:
		if ((uint32_t)a[1] == TIOCSTI || (uint32_t)a[1] == TIOCLINUX) {
			deny = true;
			why = "injects input into the terminal, which outlives the sandbox";
		} else if (!isolated &&
			   ((uint32_t)a[1] == FIOSETOWN_CMD || (uint32_t)a[1] == SIOCSPGRP_CMD)) {
			int owner = 0;
			deny = read_mem(tid, a[2], &owner, sizeof(owner)) == 0 &&
			       owner_is_jvisor(owner);
		}
		break;
	case K_PID_ARG:
		deny = is_jvisor(pid);
		break;
	case K_PRIO:
		deny = prio_reaches_supervisor(tid, nr, a[0], a[1]);
		break;
	}
	if (!deny)
		return 0;
	*reason = why;
	return p->err;
}

void policy_protect_supervisor(void)
{
	/* Not dumpable: /proc/PID/mem, ptrace attach and process_vm_* on jvisor
	 * need CAP_SYS_PTRACE, even for a program running as jvisor's user. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void policy_hide_environment(void)
{
	/* /proc/PID/environ shows the strings where the kernel put them, at the
	 * top of the first stack; copies serve jvisor (and the program's
	 * environment, which --clearenv or --setenv may change) from now on. */
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	char **copy = xcalloc(n + 1, sizeof(*copy));
	for (size_t i = 0; i < n; i++) {
		copy[i] = xstrdup(environ[i]);
		explicit_bzero(environ[i], strlen(environ[i]));
	}
	environ = copy;
}

void policy_report(pid_t pid, pid_t tid, int nr, int abi, int err, const char *reason)
{
	/* Every denial goes to the log; stderr gets the first few of each syscall. */
	static unsigned short warned[SYS_NR_MAX];
	enum { WARN_MAX = 5 };
	const char *name = sys_name(nr);
	const char *ename = jv_errno_name(err);
	static const char *const abis[] = {"x86_64", "i386", "x32"};
	const char *abi_name = abi >= 0 && abi < 3 ? abis[abi] : "?";
	if (nr >= 0 && nr < SYS_NR_MAX && warned[nr] <= WARN_MAX) {
		if (warned[nr] < WARN_MAX)
			jv_warn("policy: denied %s (%s) to pid %d: %s", name ? name : "?",
				ename ? ename : "?", (int)tid, reason);
		else
			jv_warn("policy: further denials of %s are only logged", name ? name : "?");
		warned[nr]++;
	}
	if (log_active) {
		json_auto_t *j = json_pack("{s:s, s:s, s:i, s:s?, s:s, s:s}", "policy", "deny",
					   "syscall", name ? name : "?", "nr", nr, "errno", ename,
					   "abi", abi_name, "reason", reason);
		char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (txt)
			log_hook_json(pid, tid, "policy", txt);
		free(txt);
	}
}

int policy_check_abi(int nr, const char **reason)
{
	(void)nr;
	if (foreign_abi_allowed)
		return 0;
	*reason = "syscalls of other ABIs (int 0x80, x32) are denied unless hooked or logged";
	return ENOSYS;
}

bool policy_foreign_abi_denied(void)
{
	return !foreign_abi_allowed;
}
