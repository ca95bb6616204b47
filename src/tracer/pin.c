/* pinString / pinBytes: decide on exactly the bytes the kernel will read.
 *
 * A pointer argument names memory the program can change at any time (another
 * thread, a process sharing the page, a clone(CLONE_VM) child), so what a hook
 * reads is not what the kernel reads later. Pinning copies the argument into
 * memory nobody in the program can write and points the register at the copy;
 * the hook decides on the copy, and the kernel reads the copy.
 *
 * That memory is a region per process: a memfd created by jvisor, mapped
 * writable in jvisor and sealed (F_SEAL_FUTURE_WRITE | SHRINK | GROW | SEAL:
 * no write(), no new writable mapping, no truncation; jvisor's own mapping
 * stays writable). The program gets a read-only descriptor of it through an
 * injected socketpair + recvmsg (SCM_RIGHTS), maps it PROT_READ | MAP_SHARED
 * (no VM_MAYWRITE: mprotect cannot make it writable, and /proc/PID/mem cannot
 * write it: forced writes only go to private mappings), marks it
 * MADV_DONTFORK and seals the mapping with mseal() (Linux 6.10: no munmap,
 * mremap, mmap over it or mprotect). jvisor then checks in /proc/PID/smaps
 * that the range is its file, read-only, shared and sealed: a program that
 * raced the setup (its own mapping at that address, a forged result of an
 * injected call) fails the check. Every step is injected into the hook's
 * thread; the region is made once per process and reused: a pinned copy
 * occupies whole pages of it until the call's syscall-exit stop, where the
 * program's own register values are put back (the kernel preserves them). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/user.h>

#include "accessors/mem.h"
#include "common/util.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

#ifndef __NR_mseal
#define __NR_mseal 462
#endif

#define PIN_PAGE 4096u
#define PIN_PAGES 64u /* one region: 256 KiB */
#define PIN_SIZE (PIN_PAGE * PIN_PAGES)

struct region {
	unsigned id;
	pid_t tgid;
	int fd;		 /* jvisor's memfd */
	uint8_t *local;	 /* jvisor's writable mapping */
	uint64_t remote; /* the program's read-only, sealed mapping */
	uint64_t busy;	 /* one bit per page */
	struct region *next;
};

static struct region *regions;
static unsigned next_id = 1;

static void region_free(struct region *r)
{
	munmap(r->local, PIN_SIZE);
	close(r->fd);
	free(r);
}

void pin_forget(pid_t tgid)
{
	for (struct region **p = &regions; *p;) {
		struct region *r = *p;
		if (r->tgid == tgid) {
			*p = r->next;
			region_free(r);
		} else {
			p = &r->next;
		}
	}
}

static uint64_t run_mask(unsigned first, unsigned n)
{
	return (n >= 64 ? ~0ull : (1ull << n) - 1) << first;
}

static void unref(struct pin_ref *ref)
{
	if (!ref->count)
		return;
	for (struct region *r = regions; r; r = r->next)
		if (r->id == ref->region)
			r->busy &= ~run_mask(ref->first, ref->count);
	*ref = (struct pin_ref){0};
}

void pin_release(struct thread *t)
{
	for (int i = 0; i < 6; i++)
		unref(&t->pins[i]);
}

/* A free run of n pages in r, or -1. */
static int find_run(const struct region *r, unsigned n)
{
	for (unsigned i = 0; i + n <= PIN_PAGES; i++)
		if (!(r->busy & run_mask(i, n)))
			return (int)i;
	return -1;
}

/* Run nr(args) in t; -1 with *e filled when the injection or the call failed. */
static int run(struct thread *t, int nr, const char *what, uint64_t a0, uint64_t a1, uint64_t a2,
	       uint64_t a3, uint64_t a4, int64_t *res, struct jv_error *e)
{
	uint64_t a[6] = {a0, a1, a2, a3, a4, 0};
	if (tracer_inject(t, nr, a, res, e) < 0)
		return -1;
	if (*res < 0 && *res >= -4095)
		return jv_err(e, (int)-*res, "%s in the program failed", what);
	return 0;
}

/* jvisor's side: a sealed memfd mapped writable here, and a read-only
 * descriptor of it to hand over. */
