/* Sinks: where records go. A file (or stdout, stderr) with a write buffer, and
 * the log socket with a bounded buffer, reconnection with backoff and a policy
 * for a full buffer (block: the program waits; drop: counted and reported). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "log/internal.h"

#define FILE_BUF (64u << 10)
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define CONNECT_TIMEOUT_MS 3000
#define GIVE_UP_MS 3000 /* after SIGINT/SIGTERM, or at exit with the drop policy */

struct sink {
	int fd;
	int format;
	bool is_socket;
	char *name;
	struct sbuf q; /* pending bytes; q.p[0..sent) already written */
	size_t sent;
	/* file */
	bool failed;
	unsigned long lost;
	/* socket */
	int full;
	size_t cap;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned backoff_ms;
	uint64_t next_try_ns;
	unsigned long dropped, dropped_unreported, reconnects;
	unsigned long records; /* lines handed to this sink */
	uint64_t give_up_at;   /* ms: when waiting ends after SIGINT/SIGTERM (0 = not yet) */
};

static struct sink sinks[2];
static size_t nsinks;
size_t log_unflushed;
volatile sig_atomic_t log_interrupted;

static uint64_t now_ms(void)
{
	return jv_now_ns() / 1000000;
}

static unsigned count_lines(const char *p, size_t n)
{
	unsigned c = 0;
	for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))); q++)
		c++;
	return c;
}

int sink_open_file(const char *path, int format, struct jv_error *e)
{
	int fd;
	const char *name = path;
	if (!path) {
		fd = dup(2);
		name = "stderr";
	} else if (!strcmp(path, "-")) {
		fd = dup(1);
		name = "stdout";
	} else if (!strncmp(path, "fd:", 3)) {
		/* An inherited descriptor (jvisor-runc opens the log on the host): moved
		 * above the low numbers and closed at exec, so the program never has it. */
		long n = jv_parse_long(path + 3, 3, INT_MAX);
		if (n < 0)
			return jv_err(e, 0, "-o %s: expected fd:N with N >= 3", path);
		int fl = fcntl((int)n, F_GETFL);
		if (fl < 0)
			return jv_err(e, errno, "-o %s: descriptor %ld", path, n);
		if ((fl & O_ACCMODE) == O_RDONLY)
			return jv_err(e, EBADF, "-o %s: descriptor %ld is not open for writing",
				      path, n);
		fd = fcntl((int)n, F_DUPFD_CLOEXEC, 3);
		if (fd >= 0)
			close((int)n);
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		return jv_err(e, errno, "cannot open the log %s", name);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return jv_err(e, errno, "fcntl on the log %s", name);
	}
	if (format == LOG_FORMAT_AUTO)
		format = !path && isatty(fd) ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
	struct sink *s = &sinks[nsinks++];
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->format = format;
	s->name = xstrdup(name);
	return 0;
}

/* "unix:PATH", "HOST:PORT", "[V6]:PORT" (and "tcp:" in front). */
static int resolve(struct sink *s, const char *spec, struct jv_error *e)
{
	if (!strncmp(spec, "unix:", 5)) {
		struct sockaddr_un *un = (void *)&s->addr;
		const char *path = spec + 5;
		if (!*path || strlen(path) >= sizeof(un->sun_path))
			return jv_err(e, 0, "--log-socket %s: bad unix socket path", spec);
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		s->addrlen = sizeof(*un);
		return 0;
	}
	if (!strncmp(spec, "tcp:", 4))
		spec += 4;
	_cleanup_free_ char *host = xstrdup(spec);
	char *colon = strrchr(host, ':');
	if (!colon || colon == host || !colon[1])
		return jv_err(e, 0, "--log-socket %s: expected HOST:PORT or unix:PATH", spec);
	*colon = '\0';
	const char *port = colon + 1;
	char *h = host;
	if (h[0] == '[' && colon[-1] == ']') {
		h++;
		colon[-1] = '\0';
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int r = getaddrinfo(h, port, &hints, &res);
	if (r != 0)
		return jv_err(e, 0, "--log-socket %s: %s", spec, gai_strerror(r));
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Connect within timeout_ms; the socket is left non-blocking. */
static int dial(struct sink *s, int timeout_ms)
{
	int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&s->addr, s->addrlen) < 0) {
		if (errno != EINPROGRESS) {
			jv_closep(&fd);
			return -1;
		}
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int err = 0;
		socklen_t len = sizeof(err);
		if (poll(&p, 1, timeout_ms) <= 0) {
			close(fd);
			errno = ETIMEDOUT;
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			close(fd);
			errno = err ? err : EIO;
			return -1;
		}
	}
	return fd;
}

