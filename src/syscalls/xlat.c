/* Constant-to-name tables: data, one table per kind of flags or values. */
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <asm/prctl.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "syscalls/decode.h"

struct xlat {
	uint64_t val;
	const char *name;
};
#define X(c)                      \
	{                         \
		(uint64_t)(c), #c \
	}
#define XEND            \
	{               \
		0, NULL \
	}

static const struct xlat open_flags[] = {
    X(O_CREAT),
    X(O_EXCL),
    X(O_NOCTTY),
    X(O_TRUNC),
    X(O_APPEND),
    X(O_NONBLOCK),
    X(O_DSYNC),
    X(O_ASYNC),
    X(O_DIRECT),
    X(O_LARGEFILE),
    X(O_DIRECTORY),
    X(O_NOFOLLOW),
    X(O_NOATIME),
    X(O_CLOEXEC),
    {04000000 | 010000, "O_SYNC"},
    X(O_PATH),
    {020000000 | 0200000, "O_TMPFILE"},
    XEND,
};
static const struct xlat at_flags[] = {
    X(AT_SYMLINK_NOFOLLOW),
    X(AT_REMOVEDIR),
    X(AT_SYMLINK_FOLLOW),
    X(AT_NO_AUTOMOUNT),
    X(AT_EMPTY_PATH),
    X(AT_EACCESS),
    XEND,
};
static const struct xlat prot_flags[] = {
    X(PROT_READ), X(PROT_WRITE), X(PROT_EXEC), X(PROT_GROWSDOWN), X(PROT_GROWSUP), XEND,
};
static const struct xlat map_flags[] = {
    X(MAP_FIXED),      X(MAP_ANONYMOUS), X(MAP_32BIT),	   X(MAP_GROWSDOWN),	   X(MAP_DENYWRITE),
    X(MAP_EXECUTABLE), X(MAP_LOCKED),	 X(MAP_NORESERVE), X(MAP_POPULATE),	   X(MAP_NONBLOCK),
    X(MAP_STACK),      X(MAP_HUGETLB),	 X(MAP_SYNC),	   X(MAP_FIXED_NOREPLACE), XEND,
};
static const struct xlat map_types[] = {
    X(MAP_SHARED),
    X(MAP_PRIVATE),
    X(MAP_SHARED_VALIDATE),
    XEND,
};
static const struct xlat sock_types[] = {
    X(SOCK_STREAM),    X(SOCK_DGRAM), X(SOCK_RAW),    X(SOCK_RDM),
    X(SOCK_SEQPACKET), X(SOCK_DCCP),  X(SOCK_PACKET), XEND,
};
static const struct xlat sock_flags[] = {X(SOCK_NONBLOCK), X(SOCK_CLOEXEC), XEND};
static const struct xlat msg_flags[] = {
    X(MSG_OOB),	  X(MSG_PEEK),	     X(MSG_DONTROUTE), X(MSG_CTRUNC),	    X(MSG_PROXY),
    X(MSG_TRUNC), X(MSG_DONTWAIT),   X(MSG_EOR),       X(MSG_WAITALL),	    X(MSG_FIN),
    X(MSG_SYN),	  X(MSG_CONFIRM),    X(MSG_RST),       X(MSG_ERRQUEUE),	    X(MSG_NOSIGNAL),
    X(MSG_MORE),  X(MSG_WAITFORONE), X(MSG_FASTOPEN),  X(MSG_CMSG_CLOEXEC), XEND,
};
static const struct xlat clone_flags[] = {
    X(CLONE_VM),
    X(CLONE_FS),
    X(CLONE_FILES),
    X(CLONE_SIGHAND),
    X(CLONE_PIDFD),
    X(CLONE_PTRACE),
    X(CLONE_VFORK),
    X(CLONE_PARENT),
    X(CLONE_THREAD),
    X(CLONE_NEWNS),
    X(CLONE_SYSVSEM),
    X(CLONE_SETTLS),
    X(CLONE_PARENT_SETTID),
    X(CLONE_CHILD_CLEARTID),
    X(CLONE_DETACHED),
    X(CLONE_UNTRACED),
    X(CLONE_CHILD_SETTID),
    X(CLONE_NEWCGROUP),
    X(CLONE_NEWUTS),
    X(CLONE_NEWIPC),
    X(CLONE_NEWUSER),
    X(CLONE_NEWPID),
    X(CLONE_NEWNET),
    X(CLONE_IO),
    XEND,
};
static const struct xlat access_flags[] = {X(R_OK), X(W_OK), X(X_OK), XEND};
static const struct xlat wait_flags[] = {
    X(WNOHANG), X(WUNTRACED),	X(WCONTINUED), X(WEXITED),  X(WSTOPPED),
    X(WNOWAIT), X(__WNOTHREAD), X(__WALL),     X(__WCLONE), XEND,
};
static const struct xlat mremap_flags[] = {
    X(MREMAP_MAYMOVE),
    X(MREMAP_FIXED),
    {4, "MREMAP_DONTUNMAP"},
    XEND,
};
static const struct xlat msync_flags[] = {X(MS_ASYNC), X(MS_INVALIDATE), X(MS_SYNC), XEND};
static const struct xlat ipc_flags[] = {X(IPC_CREAT), X(IPC_EXCL), X(IPC_NOWAIT), XEND};
static const struct xlat shm_flags[] = {X(SHM_RDONLY), X(SHM_RND), X(SHM_REMAP), X(SHM_EXEC), XEND};
static const struct xlat flock_flags[] = {X(LOCK_SH), X(LOCK_EX), X(LOCK_NB), X(LOCK_UN), XEND};
static const struct xlat rename_flags[] = {
    {1, "RENAME_NOREPLACE"},
    {2, "RENAME_EXCHANGE"},
    {4, "RENAME_WHITEOUT"},
    XEND,
};
static const struct xlat memfd_flags[] = {
    {1, "MFD_CLOEXEC"},
    {2, "MFD_ALLOW_SEALING"},
    {4, "MFD_HUGETLB"},
    XEND,
};

