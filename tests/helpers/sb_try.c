/* sb_try: make the syscalls named on the command line and print one line per
 * call, "NAME ok" or "NAME ERRNO" (like bubblewrap's tests/try-syscall.c).
 * Arguments are chosen so that a native call fails harmlessly with an error
 * other than EPERM, or succeeds without side effects; a sandbox denial shows
 * as EPERM. A few entries take a value after ':' (a pid, a path).
 *   sb_try bpf kill:1234 io_uring_read:/etc/hostname int80_getpid */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

struct clone_args_min {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static const char *ename(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case ESRCH:
		return "ESRCH";
	case EBADF:
		return "EBADF";
	case EFAULT:
		return "EFAULT";
	case EINVAL:
		return "EINVAL";
	case ENOSYS:
		return "ENOSYS";
	case EACCES:
		return "EACCES";
	case EROFS:
		return "EROFS";
	case ENETUNREACH:
		return "ENETUNREACH";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENOEXEC:
		return "ENOEXEC";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	default: {
		static char buf[32];
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
	}
}

/* Read a file with io_uring only (OPENAT, READ): prints its first line. */
static long io_uring_read(const char *path, char *out, size_t outsz)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	int fd = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (fd < 0)
		return -errno;
	size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	char *sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			IORING_OFF_SQ_RING);
	char *cq = mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes =
	    mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return -errno;
	unsigned *sq_tail = (unsigned *)(sq + p.sq_off.tail);
	unsigned *sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	unsigned *sq_array = (unsigned *)(sq + p.sq_off.array);
	unsigned *cq_head = (unsigned *)(cq + p.cq_off.head);
	unsigned *cq_tail = (unsigned *)(cq + p.cq_off.tail);
	unsigned *cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	int file = -1;
	for (int step = 0; step < 2; step++) {
		unsigned tail = *sq_tail, idx = tail & *sq_mask;
		struct io_uring_sqe *s = &sqes[idx];
		memset(s, 0, sizeof(*s));
		if (step == 0) {
			s->opcode = IORING_OP_OPENAT;
			s->fd = AT_FDCWD;
			s->addr = (uintptr_t)path;
			s->open_flags = O_RDONLY;
		} else {
			s->opcode = IORING_OP_READ;
			s->fd = file;
			s->addr = (uintptr_t)out;
			s->len = (unsigned)outsz - 1;
		}
		sq_array[idx] = idx;
		__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
		if (syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
			return -errno;
		unsigned head = __atomic_load_n(cq_head, __ATOMIC_ACQUIRE);
		if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE))
			return -EIO;
		int res = cqes[head & *cq_mask].res;
		__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
		if (res < 0)
			return res;
		if (step == 0)
			file = res;
		else
			out[res] = 0;
	}
	return 0;
}

/* A filter that hands bpf() to a user-space notifier which lets it continue:
 * USER_NOTIF takes precedence over a tracer's RET_TRACE. Returns what bpf()
 * then returned (-errno), or the failure of seccomp() itself. */
static long notifier_fd = -1;

