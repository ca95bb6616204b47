/* ref-notifier [--deny] PROG [ARGS...]: the smallest useful seccomp user
 * notification supervisor, the floor of jvisor's notify mode as ref-tracer is
 * the floor of its ptrace mode. The child installs a filter with
 * SECCOMP_RET_USER_NOTIF on getppid (allow the rest), passes the listener to the
 * supervisor over a socketpair (SCM_RIGHTS) and execs PROG; the supervisor loops
 * poll -> NOTIF_RECV -> NOTIF_SEND (CONTINUE, or EPERM with --deny) until the
 * listener hangs up. poll() is there because a real supervisor also waits for
 * something else (jvisor: its children); wake-ups stay on one CPU
 * (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6) when the kernel has it. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench-filter.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

static int send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = {0};
	char c = 'f';
	struct iovec iov = {&c, 1};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))] = {0};
	char c;
	struct iovec iov = {&c, 1};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	if (recvmsg(sock, &m, 0) != 1)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	int first = 1;
	bool deny = false;
	if (first < argc && strcmp(argv[first], "--deny") == 0) {
		deny = true;
		first++;
	}
	if (argc <= first || argv[first][0] == '-') {
		fprintf(stderr, "usage: ref-notifier [--deny] PROG [ARGS...]\n");
		return 2;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("ref-notifier: socketpair");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("ref-notifier: fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		int fd = bench_install_filter_flags(SYS_getppid, SECCOMP_RET_USER_NOTIF,
						    SECCOMP_FILTER_FLAG_NEW_LISTENER);
		if (fd < 0 || send_fd(sv[1], fd) < 0)
			_exit(126);
		close(fd);
		execvp(argv[first], argv + first);
		_exit(127);
	}
	close(sv[1]);
	int fd = recv_fd(sv[0]);
	if (fd < 0) {
		fprintf(stderr, "ref-notifier: no listener from the child\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	__u64 flags = 1; /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */
	(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags);
	struct seccomp_notif_sizes sz;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
		perror("ref-notifier: SECCOMP_GET_NOTIF_SIZES");
		return 1;
	}
	struct seccomp_notif *req =
	    calloc(1, sz.seccomp_notif > sizeof(*req) ? sz.seccomp_notif : sizeof(*req));
	struct seccomp_notif_resp *resp = calloc(
	    1, sz.seccomp_notif_resp > sizeof(*resp) ? sz.seccomp_notif_resp : sizeof(*resp));
	if (!req || !resp)
		return 1;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("ref-notifier: poll");
			return 1;
		}
		if (!(p.revents & POLLIN))
			break; /* POLLHUP: no task uses the filter any more */
		memset(req, 0, sz.seccomp_notif);
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
			continue; /* ENOENT: the caller went away */
		memset(resp, 0, sz.seccomp_notif_resp);
		resp->id = req->id;
		if (deny)
			resp->error = -EPERM;
		else
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