static int make_file(struct region *r, int *ro, struct jv_error *e)
{
	r->fd = (int)syscall(SYS_memfd_create, "jvisor-pin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r->fd < 0)
		return jv_err(e, errno, "memfd_create");
	if (ftruncate(r->fd, PIN_SIZE) < 0)
		return jv_err(e, errno, "ftruncate of the pin region");
	void *m = mmap(NULL, PIN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (m == MAP_FAILED)
		return jv_err(e, errno, "mmap of the pin region");
	r->local = m;
	if (fcntl(r->fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		return jv_err(e, errno, "sealing the pin region");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
	*ro = open(path, O_RDONLY | O_CLOEXEC);
	if (*ro < 0)
		return jv_err(e, errno, "open %s", path);
	return 0;
}

/* Scratch memory below the stack's red zone of t, saved and put back. */
struct scratch {
	uint64_t at;
	uint8_t saved[256];
	pid_t tid;
};

static void scratch_restore(struct scratch *s)
{
	struct jv_error ignored;
	if (s->at)
		mem_write(s->tid, s->at, s->saved, sizeof(s->saved), &ignored);
}

/* Hand the read-only descriptor ro to the program: an injected socketpair,
 * SCM_RIGHTS from jvisor's end, an injected recvmsg. Returns the program's
 * fd number in *fd_out (its other fds closed). */
static int hand_over(struct thread *t, int ro, struct scratch *s, int *fd_out, struct jv_error *e)
{
	int64_t res;
	int sv[2];
	uint64_t sv_at = s->at, msg_at = s->at + 16, iov_at = s->at + 80, byte_at = s->at + 96,
		 cmsg_at = s->at + 128;
	if (run(t, SYS_socketpair, "socketpair", AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv_at, 0,
		&res, e) < 0)
		return -1;
	if (mem_read(t->tid, sv_at, sv, sizeof(sv), e) != sizeof(sv))
		return jv_err(e, EFAULT, "reading the socketpair of the program");
	int rc = -1;
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, t->tgid, 0);
	_cleanup_close_ int mine = -1;
	if (pidfd < 0) {
		jv_err(e, errno, "pidfd_open(%d)", (int)t->tgid);
		goto out;
	}
	mine = (int)syscall(SYS_pidfd_getfd, pidfd, sv[0], 0);
	if (mine < 0) {
		jv_err(e, errno, "pidfd_getfd of the program's socket");
		goto out;
	}
	char byte = 'p';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &ro, sizeof(int));
	if (sendmsg(mine, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) {
		jv_err(e, errno, "sending the pin region to the program");
		goto out;
	}
	/* The same message, laid out in the program for its recvmsg. */
	struct msghdr rm = {.msg_iov = (void *)(uintptr_t)iov_at,
			    .msg_iovlen = 1,
			    .msg_control = (void *)(uintptr_t)cmsg_at,
			    .msg_controllen = sizeof(u.buf)};
	struct iovec riov = {(void *)(uintptr_t)byte_at, 1};
	memset(u.buf, 0, sizeof(u.buf));
	if (mem_write(t->tid, msg_at, &rm, sizeof(rm), e) != sizeof(rm) ||
	    mem_write(t->tid, iov_at, &riov, sizeof(riov), e) != sizeof(riov) ||
	    mem_write(t->tid, cmsg_at, u.buf, sizeof(u.buf), e) != sizeof(u.buf))
		goto out;
	if (run(t, SYS_recvmsg, "recvmsg", (uint64_t)sv[1], msg_at, MSG_CMSG_CLOEXEC | MSG_DONTWAIT,
		0, 0, &res, e) < 0)
		goto out;
	if (mem_read(t->tid, cmsg_at, u.buf, sizeof(u.buf), e) != sizeof(u.buf))
		goto out;
	c = (struct cmsghdr *)u.buf;
	if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int))) {
		jv_err(e, EBUSY, "the program did not receive the pin region");
		goto out;
	}
	memcpy(fd_out, CMSG_DATA(c), sizeof(int));
	rc = 0;
out:
	run(t, SYS_close, "close", (uint64_t)sv[0], 0, 0, 0, 0, &res, &(struct jv_error){0});
	run(t, SYS_close, "close", (uint64_t)sv[1], 0, 0, 0, 0, &res, &(struct jv_error){0});
	return rc;
}