static void *notifier(void *arg)
{
	(void)arg;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	memset(&req, 0, sizeof(req));
	if (ioctl((int)notifier_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return NULL;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	ioctl((int)notifier_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	return NULL;
}

static long notif_bypass(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bpf, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	notifier_fd =
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (notifier_fd < 0)
		return -1;
	pthread_t t;
	pthread_create(&t, NULL, notifier, NULL);
	long r = syscall(SYS_bpf, 0xffff, NULL, 0);
	int saved = errno;
	pthread_join(t, NULL);
	printf("notif_bypass bpf %s\n", r < 0 ? ename(saved) : "ok");
	return 0;
}

static long try(const char *name, const char *arg, char *extra, size_t extrasz)
{
	long a = arg ? strtol(arg, NULL, 0) : 0;
	if (arg && !strcmp(arg, "ppid"))
		a = getppid(); /* jvisor, when it runs the helper without --isolate */
	if (!strcmp(name, "getpid"))
		return syscall(SYS_getpid);
	if (!strcmp(name, "io_uring_setup")) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		return syscall(SYS_io_uring_setup, 1, &p);
	}
	if (!strcmp(name, "io_uring_read")) {
		long r = io_uring_read(arg, extra, extrasz);
		if (r < 0) {
			errno = (int)-r;
			return -1;
		}
		char *nl = strchr(extra, '\n');
		if (nl)
			*nl = 0;
		return 0;
	}
	if (!strcmp(name, "bpf"))
		return syscall(SYS_bpf, 0xffff, NULL, 0);
	if (!strcmp(name, "perf_event_open"))
		return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	if (!strcmp(name, "kexec_load"))
		return syscall(SYS_kexec_load, 0, 0, NULL, 0xffffffffUL);
	if (!strcmp(name, "init_module"))
		return syscall(SYS_init_module, NULL, 0, "");
	if (!strcmp(name, "finit_module"))
		return syscall(SYS_finit_module, -1, "", 0);
	if (!strcmp(name, "delete_module"))
		return syscall(SYS_delete_module, "jvisor_no_such_module", O_NONBLOCK);
	if (!strcmp(name, "userfaultfd"))
		return syscall(SYS_userfaultfd, 0xffffff);
	if (!strcmp(name, "keyctl"))
		return syscall(SYS_keyctl, 0xffff, 0, 0, 0, 0);
	if (!strcmp(name, "add_key"))
		return syscall(SYS_add_key, NULL, NULL, NULL, 0, 0);
	if (!strcmp(name, "request_key"))
		return syscall(SYS_request_key, NULL, NULL, NULL, 0);
	if (!strcmp(name, "open_by_handle_at"))
		return syscall(SYS_open_by_handle_at, -1, NULL, 0);
	if (!strcmp(name, "mount"))
		return syscall(SYS_mount, NULL, NULL, NULL, 0, NULL);
	if (!strcmp(name, "umount2"))
		return syscall(SYS_umount2, "/jvisor-no-such-dir", 0);
	if (!strcmp(name, "pivot_root"))
		return syscall(SYS_pivot_root, NULL, NULL);
	if (!strcmp(name, "unshare"))
		return syscall(SYS_unshare, 0);
	if (!strcmp(name, "setns"))
		return syscall(SYS_setns, -1, 0);
	if (!strcmp(name, "clone_ns") || !strcmp(name, "clone3_ns") || !strcmp(name, "fork")) {
		long pid;
		if (!strcmp(name, "clone3_ns")) {
			struct clone_args_min ca;
			memset(&ca, 0, sizeof(ca));
			ca.flags = CLONE_NEWUTS;
			ca.exit_signal = SIGCHLD;
			pid = syscall(SYS_clone3, &ca, sizeof(ca));
		} else {
			pid =
			    syscall(SYS_clone, (!strcmp(name, "fork") ? 0 : CLONE_NEWUTS) | SIGCHLD,
				    0, 0, 0, 0);
		}
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return pid < 0 ? -1 : 0;
	}
	if (!strcmp(name, "personality")) {
		long old = syscall(SYS_personality, 0xffffffffUL);
		long r = syscall(SYS_personality, (unsigned long)a);
		if (r >= 0)
			syscall(SYS_personality, (unsigned long)old);
		return r < 0 ? -1 : 0;
	}
	if (!strcmp(name, "ptrace_attach")) {
		long r = ptrace(PTRACE_SEIZE, (pid_t)a, 0, 0);
		if (r == 0)
			ptrace(PTRACE_DETACH, (pid_t)a, 0, 0);
		return r;
	}
	if (!strcmp(name, "kill"))
		return kill((pid_t)a, 0);
	if (!strcmp(name, "kill_term"))
		return kill((pid_t)a, SIGTERM);
	if (!strcmp(name, "kill_kill"))
		return kill((pid_t)a, SIGKILL);
	if (!strcmp(name, "tkill"))
		return syscall(SYS_tkill, (pid_t)a, 0);
	if (!strcmp(name, "tgkill"))
		return syscall(SYS_tgkill, (pid_t)a, (pid_t)a, 0);
	if (!strcmp(name, "pidfd_open")) {
		long fd = syscall(SYS_pidfd_open, (pid_t)a, 0);
		if (fd >= 0)
			close((int)fd);
		return fd < 0 ? -1 : 0;
	}
	if (!strcmp(name, "pidfd_signal")) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld", a);
		int fd = open(path, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return -1;
		long r = syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0);
		int saved = errno;
		close(fd);
		errno = saved;
		return r;
	}
	if (!strcmp(name, "process_vm_readv")) {
		char buf[8];
		struct iovec l = {buf, sizeof(buf)}, r = {(void *)&l, sizeof(buf)};
		return process_vm_readv((pid_t)a, &l, 1, &r, 1, 0);
	}
	if (!strcmp(name, "proc_mem")) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/mem", a);
		int fd = open(path, O_RDONLY);
		if (fd >= 0)
			close(fd);
		return fd < 0 ? -1 : 0;
	}
	if (!strcmp(name, "int80_getpid")) {
		long r;
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20) : "memory");
		if (r < 0) {
			errno = (int)-r;
			return -1;
		}
		return r;
	}
	if (!strcmp(name, "fsetown") || !strcmp(name, "fsetown_hi") ||
	    !strcmp(name, "fsetown_ex") || !strcmp(name, "fiosetown")) {
		/* Ask the kernel to send SIGIO for a socket to pid a. */
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return -1;
		long r;
		if (!strcmp(name, "fsetown")) {
			r = fcntl(sv[0], F_SETOWN, (int)a);
		} else if (!strcmp(name, "fsetown_hi")) {
			/* The kernel reads cmd as an unsigned int: the high bits are noise. */
			r = syscall(SYS_fcntl, sv[0], (1UL << 32) | F_SETOWN, a);
		} else if (!strcmp(name, "fsetown_ex")) {
			struct f_owner_ex o = {F_OWNER_PID, (pid_t)a};
			r = fcntl(sv[0], F_SETOWN_EX, &o);
		} else {
			int owner = (int)a;
			r = ioctl(sv[0], FIOSETOWN, &owner);
		}
		int saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return r;
	}
	if (!strcmp(name, "tgkill_hi"))
		return syscall(SYS_tgkill, (1UL << 32) | (unsigned long)a, (pid_t)a, 0);
	if (!strcmp(name, "prlimit")) {
		/* Read (not change) the limits of pid a: enough to show the call is allowed. */
		struct rlimit rl;
		return syscall(SYS_prlimit64, (pid_t)a, RLIMIT_NOFILE, NULL, &rl);
	}
	if (!strcmp(name, "tiocsti")) {
		/* On a fresh pty: pushes a byte into its input. */
		int m = posix_openpt(O_RDWR | O_NOCTTY);
		if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
			return -1;
		int sl = open(ptsname(m), O_RDWR | O_NOCTTY);
		if (sl < 0)
			return -1;
		char c = 'x';
		long r = ioctl(sl, TIOCSTI, &c);
		int saved = errno;
		close(sl);
		close(m);
		errno = saved;
		return r;
	}
	if (!strcmp(name, "notif_bypass"))
		return notif_bypass();
	if (!strcmp(name, "setpgid"))
		return setpgid(0, 0);
	if (!strcmp(name, "x32_getpid")) {
		/* getpid (39) through the x32 ABI: the same syscall instruction, bit 30 set. */
		long r;
		__asm__ volatile("syscall"
				 : "=a"(r)
				 : "a"(39L | 0x40000000L)
				 : "rcx", "r11", "memory");
		if (r < 0) {
			errno = (int)-r;
			return -1;
		}
		return r;
	}
	if (!strcmp(name, "int80_bpf")) {
		long r;
		/* i386 bpf is 357: cmd 0xffff is invalid (EINVAL natively). */
		__asm__ volatile("int $0x80"
				 : "=a"(r)
				 : "a"(357), "b"(0xffff), "c"(0), "d"(0)
				 : "memory");
		if (r < 0) {
			errno = (int)-r;
			return -1;
		}
		return r;
	}
	if (!strcmp(name, "write_file")) {
		int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return -1;
		close(fd);
		unlink(arg);
		return 0;
	}
	if (!strcmp(name, "connect")) {
		/* connect:IP:PORT over TCP, 2 s at most. */
		char ip[64];
		snprintf(ip, sizeof(ip), "%s", arg);
		char *colon = strrchr(ip, ':');
		*colon = 0;
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
		inet_pton(AF_INET, ip, &sa.sin_addr);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return -1;
		struct timeval tv = {2, 0};
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		long r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
		int saved = errno;
		close(s);
		errno = saved;
		return r;
	}
	fprintf(stderr, "sb_try: unknown call %s\n", name);
	exit(2);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s", argv[i]);
		char *colon = strchr(name, ':');
		const char *arg = NULL;
		if (colon) {
			*colon = 0;
			arg = argv[i] + (colon - name) + 1;
		}
		char extra[256] = "";
		errno = 0;
		long r = try(name, arg, extra, sizeof(extra));
		if (r < 0)
			printf("%s %s\n", name, ename(errno));
		else if (extra[0])
			printf("%s ok %s\n", name, extra);
		else
			printf("%s ok\n", name);
		fflush(stdout);
	}
	return 0;
}