static const struct xlat seek_vals[] = {
    X(SEEK_SET), X(SEEK_CUR), X(SEEK_END), X(SEEK_DATA), X(SEEK_HOLE), XEND,
};
static const struct xlat sighow_vals[] = {X(SIG_BLOCK), X(SIG_UNBLOCK), X(SIG_SETMASK), XEND};
static const struct xlat madv_vals[] = {
    X(MADV_NORMAL),	X(MADV_RANDOM),	     X(MADV_SEQUENTIAL),
    X(MADV_WILLNEED),	X(MADV_DONTNEED),    X(MADV_FREE),
    X(MADV_REMOVE),	X(MADV_DONTFORK),    X(MADV_DOFORK),
    X(MADV_MERGEABLE),	X(MADV_UNMERGEABLE), X(MADV_HUGEPAGE),
    X(MADV_NOHUGEPAGE), X(MADV_DONTDUMP),    X(MADV_DODUMP),
    X(MADV_WIPEONFORK), X(MADV_KEEPONFORK),  X(MADV_COLD),
    X(MADV_PAGEOUT),	X(MADV_HWPOISON),    XEND,
};
static const struct xlat af_vals[] = {
    X(AF_UNSPEC), X(AF_UNIX),  X(AF_INET),   X(AF_AX25), X(AF_IPX),	  X(AF_APPLETALK),
    X(AF_X25),	  X(AF_INET6), X(AF_DECnet), X(AF_KEY),	 X(AF_NETLINK),	  X(AF_PACKET),
    X(AF_RDS),	  X(AF_IRDA),  X(AF_CAN),    X(AF_TIPC), X(AF_BLUETOOTH), X(AF_ALG),
    X(AF_VSOCK),  X(AF_XDP),   XEND,
};
static const struct xlat shut_vals[] = {X(SHUT_RD), X(SHUT_WR), X(SHUT_RDWR), XEND};
static const struct xlat fcntl_vals[] = {
    X(F_DUPFD),		X(F_GETFD),
    X(F_SETFD),		X(F_GETFL),
    X(F_SETFL),		X(F_GETLK),
    X(F_SETLK),		X(F_SETLKW),
    X(F_SETOWN),	X(F_GETOWN),
    X(F_SETSIG),	X(F_GETSIG),
    X(F_SETOWN_EX),	X(F_GETOWN_EX),
    X(F_OFD_GETLK),	X(F_OFD_SETLK),
    X(F_OFD_SETLKW),	X(F_SETLEASE),
    X(F_GETLEASE),	X(F_NOTIFY),
    X(F_DUPFD_CLOEXEC), X(F_SETPIPE_SZ),
    X(F_GETPIPE_SZ),	X(F_ADD_SEALS),
    X(F_GET_SEALS),	XEND,
};
static const struct xlat rlimit_vals[] = {
    X(RLIMIT_CPU),
    X(RLIMIT_FSIZE),
    X(RLIMIT_DATA),
    X(RLIMIT_STACK),
    X(RLIMIT_CORE),
    X(RLIMIT_RSS),
    X(RLIMIT_NPROC),
    X(RLIMIT_NOFILE),
    X(RLIMIT_MEMLOCK),
    X(RLIMIT_AS),
    X(RLIMIT_LOCKS),
    X(RLIMIT_SIGPENDING),
    X(RLIMIT_MSGQUEUE),
    X(RLIMIT_NICE),
    X(RLIMIT_RTPRIO),
    X(RLIMIT_RTTIME),
    XEND,
};
static const struct xlat ptrace_vals[] = {
    X(PTRACE_TRACEME),
    X(PTRACE_PEEKTEXT),
    X(PTRACE_PEEKDATA),
    X(PTRACE_PEEKUSER),
    X(PTRACE_POKETEXT),
    X(PTRACE_POKEDATA),
    X(PTRACE_POKEUSER),
    X(PTRACE_CONT),
    X(PTRACE_KILL),
    X(PTRACE_SINGLESTEP),
    X(PTRACE_GETREGS),
    X(PTRACE_SETREGS),
    X(PTRACE_ATTACH),
    X(PTRACE_DETACH),
    X(PTRACE_SYSCALL),
    X(PTRACE_SETOPTIONS),
    X(PTRACE_GETEVENTMSG),
    X(PTRACE_GETSIGINFO),
    X(PTRACE_SETSIGINFO),
    X(PTRACE_SEIZE),
    X(PTRACE_INTERRUPT),
    X(PTRACE_LISTEN),
    XEND,
};
static const struct xlat prctl_vals[] = {
    X(PR_SET_PDEATHSIG),
    X(PR_GET_PDEATHSIG),
    X(PR_GET_DUMPABLE),
    X(PR_SET_DUMPABLE),
    X(PR_GET_KEEPCAPS),
    X(PR_SET_KEEPCAPS),
    X(PR_SET_NAME),
    X(PR_GET_NAME),
    X(PR_GET_SECCOMP),
    X(PR_SET_SECCOMP),
    X(PR_CAPBSET_READ),
    X(PR_CAPBSET_DROP),
    X(PR_SET_CHILD_SUBREAPER),
    X(PR_GET_CHILD_SUBREAPER),
    X(PR_SET_NO_NEW_PRIVS),
    X(PR_GET_NO_NEW_PRIVS),
    X(PR_SET_MM),
    X(PR_SET_PTRACER),
    X(PR_SET_VMA),
    X(PR_CAP_AMBIENT),
    X(PR_SET_TIMERSLACK),
    X(PR_GET_TIMERSLACK),
    XEND,
};
static const struct xlat archprctl_vals[] = {
    X(ARCH_SET_GS),    X(ARCH_SET_FS),	  X(ARCH_GET_FS), X(ARCH_GET_GS),
    X(ARCH_GET_CPUID), X(ARCH_SET_CPUID), XEND,
};
static const struct xlat futex_vals[] = {
    X(FUTEX_WAIT),	     X(FUTEX_WAKE),	   X(FUTEX_FD),
    X(FUTEX_REQUEUE),	     X(FUTEX_CMP_REQUEUE), X(FUTEX_WAKE_OP),
    X(FUTEX_LOCK_PI),	     X(FUTEX_UNLOCK_PI),   X(FUTEX_TRYLOCK_PI),
    X(FUTEX_WAIT_BITSET),    X(FUTEX_WAKE_BITSET), X(FUTEX_WAIT_REQUEUE_PI),
    X(FUTEX_CMP_REQUEUE_PI), X(FUTEX_LOCK_PI2),	   XEND,
};
static const struct xlat clock_vals[] = {
    X(CLOCK_REALTIME),		X(CLOCK_MONOTONIC),	X(CLOCK_PROCESS_CPUTIME_ID),
    X(CLOCK_THREAD_CPUTIME_ID), X(CLOCK_MONOTONIC_RAW), X(CLOCK_REALTIME_COARSE),
    X(CLOCK_MONOTONIC_COARSE),	X(CLOCK_BOOTTIME),	X(CLOCK_REALTIME_ALARM),
    X(CLOCK_BOOTTIME_ALARM),	X(CLOCK_TAI),		XEND,
};
static const struct xlat epollctl_vals[] = {
    X(EPOLL_CTL_ADD),
    X(EPOLL_CTL_DEL),
    X(EPOLL_CTL_MOD),
    XEND,
};
static const struct xlat fadvise_vals[] = {
    X(POSIX_FADV_NORMAL),
    X(POSIX_FADV_RANDOM),
    X(POSIX_FADV_SEQUENTIAL),
    X(POSIX_FADV_WILLNEED),
    X(POSIX_FADV_DONTNEED),
    X(POSIX_FADV_NOREUSE),
    XEND,
};

