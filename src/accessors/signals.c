#include "accessors/signals.h"

#include <ctype.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "accessors/mem.h"
#include "accessors/proc.h"
#include "common/util.h"
#include "tracer/tracer.h"

static const char *const names[32] = {
    NULL,	 "SIGHUP",  "SIGINT",	 "SIGQUIT", "SIGILL",	"SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",	 "SIGKILL", "SIGUSR1",	 "SIGSEGV", "SIGUSR2",	"SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",	 "SIGSTOP", "SIGTSTP",	"SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",	 "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
};

static const struct {
	const char *name;
	int sig;
} aliases[] = {
    {"SIGIOT", 6},
    {"SIGPOLL", 29},
    {"SIGCLD", 17},
    {"SIGUNUSED", 31},
};

#define RTMIN 32
#define RTMAX 64

const char *sig_name(int sig, char buf[16])
{
	if (sig <= 0 || sig > SIG_MAXNUM)
		return NULL;
	if (sig < RTMIN)
		return names[sig];
	if (sig == RTMIN)
		return "SIGRTMIN";
	if (sig == RTMAX)
		return "SIGRTMAX";
	if (sig <= (RTMIN + RTMAX) / 2)
		snprintf(buf, 16, "SIGRTMIN+%d", sig - RTMIN);
	else
		snprintf(buf, 16, "SIGRTMAX-%d", RTMAX - sig);
	return buf;
}

/* "+N"/"-N" after SIGRTMIN/SIGRTMAX; 0 for nothing; -1 when malformed. */
static int rt_offset(const char *s, int *off)
{
	*off = 0;
	if (!*s)
		return 0;
	if ((*s != '+' && *s != '-') || !isdigit((unsigned char)s[1]))
		return -1;
	char *end;
	long v = strtol(s + 1, &end, 10);
	if (*end || v > RTMAX)
		return -1;
	*off = *s == '-' ? -(int)v : (int)v;
	return 0;
}

int sig_number(const char *name)
{
	if (!name || !*name)
		return -1;
	if (isdigit((unsigned char)*name)) {
		char *end;
		long v = strtol(name, &end, 10);
		return *end || v < 1 || v > SIG_MAXNUM ? -1 : (int)v;
	}
	char up[32] = "SIG";
	size_t skip = strncasecmp(name, "SIG", 3) ? 0 : 3;
	if (strlen(name + skip) > sizeof(up) - 4)
		return -1;
	for (size_t i = 0; name[skip + i]; i++)
		up[3 + i] = (char)toupper((unsigned char)name[skip + i]);
	for (int s = 1; s < RTMIN; s++)
		if (!strcmp(up, names[s]))
			return s;
	for (size_t i = 0; i < JV_ARRAY_SIZE(aliases); i++)
		if (!strcmp(up, aliases[i].name))
			return aliases[i].sig;
	int off;
	if (!strncmp(up, "SIGRTMIN", 8) && rt_offset(up + 8, &off) == 0) {
		int s = RTMIN + off;
		return s >= RTMIN && s <= RTMAX ? s : -1;
	}
	if (!strncmp(up, "SIGRTMAX", 8) && rt_offset(up + 8, &off) == 0) {
		int s = RTMAX + off;
		return s >= RTMIN && s <= RTMAX ? s : -1;
	}
	return -1;
}

char **sig_mask_names(uint64_t mask)
{
	char **v = xcalloc(SIG_MAXNUM + 1, sizeof(*v));
	size_t n = 0;
	for (int s = 1; s <= SIG_MAXNUM; s++) {
		char buf[16];
		if (mask & (1ull << (s - 1)))
			v[n++] = xstrdup(sig_name(s, buf));
	}
	return v;
}

char *sig_flags_names(uint64_t flags)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} fl[] = {
	    {0x00000001, "SA_NOCLDSTOP"},      {0x00000002, "SA_NOCLDWAIT"},
	    {0x00000004, "SA_SIGINFO"},	       {0x00000400, "SA_UNSUPPORTED"},
	    {0x00000800, "SA_EXPOSE_TAGBITS"}, {0x04000000, "SA_RESTORER"},
	    {0x08000000, "SA_ONSTACK"},	       {0x10000000, "SA_RESTART"},
	    {0x40000000, "SA_NODEFER"},	       {0x80000000, "SA_RESETHAND"},
	};
	char buf[256] = "";
	size_t len = 0;
	for (size_t i = 0; i < JV_ARRAY_SIZE(fl); i++) {
		if (!(flags & fl[i].bit))
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "|" : "",
					fl[i].name);
		flags &= ~fl[i].bit;
	}
	if (flags)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s0x%llx", len ? "|" : "",
					(unsigned long long)flags);
	return xstrdup(len ? buf : "0");
}

static uint64_t hex_field(const char *status, const char *key)
{
	const char *p = procfs_field(status, key);
	return p ? strtoull(p, NULL, 16) : 0;
}

/* The syscall tid is in (its number and arguments), or -1. */
static int current_syscall(const struct hook_event *ev, pid_t tid, uint64_t args[6])
{
	if (ev && ev->tid == tid) {
		/* At its before-stop the thread is about to make the call. */
		if (ev->phase != HOOK_BEFORE || ev->abi != SYS_ABI_X86_64)
			return -1;
		memcpy(args, ev->args, sizeof(ev->args));
		return ev->sysno;
	}
	_cleanup_free_ char *s = NULL;
	struct jv_error ignored;
	if (procfs_read(tid, "syscall", &s, &ignored) < 0)
		return -1;
	char *p = s, *end;
	long nr = strtol(p, &end, 10);
	if (end == p || nr < 0)
		return -1;
	for (int i = 0; i < 6; i++) {
		p = end;
		args[i] = strtoull(p, &end, 16);
	}
	return (int)nr;
}

