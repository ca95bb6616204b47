/* The control server: a thread of its own does the socket I/O and the
 * framing; each request is handed to the tracer's thread (one at a time),
 * which is woken with CONTROL_SIGNAL (waitpid returns EINTR) and answers
 * between two stops. The signal is sent again every few milliseconds until
 * the tracer has taken the request: that closes the race of a signal that
 * arrives just before the tracer blocks in waitpid. A slow client only ever
 * waits for its own answers: writes are non-blocking and buffered. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5; newer than Debian 12's headers */
#endif

#include "common/error.h"
#include "control/internal.h"
#include "control/proto.h"
#include "log/log.h"
#include "tracer/tracer.h"

#define CONTROL_SIGNAL (SIGRTMIN + 4)
#define MAX_CLIENTS 64
#define OUT_HIGH (1024 * 1024)	   /* stop reading from a client that does not read */
#define OUT_MAX (16 * 1024 * 1024) /* ... and drop it past this */
#define SEED_LINGER_NS (100 * 1000 * 1000ull)
#define SUB_POLL_MS 50 /* how often subscribers' log file is looked at */

struct control_options control_opts;
char *control_addr_shown;

struct client {
	int fd;
	struct proto_in in;
	char *out;
	size_t out_len, out_off;
	bool eof;		/* the peer closed its side */
	bool close_after;	/* close once the output is written */
	uint64_t seed_close_at; /* a request without newline was answered: close then,
				   unless more comes (its newline in a later segment) */
	bool authed;
	bool refused; /* a peer of the sandbox: input ignored, closed soon */
	int sub_fd;   /* subscribe: the event log file followed, else -1 */
	off_t sub_off;
};

static pthread_t server;
static bool running;
static int listen_fd = -1;
static int wake_pipe[2] = {-1, -1};
static bool is_tcp;
static char token[65];
static int tcp_port;	   /* the TCP port we listen on, 0 for unix */
static bool abstract_sock; /* an abstract unix socket (no file) */
static char *sock_path;	   /* unix socket we bound */
static char *token_path;   /* token file we wrote */
static pid_t tracer_tid;

/* The one request in flight between the server and the tracer. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static json_t *slot_req, *slot_answer;
static bool slot_taken, slot_done, stopping;

static void on_wake_signal(int sig)
{
	(void)sig;
	tracer_wake = 1;
}

static bool announced;

/* The address on stderr, once the loop runs (its signal handlers are in
 * place): whoever reads it may signal jvisor at once. */
