/* Makes syscalls with known arguments, one per argument role, and prints the
 * record it expects for each: "EXPECT {name, args, ret, errno}" as JSON. The
 * test finds the record of each call in jvisor's log and compares.
 * Usage: log_args DIR (an empty scratch directory). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void expect(const char *name, long ret, const char *fmt, ...)
{
	char args[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	int err = ret < 0 ? errno : 0;
	printf("EXPECT {\"name\":\"%s\",\"args\":[%s],\"ret\":%ld,\"errno\":%d}\n", name, args,
	       ret < 0 ? -1L : ret, err);
	fflush(stdout);
}

/* {"fd":N,"path":"..."} as the log shows a descriptor. */
static const char *fdj(int fd)
{
	static char bufs[4][PATH_MAX + 64];
	static int n;
	char link[64], target[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t len = readlink(link, target, sizeof(target) - 1);
	target[len > 0 ? len : 0] = '\0';
	char *b = bufs[n++ % 4];
	snprintf(b, PATH_MAX + 64, "{\"fd\":%d,\"path\":\"%s\"}", fd, target);
	return b;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *dir = argv[1];
	char path[PATH_MAX], sock_path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/file.txt", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);

	/* path, flags:open, mode */
	long fd =
	    syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	expect("openat", fd, "\"AT_FDCWD\",\"%s\",\"O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC\",\"0640\"",
	       path);
	/* fd with its path, bufin (escaped) */
	long r = syscall(SYS_write, fd, "hi\n\"x\"\t\x01", 8);
	expect("write", r, "%s,\"hi\\n\\\"x\\\"\\t\\u0001\",8", fdj((int)fd));
	/* iovin */
	struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
	r = syscall(SYS_writev, fd, iov, 2);
	expect("writev", r, "%s,[\"ab\",\"cde\"],2", fdj((int)fd));
	/* off */
	r = syscall(SYS_pwrite64, fd, "Z", 1, 13);
	expect("pwrite64", r, "%s,\"Z\",1,13", fdj((int)fd));
	syscall(SYS_close, fd);

	/* dirfd with its path, flags:at... */
	long dfd = syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
	fd = syscall(SYS_openat, dfd, "file.txt", O_RDONLY, 0);
	expect("openat", fd, "%s,\"file.txt\",\"O_RDONLY\",\"0000\"", fdj((int)dfd));
	/* bufout: what the kernel filled, as long as the return value */
	char buf[64];
	r = syscall(SYS_read, fd, buf, sizeof(buf));
	expect("read", r, "%s,\"hi\\n\\\"x\\\"\\t\\u0001abcdeZ\",64", fdj((int)fd));
	/* enum:seek */
	r = syscall(SYS_lseek, fd, 2, SEEK_SET);
	expect("lseek", r, "%s,2,\"SEEK_SET\"", fdj((int)fd));
	/* iovout: filled up to the return value */
	char b1[3], b2[4];
	struct iovec oiov[2] = {{b1, 3}, {b2, 4}};
	r = syscall(SYS_readv, fd, oiov, 2);
	expect("readv", r, "%s,[\"\\n\\\"x\",\"\\\"\\t\\u0001a\"],2", fdj((int)fd));
	syscall(SYS_close, fd);
	struct stat st;
	r = syscall(SYS_newfstatat, dfd, "file.txt", &st, AT_SYMLINK_NOFOLLOW);
	expect("newfstatat", r, "%s,\"file.txt\",\"%p\",\"AT_SYMLINK_NOFOLLOW\"", fdj((int)dfd),
	       (void *)&st);
	syscall(SYS_close, dfd);

	/* pathout */
	char cwd[PATH_MAX];
	r = syscall(SYS_getcwd, cwd, sizeof(cwd));
	expect("getcwd", r, "\"%s\",%zu", cwd, sizeof(cwd));
	/* flags:access */
	r = syscall(SYS_access, path, R_OK | W_OK);
	expect("access", r, "\"%s\",\"R_OK|W_OK\"", path);

	/* flags:prot, flags:map, a pointer, fd -1 */
	long m =
	    syscall(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect("mmap", m, "null,8192,\"PROT_READ|PROT_WRITE\",\"MAP_PRIVATE|MAP_ANONYMOUS\",-1,0");
	r = syscall(SYS_mprotect, m + 4096, 4096, PROT_NONE);
	expect("mprotect", r, "\"%p\",4096,\"PROT_NONE\"", (void *)(m + 4096));
	/* Bad pointers: the raw address with the error, the call fails as natively. */
	r = syscall(SYS_openat, AT_FDCWD, (char *)1, O_RDONLY, 0);
	expect("openat", r,
	       "\"AT_FDCWD\",{\"addr\":\"0x1\",\"error\":\"EFAULT\"},\"O_RDONLY\",\"0000\"");
	r = syscall(SYS_write, -1, (char *)(m + 4096), 5);
	expect("write", r, "-1,{\"addr\":\"%p\",\"error\":\"EFAULT\"},5", (void *)(m + 4096));
	/* A string running into an unreadable page. */
	char *edge = (char *)m + 4096 - 3;
	memcpy(edge, "abc", 3);
	r = syscall(SYS_chdir, edge);
	expect("chdir", r, "\"abc\"");

	/* enum:af, flags:sock, sockaddr (inet) */
	long s = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	expect("socket", s, "\"AF_INET\",\"SOCK_STREAM|SOCK_CLOEXEC\",0");
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1)};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	r = syscall(SYS_connect, s, &sin, sizeof(sin));
	expect("connect", r, "%s,{\"family\":\"AF_INET\",\"addr\":\"127.0.0.1\",\"port\":1},16",
	       fdj((int)s));
	syscall(SYS_close, s);
	/* sockaddr (inet6) */
	s = syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0);
	if (s >= 0) {
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
		inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
		r = syscall(SYS_connect, s, &sin6, sizeof(sin6));
		expect("connect", r, "%s,{\"family\":\"AF_INET6\",\"addr\":\"::1\",\"port\":9},28",
		       fdj((int)s));
		syscall(SYS_close, s);
	}
	/* sockaddr (unix), sockaddrout */
	s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	strcpy(sun.sun_path, sock_path);
	socklen_t slen =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock_path) + 1);
	r = syscall(SYS_bind, s, &sun, slen);
	expect("bind", r, "%s,{\"family\":\"AF_UNIX\",\"path\":\"%s\"},%u", fdj((int)s), sock_path,
	       slen);
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	r = syscall(SYS_getsockname, s, &got, &glen);
	expect("getsockname", r, "%s,{\"family\":\"AF_UNIX\",\"path\":\"%s\"},\"%p\"", fdj((int)s),
	       sock_path, (void *)&glen);
	syscall(SYS_close, s);
	/* fdpair, flags:msg */
	int sv[2];
	r = syscall(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv);
	expect("socketpair", r, "\"AF_UNIX\",\"SOCK_DGRAM\",0,[%d,%d]", sv[0], sv[1]);
	r = syscall(SYS_sendto, sv[0], "ping", 4, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
	expect("sendto", r, "%s,\"ping\",4,\"MSG_DONTWAIT|MSG_NOSIGNAL\",null,0", fdj(sv[0]));
	r = syscall(SYS_recvfrom, sv[1], buf, sizeof(buf), 0, NULL, NULL);
	expect("recvfrom", r, "%s,\"ping\",64,\"0\",null,null", fdj(sv[1]));
	int p[2];
	r = syscall(SYS_pipe2, p, O_CLOEXEC | O_NONBLOCK);
	expect("pipe2", r, "[%d,%d],\"O_NONBLOCK|O_CLOEXEC\"", p[0], p[1]);

	/* pid, sig, sigset, timespec, uid */
	r = syscall(SYS_kill, getpid(), 0);
	expect("kill", r, "%d,0", getpid());
	r = syscall(SYS_kill, getpid(), SIGURG);
	expect("kill", r, "%d,\"SIGURG\"", getpid());
	unsigned long set = 1ul << (SIGUSR1 - 1) | 1ul << (SIGTERM - 1), old = 0;
	r = syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8);
	expect("rt_sigprocmask", r, "\"SIG_BLOCK\",[\"SIGUSR1\",\"SIGTERM\"],[],8");
	struct timespec ts = {0, 1000};
	r = syscall(SYS_nanosleep, &ts, NULL);
	expect("nanosleep", r, "{\"sec\":0,\"nsec\":1000},null");
	struct timespec now;
	r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
	expect("clock_gettime", r, "\"CLOCK_MONOTONIC\",{\"sec\":%ld,\"nsec\":%ld}",
	       (long)now.tv_sec, now.tv_nsec);
	r = syscall(SYS_setresuid, -1, -1, -1);
	expect("setresuid", r, "-1,-1,-1");
	r = syscall(SYS_setresgid, -1, -1, -1);
	expect("setresgid", r, "-1,-1,-1");
	/* str, flags:memfd */
	long mfd = syscall(SYS_memfd_create, "jvisor-log", MFD_CLOEXEC);
	expect("memfd_create", mfd, "\"jvisor-log\",\"MFD_CLOEXEC\"");
	/* hex, ptr: an ioctl that is not for this file */
	r = syscall(SYS_ioctl, mfd, 0x5401, buf);
	expect("ioctl", r, "%s,\"0x5401\",\"%p\"", fdj((int)mfd), (void *)buf);
	/* timevalout */
	struct timeval tv;
	r = syscall(SYS_gettimeofday, &tv, NULL);
	expect("gettimeofday", r, "{\"sec\":%ld,\"usec\":%ld},null", (long)tv.tv_sec,
	       (long)tv.tv_usec);
	/* timeval (an invalid one: EINVAL before anything is set) */
	struct timeval bad_tv = {1, 2000000};
	r = syscall(SYS_settimeofday, &bad_tv, NULL);
	expect("settimeofday", r, "{\"sec\":1,\"usec\":2000000},null");
	/* long, flags:ipc */
	r = syscall(SYS_msgrcv, -1, buf, 10, -5L, IPC_NOWAIT);
	expect("msgrcv", r, "-1,\"%p\",10,-5,\"IPC_NOWAIT\"", (void *)buf);
	/* ulong */
	r = syscall(SYS_sysfs, 3, 0, 0);
	expect("sysfs", r, "3,0,0");
	/* A failure: ret -1 and the errno name. */
	r = syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent/jvisor-log", AT_REMOVEDIR);
	expect("unlinkat", r, "\"AT_FDCWD\",\"/nonexistent/jvisor-log\",\"AT_REMOVEDIR\"");

	/* argv, envp (the last call: the program becomes /bin/true) */
	char *xargv[] = {"true", "a b", "\"q\"", NULL};
	char *xenv[] = {"X=1", "EMPTY=", NULL};
	expect("execve", 0, "\"/bin/true\",[\"true\",\"a b\",\"\\\"q\\\"\"],[\"X=1\",\"EMPTY=\"]");
	syscall(SYS_execve, "/bin/true", xargv, xenv);
	return 1;
}