static void find_wait(const struct hook_event *ev, struct sig_info *out)
{
	uint64_t a[6];
	int nr = current_syscall(ev, out->tid, a);
	bool blocked = !ev || ev->tid != out->tid; /* seen through /proc: inside the call */
	uint64_t set = 0;
	struct jv_error ignored;
	out->has_saved = true;
	out->saved_mask = out->blocked;
	switch (nr) {
	case SYS_rt_sigtimedwait:
		if (mem_read(out->tid, a[0], &set, sizeof(set), &ignored) != sizeof(set))
			return;
		out->has_wait = true;
		out->wait_mask = set;
		/* Inside the call the kernel unblocks the set and keeps the real mask hidden. */
		out->has_saved = !blocked;
		break;
	case SYS_rt_sigsuspend:
		if (mem_read(out->tid, a[0], &set, sizeof(set), &ignored) != sizeof(set))
			return;
		out->has_wait = true;
		out->wait_mask = ~set;
		out->has_saved = !blocked;
		break;
	case SYS_pause:
		out->has_wait = true;
		out->wait_mask = ~out->blocked;
		break;
	default:
		break;
	}
}

/* Ask for the disposition of each signal by injecting rt_sigaction(sig, NULL,
 * &old) into the calling thread; old lands in a scratch slot below the red
 * zone of its stack (restored afterwards), or in a temporary mapping when
 * that slot cannot be used. */
static int query_actions(const struct hook_event *ev, struct sig_info *out, struct jv_error *e)
{
	uint64_t sp, scratch, saved[4], mapped = 0;
	int64_t r;
	if (tracer_thread_sp(ev->thread, &sp, e) < 0)
		return -1;
	scratch = (sp - 128 - 64) & ~15ull;
	bool on_stack = mem_read(ev->tid, scratch, saved, sizeof(saved), e) == sizeof(saved);
	if (!on_stack) {
		uint64_t a[6] = {
		    0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
		if (tracer_inject(ev->thread, SYS_mmap, a, &r, e) < 0)
			return -1;
		if (r < 0 && r >= -4095)
			return jv_err(e, (int)-r, "mmap of a scratch page in the program failed");
		scratch = mapped = (uint64_t)r;
	}
	int rc = 0;
	for (size_t i = 0; i < out->n_acts && rc == 0; i++) {
		struct sig_action *sa = &out->acts[i];
		uint64_t a[6] = {(uint64_t)sa->sig, 0, scratch, 8, 0, 0}, k[4];
		if (tracer_inject(ev->thread, SYS_rt_sigaction, a, &r, e) < 0) {
			rc = -1;
			break;
		}
		if (r != 0 || mem_read(ev->tid, scratch, k, sizeof(k), e) != sizeof(k))
			continue;
		sa->known = true;
		sa->handler = k[0];
		sa->flags = k[1];
		sa->restorer = k[2];
		sa->mask = k[3];
	}
	if (on_stack) {
		struct jv_error ignored;
		mem_write(ev->tid, scratch, saved, sizeof(saved), &ignored);
	} else {
		uint64_t a[6] = {mapped, 4096, 0, 0, 0, 0};
		struct jv_error ignored;
		tracer_inject(ev->thread, SYS_munmap, a, &r, &ignored);
	}
	return rc;
}

int sig_info(const struct hook_event *ev, pid_t tid, struct sig_info *out, struct jv_error *e)
{
	memset(out, 0, sizeof(*out));
	out->tid = tid;
	_cleanup_free_ char *status = NULL;
	if (procfs_read(tid, "status", &status, e) < 0)
		return -1;
	const char *tg = procfs_field(status, "Tgid");
	pid_t tgid = tg ? atoi(tg) : tid;
	out->pending = hex_field(status, "SigPnd");
	out->shared_pending = hex_field(status, "ShdPnd");
	out->blocked = hex_field(status, "SigBlk");
	out->ignored = hex_field(status, "SigIgn");
	out->caught = hex_field(status, "SigCgt");
	find_wait(ev, out);
	uint64_t set = out->ignored | out->caught;
	out->acts = xcalloc(SIG_MAXNUM, sizeof(*out->acts));
	for (int s = 1; s <= SIG_MAXNUM; s++) {
		if (!(set & (1ull << (s - 1))))
			continue;
		struct sig_action *sa = &out->acts[out->n_acts++];
		sa->sig = s;
		sa->handler = (out->ignored & (1ull << (s - 1))) ? 1 : 0;
	}
	/* Handler details need a syscall injected into a thread stopped by ptrace
	 * (not one waiting for a seccomp notification's answer). */
	if (ev && ev->thread && ev->pid == tgid && ev->abi == SYS_ABI_X86_64 && out->n_acts &&
	    query_actions(ev, out, e) < 0) {
		sig_info_free(out);
		return -1;
	}
	return 0;
}

void sig_info_free(struct sig_info *s)
{
	free(s->acts);
	s->acts = NULL;
	s->n_acts = 0;
}