static void announce(void)
{
	if (is_tcp && control_opts.no_token)
		jv_warn("control socket %s accepts requests without a token "
			"(--control-no-token): any local user can change this sandbox",
			control_addr_shown);
	if (token_path)
		jv_warn("control socket %s (token in %s)", control_addr_shown, token_path);
	else
		jv_warn("control socket %s", control_addr_shown);
	log_ev_control(tracer_root(), control_addr_shown, token_path); /* tracer's thread */
	pthread_mutex_lock(&lock);
	announced = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* On the tracer's thread (tracer_wake_fn): run the request waiting, if any. */
static void drain(void)
{
	if (!announced)
		announce();
	pthread_mutex_lock(&lock);
	json_t *req = slot_req && !slot_taken ? slot_req : NULL;
	if (req)
		slot_taken = true;
	pthread_mutex_unlock(&lock);
	if (!req)
		return;
	json_t *a = control_exec(req);
	pthread_mutex_lock(&lock);
	slot_answer = a;
	slot_done = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void wake_tracer_and_wait(struct timespec *ts)
{
	syscall(SYS_tgkill, getpid(), tracer_tid, CONTROL_SIGNAL);
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += 5 * 1000 * 1000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&cond, &lock, ts);
}

static json_t *ask_tracer(json_t *req)
{
	pthread_mutex_lock(&lock);
	slot_req = req;
	slot_answer = NULL;
	slot_taken = slot_done = false;
	struct timespec ts;
	while (!slot_taken && !stopping)
		wake_tracer_and_wait(&ts);
	while (slot_taken && !slot_done)
		pthread_cond_wait(&cond, &lock); /* the tracer always finishes a request */
	json_t *a = slot_done ? slot_answer : NULL;
	slot_req = slot_answer = NULL;
	slot_taken = slot_done = false;
	pthread_mutex_unlock(&lock);
	return a ? a : proto_error("the sandbox has ended");
}

/* Append to a client's pending output; what was already sent is dropped first. */
static void out_append(struct client *c, const void *data, size_t n)
{
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	c->out = xrealloc(c->out, c->out_len + n);
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
}

/* subscribe: from now on the connection carries the event log's new lines
 * (read from the -o file, as the web viewer does); its input is ignored. */
static json_t *subscribe(struct client *c, json_t *payload)
{
	const char *path = control_opts.log_path;
	if (!path || !strcmp(path, "-"))
		return proto_error("subscribe needs the event log in a file (jvisor run -o FILE)");
	if (payload && !json_is_null(payload) && !json_is_object(payload))
		return proto_error("field 'payload' must be an object");
	json_t *from = json_object_get(payload, "from");
	if (from && !json_is_null(from) &&
	    !(json_is_string(from) && (!strcmp(json_string_value(from), "start") ||
				       !strcmp(json_string_value(from), "end"))))
		return proto_error("subscribe: field 'from' must be \"start\" or \"end\"");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return proto_error("subscribe: cannot open the event log %s: %s", path,
				   strerror(errno));
	bool start = from && json_is_string(from) && !strcmp(json_string_value(from), "start");
	c->sub_off = start ? 0 : lseek(fd, 0, SEEK_END);
	c->sub_fd = fd;
	json_t *pl = json_object();
	json_object_set_new(pl, "file", proto_str(path));
	return proto_ok("following the event log; one record per line", pl);
}

/* Copy what the log file gained to a subscriber's output (whole lines only). */
static void pump(struct client *c)
{
	while (c->sub_fd >= 0 && c->out_len - c->out_off < OUT_HIGH) {
		char buf[65536];
		ssize_t n = pread(c->sub_fd, buf, sizeof(buf), c->sub_off);
		if (n <= 0)
			return;
		size_t take = (size_t)n;
		if (n < (ssize_t)sizeof(buf)) {
			const char *nl = memrchr(buf, '\n', (size_t)n);
			if (!nl)
				return; /* a line still being written */
			take = (size_t)(nl + 1 - buf);
		}
		out_append(c, buf, take);
		c->sub_off += (off_t)take;
		if (take < (size_t)n || n < (ssize_t)sizeof(buf))
			return;
	}
}

static json_t *answer_request(struct client *c, json_t *req)
{
	if (is_tcp && !control_opts.no_token && !c->authed) {
		json_t *t = json_object_get(req, "token");
		if (!jv_secret_eq(json_string_value(t), token)) {
			c->close_after = true;
			return proto_error("refused: missing or wrong token (the token file was "
					   "printed when the sandbox started)");
		}
		c->authed = true;
	}
	json_t *type = json_object_get(req, "type");
	if (!json_is_string(type))
		return proto_error(type ? "field 'type' must be a string"
					: "missing field 'type' (a string)");
	if (!strcmp(json_string_value(type), "subscribe"))
		return subscribe(c, json_object_get(req, "payload"));
	if (!control_known_type(json_string_value(type)))
		return proto_error("unknown request type '%s'", json_string_value(type));
	return ask_tracer(req);
}

static void queue_out(struct client *c, json_t *a)
{
	size_t n;
	_cleanup_free_ char *line = proto_dump(a, &n);
	json_decref(a);
	if (c->out_len - c->out_off + n > OUT_MAX) {
		c->close_after = c->eof = true; /* a client that never reads: drop it */
		c->out_len = c->out_off = 0;
		return;
	}
	out_append(c, line, n);
}

static void process_input(struct client *c)
{
	while (c->sub_fd < 0 && !c->close_after && c->out_len - c->out_off < OUT_HIGH) {
		struct proto_next nx;
		enum proto_frame f = proto_take(&c->in, c->eof, &nx);
		if (f == PROTO_MORE)
			break;
		if (f == PROTO_ERROR) {
			queue_out(c, nx.error);
			if (nx.last)
				c->close_after = true;
			continue;
		}
		json_t *a = answer_request(c, nx.req);
		json_decref(nx.req);
		queue_out(c, a);
		if (nx.last && c->sub_fd < 0) /* the seed's style: one object per connection */
			c->seed_close_at = jv_now_ns() + SEED_LINGER_NS;
	}
}

static void flush_out(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			c->out_off = c->out_len = 0;
			c->close_after = c->eof = true;
			return;
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
}

/* Is pid traced by this jvisor (a process of the sandbox)? Read from procfs:
 * this thread may not look at the tracer's tables. A process that cannot be
 * read counts as one. */
static bool traced_by_us(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	_cleanup_free_ char *st = NULL;
	if (jv_read_file(path, &st) < 0)
		return true;
	const char *p = strstr(st, "\nTracerPid:");
	return !p || atoi(p + 11) == getpid();
}

/* The inode of the client end of a loopback TCP connection (from
 * /proc/net/tcp), 0 when not found. */
static unsigned long tcp_client_inode(int fd)
{
	struct sockaddr_in me, peer;
	socklen_t l1 = sizeof(me), l2 = sizeof(peer);
	if (getsockname(fd, (struct sockaddr *)&me, &l1) < 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &l2) < 0)
		return 0;
	_cleanup_free_ char *tab = NULL;
	if (jv_read_file("/proc/net/tcp", &tab) < 0)
		return 0;
	for (char *line = strchr(tab, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		unsigned la, lp, ra, rp, st;
		unsigned long inode;
		if (sscanf(line + 1, " %*d: %x:%x %x:%x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &la,
			   &lp, &ra, &rp, &st, &inode) != 6)
			continue;
		/* The client's end: local = its address, remote = our listening end. */
		if (lp == ntohs(peer.sin_port) && la == peer.sin_addr.s_addr &&
		    rp == ntohs(me.sin_port) && ra == me.sin_addr.s_addr)
			return inode;
	}
	return 0;
}

/* Does a process of this sandbox hold the socket with this inode? */
static bool sandbox_holds_socket(unsigned long inode)
{
	char want[64];
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool found = false;
	while (d && !found && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid == getpid() || !traced_by_us(pid))
			continue;
		char fds[64];
		snprintf(fds, sizeof(fds), "/proc/%d/fd", (int)pid);
		DIR *fd_dir = opendir(fds);
		struct dirent *fe;
		while (fd_dir && !found && (fe = readdir(fd_dir))) {
			char link[64], target[64];
			snprintf(link, sizeof(link), "%s/%s", fds, fe->d_name);
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = 0;
				found = !strcmp(target, want);
			}
		}
		if (fd_dir)
			closedir(fd_dir);
	}
	if (d)
		closedir(d);
	return found;
}