/* Is [at, at + PIN_SIZE) in tgid one read-only shared mapping of file st,
 * sealed and never writable? Read from the kernel, whatever the injected
 * calls returned. */
static bool mapping_ok(pid_t tgid, uint64_t at, const struct stat *st)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)tgid);
	_cleanup_free_ char *s = NULL;
	if (jv_read_file(path, &s) < 0)
		return false;
	char head[64];
	snprintf(head, sizeof(head), "%llx-%llx ", (unsigned long long)at,
		 (unsigned long long)(at + PIN_SIZE));
	char *p = strstr(s, head);
	if (!p || (p != s && p[-1] != '\n'))
		return false;
	unsigned long long off, ino;
	unsigned maj, min;
	char perms[8];
	if (sscanf(p + strlen(head), "%4s %llx %x:%x %llu", perms, &off, &maj, &min, &ino) != 5 ||
	    strcmp(perms, "r--s") != 0 || off != 0 || ino != st->st_ino ||
	    makedev(maj, min) != st->st_dev)
		return false;
	char *flags = strstr(p, "\nVmFlags:");
	if (!flags)
		return false;
	char *end = strchr(flags + 1, '\n');
	if (end)
		*end = '\0';
	/* sl: sealed; mw: may become writable (must be absent); wr: writable. */
	return strstr(flags, " sl") && !strstr(flags, " mw") && !strstr(flags, " wr");
}

/* Has the kernel mseal() (Linux 6.10)? Without it the program could replace
 * the copy's mapping: pinning is refused. Asked of jvisor's own kernel, not of
 * the program (its own seccomp filter may answer ENOSYS). */
static bool have_mseal(void)
{
	static int known = -1;
	if (known < 0)
		known = syscall(__NR_mseal, 0, 0, 0) == 0 || errno != ENOSYS;
	return known;
}

static struct region *region_new(struct thread *t, struct jv_error *e)
{
	if (!have_mseal())
		return jv_err(e, ENOSYS, "needs mseal() (Linux 6.10) to seal the copy"), NULL;
	struct region *r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	r->tgid = t->tgid;
	_cleanup_close_ int ro = -1;
	struct scratch s = {.tid = t->tid};
	int fd = -1;
	int64_t res;
	uint64_t sp;
	if (make_file(r, &ro, e) < 0 || tracer_thread_sp(t, &sp, e) < 0)
		goto fail;
	s.at = (sp - 128 - sizeof(s.saved)) & ~15ull;
	if (mem_read(t->tid, s.at, s.saved, sizeof(s.saved), e) != sizeof(s.saved)) {
		s.at = 0;
		jv_err(e, EFAULT, "the program's stack is not usable for the pin setup");
		goto fail;
	}
	int rc = hand_over(t, ro, &s, &fd, e);
	scratch_restore(&s);
	if (rc < 0)
		goto fail;
	rc = run(t, SYS_mmap, "mmap of the pin region", 0, PIN_SIZE, PROT_READ, MAP_SHARED,
		 (uint64_t)fd, &res, e);
	run(t, SYS_close, "close", (uint64_t)fd, 0, 0, 0, 0, &(int64_t){0}, &(struct jv_error){0});
	if (rc < 0)
		goto fail;
	r->remote = (uint64_t)res;
	if (run(t, SYS_madvise, "madvise(MADV_DONTFORK)", r->remote, PIN_SIZE, MADV_DONTFORK, 0, 0,
		&res, e) < 0)
		goto fail;
	if (run(t, __NR_mseal, "mseal", r->remote, PIN_SIZE, 0, 0, 0, &res, e) < 0)
		goto fail;
	struct stat st;
	if (fstat(r->fd, &st) < 0 || !mapping_ok(t->tgid, r->remote, &st)) {
		jv_err(e, EBUSY,
		       "the copy's mapping at 0x%llx is not jvisor's sealed read-only region (the "
		       "program changed its memory map meanwhile, or answered an injected call "
		       "itself)",
		       (unsigned long long)r->remote);
		goto fail;
	}
	r->id = next_id++;
	r->next = regions;
	regions = r;
	return r;
fail:
	if (r->remote && !t->gone) /* not sealed (or not ours): fails harmlessly */
		run(t, SYS_munmap, "munmap", r->remote, PIN_SIZE, 0, 0, 0, &res,
		    &(struct jv_error){0});
	if (r->local)
		munmap(r->local, PIN_SIZE);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
	return NULL;
}

