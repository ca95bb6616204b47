/* Keeping the program away from the control socket, enforced by the kernel
 * (docs/control.md, docs/sandbox.md). A check of the connecting process cannot
 * do it: the program can connect from a process that is gone by the time jvisor
 * looks, or park the connected fd in a pending SCM_RIGHTS message.
 *
 * - An abstract control socket: the program's Landlock domain is scoped
 *   (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, Landlock ABI 6, Linux 6.12): it
 *   cannot connect to abstract sockets made outside its domain.
 * - A TCP control socket: Landlock network rules (ABI 4, Linux 6.7) let the
 *   program connect to every TCP port but that one; a small seccomp filter
 *   refuses the two ways around connect() that Landlock does not see: sendto,
 *   sendmsg and sendmmsg with MSG_FASTOPEN, and Multipath TCP sockets.
 * - Under --isolate, LANDLOCK_SCOPE_SIGNAL too: the program cannot signal the
 *   namespace's init (outside its domain).
 *
 * The ruleset is built in jvisor before the fork; the program's process
 * applies it after no_new_privs, before its seccomp filter and exec. Domains
 * are inherited and cannot be left. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "sandbox/sandbox.h"
#include "syscalls/syscalls.h"

/* Debian 12's linux-libc-dev (6.1) predates Landlock's network rules (ABI 4)
 * and scopes (ABI 6): the uapi values of include/uapi/linux/landlock.h. */
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define LL_RULE_NET_PORT 2
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
} __attribute__((packed));

static int ruleset_fd = -1;
static struct sock_filter tcp_filter[160];
static unsigned short tcp_filter_len;

static long ll_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : v;
}

static void emit(struct sock_filter f)
{
	if (tcp_filter_len < JV_ARRAY_SIZE(tcp_filter))
		tcp_filter[tcp_filter_len++] = f;
}

/* The low half of argument i (the kernel takes ints: the high half is ignored). */
static uint32_t arg_lo(int i)
{
	return (uint32_t)(offsetof(struct seccomp_data, args) + 8 * (size_t)i);
}

/* "if arch and nr match and (args[i] & mask) [== value | != 0]: EACCES". */
static void emit_rule(uint32_t arch, int nr, int i, uint32_t mask, uint32_t value)
{
	if (nr < 0 || i < 0)
		return;
	emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					  offsetof(struct seccomp_data, arch)));
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 6));
	emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					  offsetof(struct seccomp_data, nr)));
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 4));
	emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg_lo(i)));
	emit((struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask));
	if (value) /* equal: refused */
		emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1));
	else /* a bit of mask set: refused */
		emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0));
	emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES));
}

/* The argument that holds the MSG_ flags, from the one syscall table. */
static int msg_flags_arg(int nr)
{
	const struct sys_info *si = sys_info(nr);
	for (int i = 0; si && i < si->nargs; i++)
		if (si->args[i].role == SR_FLAGS && si->args[i].param == SK_MSG)
			return i;
	return -1;
}

static void build_tcp_filter(void)
{
	static const char *const senders[] = {"sendto", "sendmsg", "sendmmsg"};
	static const struct {
		uint32_t arch;
		enum sys_abi abi;
	} abis[] = {{AUDIT_ARCH_X86_64, SYS_ABI_X86_64},
		    {AUDIT_ARCH_X86_64, SYS_ABI_X32},
		    {AUDIT_ARCH_I386, SYS_ABI_I386}};
	tcp_filter_len = 0;
	for (size_t a = 0; a < JV_ARRAY_SIZE(abis); a++) {
		int native = sys_number("socket");
		int nr =
		    abis[a].abi == SYS_ABI_X86_64 ? native : sys_from_native(abis[a].abi, native);
		if (nr >= 0 && abis[a].abi == SYS_ABI_X32)
			nr |= __X32_SYSCALL_BIT;
		/* socket(domain, type, protocol): no Multipath TCP. */
		emit_rule(abis[a].arch, nr, 2, 0xffffffffu, IPPROTO_MPTCP);
		for (size_t s = 0; s < JV_ARRAY_SIZE(senders); s++) {
			native = sys_number(senders[s]);
			nr = abis[a].abi == SYS_ABI_X86_64 ? native
							   : sys_from_native(abis[a].abi, native);
			if (nr >= 0 && abis[a].abi == SYS_ABI_X32)
				nr |= __X32_SYSCALL_BIT;
			emit_rule(abis[a].arch, nr, msg_flags_arg(native), MSG_FASTOPEN, 0);
		}
	}
	emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}

int sandbox_confine_prepare(const struct sandbox_options *o, struct jv_error *e)
{
	bool isolated = o->isolate == 1;
	/* A network namespace of its own: the host's loopback and abstract
	 * sockets are out of reach anyway. */
	bool own_net = isolated && o->net_host != 1;
	long abi = ll_abi();
	struct ll_ruleset_attr attr = {0};
	if (o->control_abstract && !own_net) {
		if (abi >= 6)
			attr.scoped |= LL_SCOPE_ABSTRACT_UNIX_SOCKET;
		else
			jv_warn("this kernel has no Landlock scopes (ABI 6, Linux 6.12): the "
				"program is kept off the control socket only by jvisor's check "
				"of the connecting process, which a program can race");
	}
	if (isolated && abi >= 6)
		attr.scoped |= LL_SCOPE_SIGNAL;
	bool tcp = o->control_port > 0 && !own_net;
	if (tcp) {
		if (abi < 4)
			return jv_err(e, 0,
				      "a tcp: control socket needs Landlock network rules (ABI 4, "
				      "Linux 6.7) to keep the program from connecting to it; this "
				      "kernel has ABI %ld: use --control unix",
				      abi);
		attr.handled_access_net = LL_ACCESS_NET_CONNECT_TCP;
		build_tcp_filter();
	}
	if (!attr.scoped && !attr.handled_access_net)
		return 0;
	/* ABI 4 and 5 kernels take the shorter struct (no scopes). */
	size_t size = attr.scoped ? sizeof(attr) : offsetof(struct ll_ruleset_attr, scoped);
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return jv_err(e, errno, "landlock_create_ruleset");
	/* Every port but the control socket's (rules only allow). */
	for (int port = 0; tcp && port <= 65535; port++) {
		if (port == o->control_port)
			continue;
		struct ll_net_port_attr pa = {LL_ACCESS_NET_CONNECT_TCP, (uint64_t)port};
		if (syscall(SYS_landlock_add_rule, fd, LL_RULE_NET_PORT, &pa, 0) < 0) {
			int err = errno;
			close(fd);
			return jv_err(e, err, "landlock_add_rule (port %d)", port);
		}
	}
	ruleset_fd = fd;
	return 0;
}

void sandbox_confine_forget(void)
{
	if (ruleset_fd >= 0)
		close(ruleset_fd);
	ruleset_fd = -1;
}

int sandbox_confine(void)
{
	if (ruleset_fd < 0)
		return 0;
	if (syscall(SYS_landlock_restrict_self, ruleset_fd, 0) < 0)
		return errno;
	close(ruleset_fd);
	ruleset_fd = -1;
	if (tcp_filter_len) {
		struct sock_fprog prog = {tcp_filter_len, tcp_filter};
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			return errno;
	}
	return 0;
}