/* Is the peer of a unix connection a process of this sandbox, or one we
 * cannot vouch for? The kernel keeps the program off an abstract socket
 * (src/sandbox/confine.c); this check is what a pathname socket has, and a
 * second line for the abstract one. The connecting process is named by a
 * pidfd (Linux 6.5), so that its pid cannot be reused under us; a process
 * that has exited (a zombie is no longer traced) is refused. */
static bool unix_peer_refused(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return true;
	/* No file mode guards an abstract socket: only our user (or root). */
	if (abstract_sock && cr.uid != geteuid() && cr.uid != 0)
		return true;
	int pidfd = -1;
	len = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		return errno != ENOPROTOOPT || traced_by_us(cr.pid); /* older kernels */
	bool refused = traced_by_us(cr.pid);
	/* Read after TracerPid: an exit is visible on the pidfd before the tracer
	 * reaps the process (and TracerPid becomes 0). */
	struct pollfd p = {pidfd, POLLIN, 0};
	if (poll(&p, 1, 0) != 0)
		refused = true;
	close(pidfd);
	return refused;
}

/* Is the peer of a connection a process of this sandbox? */
static bool peer_in_sandbox(int fd)
{
	if (is_tcp) {
		unsigned long inode = tcp_client_inode(fd);
		return inode && sandbox_holds_socket(inode);
	}
	return unix_peer_refused(fd);
}