static const struct xlat *const flag_tables[SK__COUNT] = {
    [SK_OPEN] = open_flags,	[SK_FD] = open_flags,	    [SK_AT] = at_flags,
    [SK_PROT] = prot_flags,	[SK_MAP] = map_flags,	    [SK_SOCK] = sock_flags,
    [SK_MSG] = msg_flags,	[SK_CLONE] = clone_flags,   [SK_ACCESS] = access_flags,
    [SK_WAIT] = wait_flags,	[SK_MREMAP] = mremap_flags, [SK_MSYNC] = msync_flags,
    [SK_IPC] = ipc_flags,	[SK_SHM] = shm_flags,	    [SK_FLOCK] = flock_flags,
    [SK_RENAME] = rename_flags, [SK_MEMFD] = memfd_flags,
};
static const struct xlat *const enum_tables[SK__COUNT] = {
    [SK_SEEK] = seek_vals,	   [SK_SIGHOW] = sighow_vals,
    [SK_MADV] = madv_vals,	   [SK_AF] = af_vals,
    [SK_SHUT] = shut_vals,	   [SK_FCNTL] = fcntl_vals,
    [SK_RLIMIT] = rlimit_vals,	   [SK_PTRACE] = ptrace_vals,
    [SK_PRCTL] = prctl_vals,	   [SK_ARCHPRCTL] = archprctl_vals,
    [SK_FUTEX] = futex_vals,	   [SK_CLOCK] = clock_vals,
    [SK_EPOLLCTL] = epollctl_vals, [SK_FADVISE] = fadvise_vals,
};