int sink_open_socket(const char *spec, int full, size_t cap, struct jv_error *e)
{
	struct sink *s = &sinks[nsinks];
	memset(s, 0, sizeof(*s));
	if (resolve(s, spec, e) < 0)
		return -1;
	s->fd = dial(s, CONNECT_TIMEOUT_MS);
	if (s->fd < 0)
		return jv_err(e, errno, "cannot connect the log socket %s (is a listener running?)",
			      spec);
	s->is_socket = true;
	s->format = LOG_FORMAT_JSON;
	s->full = full;
	s->cap = cap ? cap : 4u << 20;
	s->name = xstrdup(spec);
	s->backoff_ms = BACKOFF_MIN_MS;
	nsinks++;
	return 0;
}

unsigned sink_formats(void)
{
	unsigned f = 0;
	for (size_t i = 0; i < nsinks; i++)
		f |= 1u << sinks[i].format;
	return f;
}

/* Drop what was written, keeping a partly written line so that it can be
 * written again whole after a reconnection. */
static void consume(struct sink *s)
{
	if (!s->sent)
		return;
	size_t keep_from = s->sent;
	if (s->is_socket) {
		const char *nl = memrchr(s->q.p, '\n', s->sent);
		keep_from = nl ? (size_t)(nl - s->q.p) + 1 : 0;
	}
	memmove(s->q.p, s->q.p + keep_from, s->q.len - keep_from);
	s->q.len -= keep_from;
	s->sent -= keep_from;
}

static void file_failed(struct sink *s, int err)
{
	if (!s->failed) {
		const char *n = jv_errno_name(err);
		jv_warn("cannot write the log %s: %s (%s); records are being lost", s->name,
			strerror(err), n ? n : "?");
	}
	s->failed = true;
	s->lost += count_lines(s->q.p + s->sent, s->q.len - s->sent);
	s->q.len = s->sent = 0;
}

static void file_flush(struct sink *s)
{
	while (s->sent < s->q.len) {
		ssize_t w = write(s->fd, s->q.p + s->sent, s->q.len - s->sent);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = s->fd, .events = POLLOUT};
			poll(&p, 1, 100);
			continue;
		}
		if (w <= 0) {
			file_failed(s, w < 0 ? errno : EIO);
			return;
		}
		s->sent += (size_t)w;
	}
	s->q.len = s->sent = 0;
}

static void disconnect(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->sent = 0; /* a partly written line is written again whole */
	s->next_try_ns = jv_now_ns() + (uint64_t)s->backoff_ms * 1000000;
}

static bool try_reconnect(struct sink *s)
{
	if (jv_now_ns() < s->next_try_ns)
		return false;
	s->fd = dial(s, 1000);
	if (s->fd < 0) {
		s->backoff_ms =
		    s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
		s->next_try_ns = jv_now_ns() + (uint64_t)s->backoff_ms * 1000000;
		return false;
	}
	s->backoff_ms = BACKOFF_MIN_MS;
	s->reconnects++;
	jv_warn("log socket %s: reconnected", s->name);
	return true;
}

/* Write without blocking; returns false when the socket cannot take more now. */
static bool sock_push(struct sink *s)
{
	if (s->fd < 0 && !try_reconnect(s))
		return false;
	if (s->sent < s->q.len) {
		/* A listener that closed its end: TCP would take one more write
		 * and lose it, so look before writing. */
		struct pollfd p = {.fd = s->fd, .events = POLLRDHUP};
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			jv_warn(
			    "log socket %s: the listener is gone; reconnecting (events are kept)",
			    s->name);
			disconnect(s);
			return false;
		}
	}
	while (s->sent < s->q.len) {
		ssize_t w = send(s->fd, s->q.p + s->sent, s->q.len - s->sent, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			consume(s);
			return false;
		}
		if (w <= 0) {
			jv_warn("log socket %s: %s; reconnecting (events are kept)", s->name,
				w < 0 ? strerror(errno) : "closed");
			disconnect(s);
			return false;
		}
		s->sent += (size_t)w;
	}
	consume(s);
	return true;
}

/* Wait until the socket sink can take more (or give up at deadline_ms, 0 = never). */
static bool sock_wait(struct sink *s, uint64_t deadline_ms)
{
	for (;;) {
		if (sock_push(s))
			return true;
		uint64_t now = now_ms();
		if (log_interrupted) {
			/* jvisor is asked to end: one budget for all the waits to come. */
			if (!s->give_up_at)
				s->give_up_at = now + GIVE_UP_MS;
			if (!deadline_ms || s->give_up_at < deadline_ms)
				deadline_ms = s->give_up_at;
		}
		if (deadline_ms && now >= deadline_ms)
			return false;
		int wait_ms = 100;
		if (s->fd >= 0) {
			struct pollfd p = {.fd = s->fd, .events = POLLOUT};
			poll(&p, 1, wait_ms);
		} else {
			uint64_t t = s->next_try_ns / 1000000;
			if (t > now && t - now < (uint64_t)wait_ms)
				wait_ms = (int)(t - now);
			struct timespec ts = {0, (long)wait_ms * 1000000};
			nanosleep(&ts, NULL);
		}
	}
}