static void close_client(struct client *c)
{
	/* Unread input would make the close a reset, which can destroy the
	 * answer before the peer reads it. */
	shutdown(c->fd, SHUT_WR);
	char buf[4096];
	for (int i = 0; i < 256 && recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
	close(c->fd);
	if (c->sub_fd >= 0)
		close(c->sub_fd);
	proto_in_free(&c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = c->sub_fd = -1;
}

static void *serve(void *arg)
{
	(void)arg;
	struct client clients[MAX_CLIENTS];
	for (int i = 0; i < MAX_CLIENTS; i++) {
		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].fd = clients[i].sub_fd = -1;
	}
	struct pollfd pfd[MAX_CLIENTS + 2];
	int map[MAX_CLIENTS + 2];
	struct timespec ts;
	pthread_mutex_lock(&lock);
	while (!announced && !stopping)
		wake_tracer_and_wait(&ts);
	pthread_mutex_unlock(&lock);
	for (;;) {
		int n = 0;
		pfd[n++] = (struct pollfd){wake_pipe[0], POLLIN, 0};
		pfd[n++] = (struct pollfd){listen_fd, POLLIN, 0};
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd < 0)
				continue;
			short ev = 0;
			if ((!c->eof && !c->close_after && c->out_len - c->out_off < OUT_HIGH) ||
			    (c->refused && !c->eof))
				ev |= POLLIN;
			if (c->out_len > c->out_off)
				ev |= POLLOUT;
			map[n] = i;
			pfd[n++] = (struct pollfd){c->fd, ev, 0};
		}
		int timeout = -1;
		uint64_t now = jv_now_ns();
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (clients[i].fd >= 0 && clients[i].sub_fd >= 0 &&
			    (timeout < 0 || timeout > SUB_POLL_MS))
				timeout = SUB_POLL_MS;
			uint64_t at = clients[i].fd >= 0 ? clients[i].seed_close_at : 0;
			if (!at)
				continue;
			int ms = at <= now ? 0 : (int)((at - now) / 1000000) + 1;
			if (timeout < 0 || ms < timeout)
				timeout = ms;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break; /* control_stop() */
		if (pfd[1].revents & POLLIN) {
			int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			int slot = -1;
			for (int i = 0; fd >= 0 && i < MAX_CLIENTS && slot < 0; i++)
				if (clients[i].fd < 0)
					slot = i;
			if (fd >= 0 && slot < 0) {
				close(fd); /* too many clients */
			} else if (fd >= 0) {
				struct client *c = &clients[slot];
				c->fd = fd;
				if (peer_in_sandbox(fd)) {
					queue_out(c,
						  proto_error("refused: the peer is a process of "
							      "this sandbox"));
					/* Closed a little later: a close with the request
					 * unread would reset the connection. */
					c->refused = true;
					c->seed_close_at = jv_now_ns() + SEED_LINGER_NS;
				}
			}
		}
		for (int k = 2; k < n; k++) {
			struct client *c = &clients[map[k]];
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
				char buf[65536];
				ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (r > 0 && (c->refused || c->sub_fd >= 0)) {
					/* ignored */
				} else if (r > 0) {
					c->seed_close_at = 0; /* more came: not the seed's style */
					proto_feed(&c->in, buf, (size_t)r);
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR))
					c->eof = true;
				process_input(c);
			}
			if (c->out_len > c->out_off)
				flush_out(c);
			if (c->out_len == c->out_off && !c->close_after && !c->eof)
				process_input(c); /* requests held back while output was pending */
			if (c->out_len > c->out_off)
				flush_out(c);
			if (c->out_len == c->out_off && (c->close_after || c->eof))
				close_client(c);
		}
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd >= 0 && c->sub_fd >= 0) {
				pump(c);
				if (c->out_len > c->out_off)
					flush_out(c);
				if (c->out_len == c->out_off && (c->close_after || c->eof))
					close_client(c);
			}
		}
		now = jv_now_ns();
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd >= 0 && c->seed_close_at && c->seed_close_at <= now) {
				flush_out(c);
				close_client(c);
			}
		}
	}
	/* The end: subscribers get the log's last lines (it was flushed). */
	uint64_t deadline = jv_now_ns() + 1000 * 1000 * 1000ull;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		while (c->fd >= 0 && c->sub_fd >= 0 && jv_now_ns() < deadline) {
			pump(c);
			flush_out(c);
			if (c->out_len == c->out_off) {
				pump(c);
				if (c->out_len == c->out_off)
					break;
				continue;
			}
			struct pollfd p = {c->fd, POLLOUT, 0};
			if (poll(&p, 1, 50) < 0 && errno != EINTR)
				break;
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			close_client(&clients[i]);
	return NULL;
}