static const char *lookup(const struct xlat *t, uint64_t v)
{
	for (; t && t->name; t++)
		if (t->val == v)
			return t->name;
	return NULL;
}

static void sep(struct sbuf *out, bool *first)
{
	if (!*first)
		sb_putc(out, '|');
	*first = false;
}

/* Bits of v named by t; the rest in hex. */
static void bits(const struct xlat *t, uint64_t v, struct sbuf *out, bool first)
{
	for (; t && t->name; t++) {
		if (t->val && (v & t->val) == t->val) {
			sep(out, &first);
			sb_puts(out, t->name);
			v &= ~t->val;
		}
	}
	if (v || first) {
		sep(out, &first);
		sb_hex(out, v);
	}
}

void xlat_flags(enum sys_kind k, uint64_t v, struct sbuf *out)
{
	bool first = true;
	switch (k) {
	case SK_OPEN: {
		static const char *const acc[4] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
		v = (uint32_t)v;
		if ((v & O_PATH) == 0) {
			sb_puts(out, acc[v & O_ACCMODE]);
			first = false;
			v &= ~(uint64_t)O_ACCMODE;
		}
		if (v)
			bits(open_flags, v, out, first);
		return;
	}
	case SK_SOCK: {
		const char *type = lookup(sock_types, v & 0xf);
		if (type) {
			sb_puts(out, type);
			first = false;
			v &= ~0xfull;
		}
		if (v || first)
			bits(sock_flags, v, out, first);
		return;
	}
	case SK_MAP: {
		const char *type = lookup(map_types, v & 3);
		if (type) {
			sb_puts(out, type);
			first = false;
			v &= ~3ull;
		}
		if (v || first)
			bits(map_flags, v, out, first);
		return;
	}
	case SK_PROT:
		if (v == 0) {
			sb_puts(out, "PROT_NONE");
			return;
		}
		break;
	case SK_ACCESS:
		if (v == 0) {
			sb_puts(out, "F_OK");
			return;
		}
		break;
	case SK_CLONE:
		if (v & 0xff) {
			/* The low byte is the exit signal. */
			char name[16];
			xlat_signame((int)(v & 0xff), name, sizeof(name));
			v &= ~0xffull;
			if (v)
				bits(clone_flags, v, out, true);
			sb_putc(out, '|');
			sb_puts(out, name);
			return;
		}
		break;
	default:
		break;
	}
	if (v == 0) {
		sb_putc(out, '0');
		return;
	}
	bits(k < SK__COUNT ? flag_tables[k] : NULL, v, out, true);
}