static void sock_drop_all(struct sink *s, bool counted)
{
	/* A line the listener got only part of is lost too. */
	unsigned n = count_lines(s->q.p, s->q.len);
	if (counted)
		s->dropped += n;
	s->q.len = s->sent = 0;
}

static void sock_report_drops(struct sink *s)
{
	if (!s->dropped_unreported)
		return;
	struct sbuf b = {0};
	log_dropped_record(&b, s->dropped_unreported, s->dropped);
	if (s->q.len + b.len <= s->cap) {
		sb_put(&s->q, b.p, b.len);
		s->dropped_unreported = 0;
	}
	sb_free(&b);
}

void sink_write(int format, const char *line, size_t n)
{
	for (size_t i = 0; i < nsinks; i++) {
		struct sink *s = &sinks[i];
		if (s->format != format)
			continue;
		s->records++;
		if (!s->is_socket) {
			if (s->failed) {
				s->lost++;
				continue;
			}
			sb_put(&s->q, line, n);
			if (s->q.len >= FILE_BUF)
				file_flush(s);
			else
				log_unflushed += n;
			continue;
		}
		if (s->q.len + n > s->cap)
			sock_push(s);
		if (s->q.len + n > s->cap) {
			if (s->full == LOG_FULL_DROP) {
				s->dropped++;
				s->dropped_unreported++;
				continue;
			}
			/* block: the program waits until the listener has taken it all. */
			if (!sock_wait(s, 0))
				sock_drop_all(s, true); /* interrupted and given up */
		}
		sock_report_drops(s);
		sb_put(&s->q, line, n);
		log_unflushed += n;
	}
}

void log_counts(unsigned long *records, unsigned long *lost, unsigned long *dropped)
{
	*records = *lost = *dropped = 0;
	for (size_t i = 0; i < nsinks; i++) {
		*records += sinks[i].records;
		*lost += sinks[i].lost;
		*dropped += sinks[i].dropped;
	}
}

void sink_flush_all(bool final)
{
	log_unflushed = 0;
	for (size_t i = 0; i < nsinks; i++) {
		struct sink *s = &sinks[i];
		if (!s->is_socket) {
			file_flush(s);
			continue;
		}
		sock_report_drops(s);
		if (!s->q.len)
			continue;
		if (s->full == LOG_FULL_DROP && !final) {
			sock_push(s);
			continue;
		}
		uint64_t deadline = final && s->full == LOG_FULL_DROP ? now_ms() + GIVE_UP_MS : 0;
		do {
			if (!sock_wait(s, deadline)) {
				sock_drop_all(s, true); /* given up: counted */
				break;
			}
			sock_report_drops(s); /* there is room now */
		} while (s->q.len);
	}
}

void log_flush(void)
{
	sink_flush_all(false);
}

int sink_close_all(void)
{
	sink_flush_all(true);
	int rc = 0;
	for (size_t i = 0; i < nsinks; i++) {
		struct sink *s = &sinks[i];
		if (s->lost) {
			jv_warn("the log %s lost %lu record%s", s->name, s->lost,
				s->lost == 1 ? "" : "s");
			rc = -1;
		}
		if (s->dropped) {
			jv_warn("log socket %s: %lu record%s dropped (%s)", s->name, s->dropped,
				s->dropped == 1 ? "" : "s",
				s->full == LOG_FULL_DROP
				    ? "--log-socket-full drop"
				    : "jvisor was told to end while the listener "
				      "was not taking them");
			rc = -1;
		}
		if (s->fd >= 0 && close(s->fd) < 0 && !s->is_socket && !s->failed) {
			jv_warn("cannot write the log %s: %s", s->name, strerror(errno));
			rc = -1;
		}
		sb_free(&s->q);
		free(s->name);
	}
	nsinks = 0;
	return rc;
}

/* ---- record pieces (also log.c's) ---- */

uint64_t log_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void log_put_ts(struct sbuf *b, uint64_t ns)
{
	sb_u64(b, ns / 1000000000u);
	char frac[8];
	snprintf(frac, sizeof(frac), ".%06u", (unsigned)(ns % 1000000000u / 1000));
	sb_puts(b, frac);
}

void log_dropped_record(struct sbuf *b, unsigned long count, unsigned long total)
{
	b->len = 0;
	sb_puts(b, "{\"type\":\"dropped\",\"ts\":");
	log_put_ts(b, log_realtime_ns());
	if (log_tags())
		sb_puts(b, log_tags());
	sb_printf(b, ",\"count\":%lu,\"total\":%lu}\n", count, total);
}