/* ${XDG_RUNTIME_DIR:-/tmp}/jvisor-UID: where token files live, 0700, ours. */
char *control_token_dir(struct jv_error *e);
char *control_token_dir(struct jv_error *e)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	if (!base || base[0] != '/')
		base = "/tmp";
	char *d = xasprintf("%s/jvisor-%u", base, (unsigned)geteuid());
	if (mkdir(d, 0700) < 0 && errno != EEXIST) {
		jv_err(e, errno, "cannot create %s", d);
		free(d);
		return NULL;
	}
	struct stat st;
	if (lstat(d, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		jv_err(e, EPERM, "%s is not a directory of mode 0700 owned by us", d);
		free(d);
		return NULL;
	}
	return d;
}

char *control_token_file(const char *host, int port, struct jv_error *e);
char *control_token_file(const char *host, int port, struct jv_error *e)
{
	_cleanup_free_ char *d = control_token_dir(e);
	return d ? xasprintf("%s/control-%s-%d.token", d, host, port) : NULL;
}

/* PATH, or @NAME for an abstract socket (no file; Linux's own namespace). */
static int open_unix(const char *path, struct jv_error *e)
{
	struct sockaddr_un sa;
	int salen = jv_unix_addr(&sa, path);
	if (salen < 0)
		return jv_err(e, ENAMETOOLONG, "control socket path %s", path);
	if (path[0] == '@' && !path[1])
		return jv_err(e, EINVAL, "control socket %s: an abstract name after @", path);
	abstract_sock = path[0] == '@';
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return jv_err(e, errno, "socket");
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, (socklen_t)salen);
	int err = errno;
	umask(old);
	if (r < 0) {
		close(fd);
		return jv_err(e, err, "cannot bind the control socket %s", path);
	}
	if (!abstract_sock) {
		sock_path = xstrdup(path);
		chmod(path, 0600);
	}
	return fd;
}

int control_tcp_port(void)
{
	return tcp_port;
}

bool control_is_abstract(void)
{
	return listen_fd >= 0 && abstract_sock;
}

static int parse_port(const char *s)
{
	return (int)jv_parse_long(s, 0, 65535);
}