/* Read the argument: a NUL-terminated string of at most max bytes with its
 * NUL, or exactly len bytes. Returns its length (the NUL included). */
static ssize_t read_arg(pid_t tid, uint64_t addr, size_t max, bool string, uint8_t *buf,
			struct jv_error *e)
{
	if (!string) {
		ssize_t r = mem_read(tid, addr, buf, max, e);
		if (r >= 0 && (size_t)r != max)
			return jv_err(e, EFAULT, "only %zd of %zu bytes at 0x%llx are readable", r,
				      max, (unsigned long long)addr);
		return r;
	}
	size_t len = 0;
	while (len < max) {
		uint64_t at = addr + len;
		size_t chunk = PIN_PAGE - (size_t)(at % PIN_PAGE);
		if (chunk > max - len)
			chunk = max - len;
		ssize_t r = mem_read(tid, at, buf + len, chunk, e);
		if (r < 0)
			return -1;
		uint8_t *nul = memchr(buf + len, '\0', (size_t)r);
		if (nul)
			return nul - buf + 1;
		len += (size_t)r;
		if ((size_t)r < chunk)
			return jv_err(e, EFAULT, "the string at 0x%llx runs into unmapped memory",
				      (unsigned long long)addr);
	}
	return jv_err(e, ENAMETOOLONG, "no NUL in the %zu bytes at 0x%llx", max,
		      (unsigned long long)addr);
}

ssize_t tracer_pin(void *thread, int argi, size_t max, bool string, uint8_t **out,
		   struct jv_error *e)
{
	struct thread *t = thread;
	if (!t)
		return tracer_not_stopped(e);
	if (t->gone)
		return jv_err(e, ESRCH, "the thread has exited");
	if (t->ev.phase != HOOK_BEFORE)
		return jv_err(e, EINVAL, "only a before-hook can pin an argument");
	if (t->ev.abi != SYS_ABI_X86_64)
		return jv_err(e, ENOSYS, "cannot pin an argument of a %s syscall",
			      sys_abi_name(t->ev.abi));
	if (argi < 0 || argi > 5)
		return jv_err(e, EINVAL, "argument index %d is not 0..5", argi);
	if (max == 0 || max > PIN_SIZE)
		return jv_err(e, EINVAL, "size %zu is not 1..%u", max, PIN_SIZE);
	_cleanup_free_ uint8_t *buf = xmalloc(max);
	ssize_t n = read_arg(t->tid, t->ev.args[argi], max, string, buf, e);
	if (n < 0)
		return -1;
	unsigned pages = (unsigned)((size_t)n + PIN_PAGE - 1) / PIN_PAGE;
	struct region *r = regions;
	int first = -1;
	for (; r; r = r->next)
		if (r->tgid == t->tgid && (first = find_run(r, pages)) >= 0)
			break;
	if (!r) {
		if (!(r = region_new(t, e)))
			return -1;
		first = 0;
	}
	/* Release the same argument's earlier copy (the one just read, perhaps). */
	unref(&t->pins[argi]);
	uint8_t *dst = r->local + (size_t)first * PIN_PAGE;
	memcpy(dst, buf, (size_t)n);
	memset(dst + n, 0, (size_t)pages * PIN_PAGE - (size_t)n);
	r->busy |= run_mask((unsigned)first, pages);
	t->pins[argi] = (struct pin_ref){r->id, (uint16_t)first, (uint16_t)pages};
	uint64_t copy = r->remote + (uint64_t)first * PIN_PAGE;
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_GETREGS)");
	regs_set_arg(&regs, t->ev.abi, argi, copy);
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_SETREGS)");
	t->ev.args[argi] = copy;
	t->args_changed |= 1u << argi; /* put back at the exit stop */
	/* What the hook gets is read back from the copy the kernel will read. */
	*out = xmalloc((size_t)n);
	memcpy(*out, dst, (size_t)n);
	return string ? n - 1 : n;
}