bool xlat_enum(enum sys_kind k, uint64_t v, struct sbuf *out)
{
	const struct xlat *t = k < SK__COUNT ? enum_tables[k] : NULL;
	if (k == SK_FUTEX) {
		/* The operation, then its flag bits. */
		const char *op = lookup(t, v & 0x7f);
		if (!op)
			return false;
		sb_puts(out, op);
		if (v & 128)
			sb_puts(out, "_PRIVATE");
		if (v & 256)
			sb_puts(out, "|FUTEX_CLOCK_REALTIME");
		return true;
	}
	const char *name = lookup(t, k == SK_CLOCK || k == SK_RLIMIT ? (uint32_t)v : v);
	if (!name)
		return false;
	sb_puts(out, name);
	return true;
}

static const char *const signames[] = {
    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",	  [SIGQUIT] = "SIGQUIT",
    [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP",	  [SIGABRT] = "SIGABRT",
    [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",	  [SIGKILL] = "SIGKILL",
    [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV",	  [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM",	  [SIGTERM] = "SIGTERM",
    [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",	  [SIGCONT] = "SIGCONT",
    [SIGSTOP] = "SIGSTOP",     [SIGTSTP] = "SIGTSTP",	  [SIGTTIN] = "SIGTTIN",
    [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",	  [SIGXCPU] = "SIGXCPU",
    [SIGXFSZ] = "SIGXFSZ",     [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
    [SIGWINCH] = "SIGWINCH",   [SIGIO] = "SIGIO",	  [SIGPWR] = "SIGPWR",
    [SIGSYS] = "SIGSYS",
};

bool xlat_signame(int sig, char *buf, size_t len)
{
	if (sig > 0 && (size_t)sig < JV_ARRAY_SIZE(signames) && signames[sig]) {
		snprintf(buf, len, "%s", signames[sig]);
		return true;
	}
	if (sig >= 32 && sig <= 64) {
		snprintf(buf, len, sig == 32 ? "SIGRT_0" : "SIGRT_%d", sig - 32);
		if (sig >= SIGRTMIN && sig <= SIGRTMAX)
			snprintf(buf, len, sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+%d",
				 sig - SIGRTMIN);
		return true;
	}
	snprintf(buf, len, "%d", sig);
	return false;
}

const char *xlat_errname(int err)
{
	switch (err) {
	case 512:
		return "ERESTARTSYS";
	case 513:
		return "ERESTARTNOINTR";
	case 514:
		return "ERESTARTNOHAND";
	case 516:
		return "ERESTART_RESTARTBLOCK";
	default:
		return jv_errno_name(err);
	}
}

const char *xlat_si_code(int sig, int code)
{
	switch (code) {
	case SI_USER:
		return "SI_USER";
	case SI_KERNEL:
		return "SI_KERNEL";
	case SI_QUEUE:
		return "SI_QUEUE";
	case SI_TIMER:
		return "SI_TIMER";
	case SI_MESGQ:
		return "SI_MESGQ";
	case SI_ASYNCIO:
		return "SI_ASYNCIO";
	case SI_SIGIO:
		return "SI_SIGIO";
	case SI_TKILL:
		return "SI_TKILL";
	default:
		break;
	}
	if (sig == SIGCHLD) {
		static const char *const cld[] = {NULL,		  "CLD_EXITED",	 "CLD_KILLED",
						  "CLD_DUMPED",	  "CLD_TRAPPED", "CLD_STOPPED",
						  "CLD_CONTINUED"};
		if (code > 0 && code < 7)
			return cld[code];
	}
	if (sig == SIGSEGV && (code == SEGV_MAPERR || code == SEGV_ACCERR))
		return code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_ACCERR";
	return NULL;
}