static int open_tcp(const char *hostport, struct jv_error *e)
{
	const char *colon = strrchr(hostport, ':');
	if (!colon)
		return jv_err(e, EINVAL, "control address tcp:%s: expected tcp:127.0.0.1:PORT",
			      hostport);
	_cleanup_free_ char *host = strndup(hostport, (size_t)(colon - hostport));
	int port = parse_port(colon + 1);
	if (port < 0)
		return jv_err(e, EINVAL, "control address tcp:%s: bad port", hostport);
	if (!strcmp(host, "localhost") || !host[0]) {
		free(host);
		host = xstrdup("127.0.0.1");
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return jv_err(e, EINVAL,
			      "control address tcp:%s: only loopback (127.0.0.1) is allowed",
			      hostport);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return jv_err(e, errno, "socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		return jv_err(e, err, "cannot bind the control socket tcp:%s", hostport);
	}
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	control_addr_shown = xasprintf("tcp:%s:%d", host, port);
	tcp_port = port;
	if (control_opts.no_token)
		return fd;
	unsigned char rnd[32];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		close(fd);
		return jv_err(e, errno, "getrandom");
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	token_path = control_token_file(host, port, e);
	if (!token_path) {
		close(fd);
		return -1;
	}
	int tf = open(token_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (tf < 0 || fchmod(tf, 0600) < 0 || jv_write_all(tf, token, strlen(token)) < 0 ||
	    jv_write_all(tf, "\n", 1) < 0) {
		int err = errno;
		if (tf >= 0)
			close(tf);
		close(fd);
		return jv_err(e, err, "cannot write the token file %s", token_path);
	}
	close(tf);
	return fd;
}

static void cleanup(void)
{
	if (listen_fd >= 0)
		close(listen_fd);
	for (int i = 0; i < 2; i++)
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
	listen_fd = wake_pipe[0] = wake_pipe[1] = -1;
	if (sock_path)
		unlink(sock_path);
	if (token_path)
		unlink(token_path);
	free(sock_path);
	free(token_path);
	free(control_addr_shown);
	sock_path = token_path = control_addr_shown = NULL;
}

static int open_listener(const struct control_options *o, struct jv_error *e)
{
	control_opts = *o;
	const char *addr = o->addr;
	int fd;
	is_tcp = addr && !strncmp(addr, "tcp:", 4);
	if (is_tcp) {
		fd = open_tcp(addr + 4, e);
	} else if (addr && strcmp(addr, "unix") && strcmp(addr, "unix:")) {
		if (strncmp(addr, "unix:", 5) && strchr(addr, ':'))
			return jv_err(e, EINVAL,
				      "control address '%s': expected unix:PATH, unix:@NAME or "
				      "tcp:127.0.0.1:PORT",
				      addr);
		const char *path = !strncmp(addr, "unix:", 5) ? addr + 5 : addr;
		fd = open_unix(path, e);
		if (fd >= 0)
			control_addr_shown = xasprintf("unix:%s", path);
	} else {
		/* A fresh abstract socket: the kernel keeps the program off it. */
		unsigned char rnd[8];
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return jv_err(e, errno, "getrandom");
		char name[64];
		int n = snprintf(name, sizeof(name), "@jvisor-ctl.%d.", (int)getpid());
		for (size_t i = 0; i < sizeof(rnd); i++)
			n += snprintf(name + n, sizeof(name) - (size_t)n, "%02x", rnd[i]);
		fd = open_unix(name, e);
		if (fd >= 0)
			control_addr_shown = xasprintf("unix:%s", name);
	}
	if (fd < 0)
		return -1;
	if (listen(fd, 16) < 0) {
		int err = errno;
		close(fd);
		return jv_err(e, err, "listen");
	}
	listen_fd = fd;
	if (pipe2(wake_pipe, O_CLOEXEC) < 0)
		return jv_err(e, errno, "pipe");
	return 0;
}

int control_open(const struct control_options *o, struct jv_error *e)
{
	if (open_listener(o, e) < 0) {
		cleanup();
		return -1;
	}
	return 0;
}

int control_start(struct jv_error *e)
{
	if (listen_fd < 0)
		return 0;
	tracer_tid = (pid_t)syscall(SYS_gettid);
	struct sigaction sa = {0};
	sa.sa_handler = on_wake_signal;
	sa.sa_flags = 0; /* no SA_RESTART: waitpid returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(CONTROL_SIGNAL, &sa, NULL);
	sigset_t wake;
	sigemptyset(&wake);
	sigaddset(&wake, CONTROL_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	tracer_wake_fn = drain;
	/* The server thread takes no signal: they are the tracer's. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&server, NULL, serve, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return jv_err(e, r, "cannot start the control thread");
	running = true;
	return 0;
}

void control_stop(void)
{
	if (!running) {
		cleanup();
		return;
	}
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	(void)!write(wake_pipe[1], "x", 1);
	pthread_join(server, NULL);
	running = false;
	tracer_wake_fn = NULL;
	cleanup();
}
