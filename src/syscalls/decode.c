/* The generic decoder: each role is a small case that knows entry from exit. */
#include "syscalls/decode.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "accessors/mem.h"

#define PATH_SHOWN 4096 /* paths are shown whole up to PATH_MAX */
#define ARGV_SHOWN 64	/* argv/envp entries */
#define IOV_SHOWN 8	/* iovec entries */

/* The program's memory: the tracee's, or what an event source captured. */
static ssize_t mread(const struct dec_ctx *c, uint64_t addr, void *buf, size_t n, int *err)
{
	if (c->mem)
		return c->mem->read(c->mem, addr, buf, n, err);
	struct jv_error e;
	ssize_t r = mem_read(c->tid, addr, buf, n, &e);
	*err = r < 0 ? e.errnum : 0;
	return r;
}

static ssize_t mread_string(const struct dec_ctx *c, uint64_t addr, size_t max, char **out,
			    int *err)
{
	if (c->mem)
		return c->mem->read_string(c->mem, addr, max, out, err);
	struct jv_error e;
	ssize_t r = mem_read_string(c->tid, addr, max, out, &e);
	*err = r < 0 ? e.errnum : 0;
	return r;
}

static bool json(const struct dec_ctx *c)
{
	return c->fmt == DEC_JSON;
}

/* A pointer or long of the program: 32 bits for i386 and x32. */
static size_t word(const struct dec_ctx *c)
{
	return c->abi == SYS_ABI_X86_64 ? 8 : 4;
}

static void quoted(const struct dec_ctx *c, const char *s, struct sbuf *out)
{
	if (json(c))
		sb_putc(out, '"');
	sb_puts(out, s);
	if (json(c))
		sb_putc(out, '"');
}

static void hexval(const struct dec_ctx *c, uint64_t v, struct sbuf *out)
{
	if (json(c))
		sb_putc(out, '"');
	sb_hex(out, v);
	if (json(c))
		sb_putc(out, '"');
}

static void ptrval(const struct dec_ctx *c, uint64_t v, struct sbuf *out)
{
	if (!v)
		sb_puts(out, json(c) ? "null" : "NULL");
	else
		hexval(c, v, out);
}

/* An unreadable pointer: the raw address and why. */
static void badptr(const struct dec_ctx *c, uint64_t addr, int err, struct sbuf *out)
{
	if (!json(c)) {
		sb_hex(out, addr);
		return;
	}
	sb_puts(out, "{\"addr\":\"");
	sb_hex(out, addr);
	sb_puts(out, "\",\"error\":\"");
	const char *name = xlat_errname(err);
	if (name)
		sb_puts(out, name);
	else
		sb_i64(out, err);
	sb_puts(out, "\"}");
}

void dec_str(const struct dec_ctx *c, const char *s, size_t n, bool truncated, struct sbuf *out)
{
	if (!json(c)) {
		sb_c_str(out, s, n);
		if (truncated)
			sb_puts(out, "...");
		return;
	}
	if (!truncated) {
		sb_json_str(out, s, n);
		return;
	}
	sb_puts(out, "{\"str\":");
	sb_json_str(out, s, n);
	sb_puts(out, ",\"truncated\":true}");
}

/* A NUL-terminated string at addr, at most max bytes shown. */
static void string_at(const struct dec_ctx *c, uint64_t addr, size_t max, struct sbuf *out)
{
	if (!addr) {
		ptrval(c, 0, out);
		return;
	}
	_cleanup_free_ char *s = NULL;
	int err;
	ssize_t n = mread_string(c, addr, max + 1, &s, &err);
	if (n < 0) {
		badptr(c, addr, err, out);
		return;
	}
	bool cut = (size_t)n > max;
	dec_str(c, s, cut ? max : (size_t)n, cut, out);
}

/* len bytes at addr, at most str_max shown. */
static void buffer_at(const struct dec_ctx *c, uint64_t addr, uint64_t len, struct sbuf *out)
{
	if (!addr && len) {
		ptrval(c, 0, out);
		return;
	}
	size_t shown = len < c->str_max ? (size_t)len : c->str_max;
	char stack[256];
	_cleanup_free_ char *heap = shown > sizeof(stack) ? xmalloc(shown) : NULL;
	char *buf = heap ? heap : stack;
	int err;
	ssize_t n = shown ? mread(c, addr, buf, shown, &err) : 0;
	if (n < 0) {
		badptr(c, addr, err, out);
		return;
	}
	if (!json(c) || ((size_t)n == len)) {
		dec_str(c, buf, (size_t)n, (size_t)n < len, out);
		return;
	}
	sb_puts(out, "{\"data\":");
	sb_json_str(out, buf, (size_t)n);
	sb_puts(out, ",\"len\":");
	sb_u64(out, len);
	sb_puts(out, ",\"truncated\":true}");
}

static void fd_val(const struct dec_ctx *c, int fd, struct sbuf *out)
{
	const char *path = NULL;
	if (fd >= 0 && c->mem)
		path = c->mem->fd_path(c->mem, fd);
	else if (fd >= 0 && c->fd_path)
		path = c->fd_path(c->pid, fd);
	if (!path) {
		sb_i64(out, fd);
		return;
	}
	if (json(c)) {
		sb_puts(out, "{\"fd\":");
		sb_i64(out, fd);
		sb_puts(out, ",\"path\":");
		sb_json_str(out, path, strlen(path));
		sb_putc(out, '}');
	} else {
		sb_i64(out, fd);
		sb_putc(out, '<');
		sb_puts(out, path);
		sb_putc(out, '>');
	}
}

static void key(const struct dec_ctx *c, const char *name, bool first, struct sbuf *out)
{
	if (!first)
		sb_puts(out, json(c) ? "," : ", ");
	if (json(c)) {
		sb_putc(out, '"');
		sb_puts(out, name);
		sb_puts(out, "\":");
	} else {
		sb_puts(out, name);
		sb_putc(out, '=');
	}
}

static void sockaddr_val(const struct dec_ctx *c, uint64_t addr, uint64_t len, struct sbuf *out)
{
	if (!addr) {
		ptrval(c, 0, out);
		return;
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (len > sizeof(ss))
		len = sizeof(ss);
	int err = 0;
	ssize_t n = len ? mread(c, addr, &ss, (size_t)len, &err) : 0;
	if (n < 0 || (size_t)n < sizeof(sa_family_t)) {
		badptr(c, addr, n < 0 ? err : EINVAL, out);
		return;
	}
	char text[INET6_ADDRSTRLEN];
	sb_putc(out, '{');
	key(c, json(c) ? "family" : "sa_family", true, out);
	struct sbuf fam = {0};
	if (!xlat_enum(SK_AF, ss.ss_family, &fam))
		sb_u64(&fam, ss.ss_family);
	sb_putc(&fam, '\0');
	quoted(c, fam.p, out);
	sb_free(&fam);
	switch (ss.ss_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
		key(c, json(c) ? "addr" : "sin_addr", false, out);
		dec_str(c, text, strlen(text), false, out);
		key(c, json(c) ? "port" : "sin_port", false, out);
		sb_u64(out, ntohs(in->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		key(c, json(c) ? "addr" : "sin6_addr", false, out);
		dec_str(c, text, strlen(text), false, out);
		key(c, json(c) ? "port" : "sin6_port", false, out);
		sb_u64(out, ntohs(in6->sin6_port));
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const void *)&ss;
		size_t plen = (size_t)n > offsetof(struct sockaddr_un, sun_path)
				  ? (size_t)n - offsetof(struct sockaddr_un, sun_path)
				  : 0;
		if (plen > sizeof(un->sun_path))
			plen = sizeof(un->sun_path);
		key(c, json(c) ? "path" : "sun_path", false, out);
		if (plen && un->sun_path[0] == '\0') {
			/* Abstract: "@name", the name may hold anything. */
			char abs[sizeof(un->sun_path) + 1];
			abs[0] = '@';
			memcpy(abs + 1, un->sun_path + 1, plen - 1);
			dec_str(c, abs, plen, false, out);
		} else {
			dec_str(c, un->sun_path, strnlen(un->sun_path, plen), false, out);
		}
		break;
	}
	case AF_NETLINK: {
		const struct sockaddr_nl *nl = (const void *)&ss;
		key(c, json(c) ? "pid" : "nl_pid", false, out);
		sb_u64(out, nl->nl_pid);
		key(c, json(c) ? "groups" : "nl_groups", false, out);
		hexval(c, nl->nl_groups, out);
		break;
	}
	default:
		break;
	}
	sb_putc(out, '}');
}

/* struct timespec / timeval: two words (32-bit each for i386). */
static void time_val(const struct dec_ctx *c, uint64_t addr, bool nsec, struct sbuf *out)
{
	if (!addr) {
		ptrval(c, 0, out);
		return;
	}
	int64_t v[2];
	int e;
	if (c->abi == SYS_ABI_I386) {
		int32_t w[2];
		if (mread(c, addr, w, sizeof(w), &e) != sizeof(w)) {
			badptr(c, addr, EFAULT, out);
			return;
		}
		v[0] = w[0];
		v[1] = w[1];
	} else if (mread(c, addr, v, sizeof(v), &e) != sizeof(v)) {
		badptr(c, addr, EFAULT, out);
		return;
	}
	sb_putc(out, '{');
	key(c, json(c) ? "sec" : "tv_sec", true, out);
	sb_i64(out, v[0]);
	key(c, json(c) ? (nsec ? "nsec" : "usec") : (nsec ? "tv_nsec" : "tv_usec"), false, out);
	sb_i64(out, v[1]);
	sb_putc(out, '}');
}

static bool read_word(const struct dec_ctx *c, uint64_t addr, uint64_t *v)
{
	int e;
	*v = 0;
	return mread(c, addr, v, word(c), &e) == (ssize_t)word(c);
}

void dec_strv(const struct dec_ctx *c, uint64_t addr, size_t max, struct sbuf *out)
{
	if (!addr) {
		ptrval(c, 0, out);
		return;
	}
	uint64_t p;
	if (!read_word(c, addr, &p)) {
		badptr(c, addr, EFAULT, out);
		return;
	}
	sb_putc(out, '[');
	size_t i = 0;
	for (; p; i++) {
		if (i == max) {
			sb_puts(out, json(c) ? ",\"...\"" : ", ...");
			break;
		}
		if (i)
			sb_puts(out, json(c) ? "," : ", ");
		string_at(c, p, c->str_max, out);
		if (!read_word(c, addr + (i + 1) * word(c), &p))
			break;
	}
	sb_putc(out, ']');
}

/* iovec array: the buffers, in total at most `total` bytes (SIZE_MAX: their lengths). */
static void iov_val(const struct dec_ctx *c, uint64_t addr, uint64_t count, uint64_t total,
		    struct sbuf *out)
{
	if (!addr) {
		ptrval(c, 0, out);
		return;
	}
	sb_putc(out, '[');
	for (uint64_t i = 0; i < count && i < IOV_SHOWN; i++) {
		uint64_t base, len;
		if (!read_word(c, addr + i * 2 * word(c), &base) ||
		    !read_word(c, addr + (i * 2 + 1) * word(c), &len)) {
			if (i == 0) {
				out->len--; /* drop '[' */
				badptr(c, addr, EFAULT, out);
				return;
			}
			break;
		}
		if (i)
			sb_puts(out, json(c) ? "," : ", ");
		uint64_t n = len < total ? len : total;
		total -= n;
		buffer_at(c, base, n, out);
	}
	if (count > IOV_SHOWN)
		sb_puts(out, json(c) ? ",\"...\"" : ", ...");
	sb_putc(out, ']');
}

static void sigset_val(const struct dec_ctx *c, uint64_t addr, uint64_t size, struct sbuf *out)
{
	if (!addr) {
		ptrval(c, 0, out);
		return;
	}
	uint64_t set = 0;
	int e;
	size_t n = size > 0 && size < 8 ? (size_t)size : 8;
	if (mread(c, addr, &set, n, &e) != (ssize_t)n) {
		badptr(c, addr, EFAULT, out);
		return;
	}
	sb_putc(out, '[');
	bool first = true;
	for (int sig = 1; sig <= 64; sig++) {
		if (!(set >> (sig - 1) & 1))
			continue;
		char name[16];
		xlat_signame(sig, name, sizeof(name));
		if (!first)
			sb_puts(out, json(c) ? "," : " ");
		first = false;
		quoted(c, json(c) ? name : name + 3, out);
	}
	sb_putc(out, ']');
}

static void fdpair_val(const struct dec_ctx *c, uint64_t addr, struct sbuf *out)
{
	int fds[2];
	int e;
	if (mread(c, addr, fds, sizeof(fds), &e) != sizeof(fds)) {
		badptr(c, addr, EFAULT, out);
		return;
	}
	sb_putc(out, '[');
	sb_i64(out, fds[0]);
	sb_puts(out, json(c) ? "," : ", ");
	sb_i64(out, fds[1]);
	sb_putc(out, ']');
}

void dec_arg(const struct dec_ctx *c, const struct sys_info *si, int i, const uint64_t args[6],
	     bool at_exit, int64_t ret, struct sbuf *out)
{
	const struct sys_arg *a = &si->args[i];
	uint64_t v = args[i];
	enum sys_role role = a->role;
	bool failed = ret < 0 && ret >= -4095;
	if (sys_role_is_out(role) && (!at_exit || failed)) {
		ptrval(c, v, out);
		return;
	}
	switch (role) {
	case SR_NONE:
	case SR_HEX:
		hexval(c, v, out);
		return;
	case SR_INT:
	case SR_PID:
		sb_i64(out, (int32_t)v);
		return;
	case SR_UINT:
		sb_u64(out, (uint32_t)v);
		return;
	case SR_UID:
	case SR_GID:
		if ((uint32_t)v == UINT32_MAX)
			sb_puts(out, "-1");
		else
			sb_u64(out, (uint32_t)v);
		return;
	case SR_LONG:
	case SR_OFF:
		sb_i64(out, c->abi == SYS_ABI_I386 ? (int32_t)v : (int64_t)v);
		return;
	case SR_ULONG:
	case SR_SIZE:
		sb_u64(out, v);
		return;
	case SR_PTR:
		ptrval(c, v, out);
		return;
	case SR_FD:
		fd_val(c, (int32_t)v, out);
		return;
	case SR_DIRFD:
		if ((int32_t)v == AT_FDCWD)
			quoted(c, "AT_FDCWD", out);
		else
			fd_val(c, (int32_t)v, out);
		return;
	case SR_PATH:
		string_at(c, v, PATH_SHOWN, out);
		return;
	case SR_STR:
		string_at(c, v, c->str_max, out);
		return;
	case SR_PATHOUT:
		string_at(c, v, PATH_SHOWN, out);
		return;
	case SR_BUFIN:
		buffer_at(c, v, args[a->param], out);
		return;
	case SR_BUFOUT:
		buffer_at(c, v, (uint64_t)ret, out);
		return;
	case SR_IOVIN:
		iov_val(c, v, args[a->param], UINT64_MAX, out);
		return;
	case SR_IOVOUT:
		iov_val(c, v, args[a->param], (uint64_t)ret, out);
		return;
	case SR_FLAGS:
		if (json(c))
			sb_putc(out, '"');
		xlat_flags(a->param, v, out);
		if (json(c))
			sb_putc(out, '"');
		return;
	case SR_ENUM: {
		size_t mark = out->len;
		if (json(c))
			sb_putc(out, '"');
		if (xlat_enum(a->param, v, out)) {
			if (json(c))
				sb_putc(out, '"');
		} else {
			out->len = mark;
			sb_i64(out, (int32_t)v);
		}
		return;
	}
	case SR_MODE: {
		char m[16];
		snprintf(m, sizeof(m), "0%03o", (unsigned)(v & 07777));
		quoted(c, m, out);
		return;
	}
	case SR_SIG: {
		char name[16];
		if (xlat_signame((int)v, name, sizeof(name)))
			quoted(c, name, out);
		else
			sb_i64(out, (int32_t)v);
		return;
	}
	case SR_SOCKADDR:
		sockaddr_val(c, v, (uint32_t)args[a->param], out);
		return;
	case SR_SOCKADDROUT: {
		uint32_t len = 0;
		int e;
		if (!v || !args[a->param] ||
		    mread(c, args[a->param], &len, sizeof(len), &e) != sizeof(len)) {
			ptrval(c, v, out);
			return;
		}
		sockaddr_val(c, v, len, out);
		return;
	}
	case SR_TIMESPEC:
	case SR_TIMESPECOUT:
		time_val(c, v, true, out);
		return;
	case SR_TIMEVAL:
	case SR_TIMEVALOUT:
		time_val(c, v, false, out);
		return;
	case SR_ARGV:
		dec_strv(c, v, ARGV_SHOWN, out);
		return;
	case SR_ENVP:
		dec_strv(c, v, ARGV_SHOWN, out);
		return;
	case SR_FDPAIR:
		fdpair_val(c, v, out);
		return;
	case SR_SIGSET:
	case SR_SIGSETOUT:
		sigset_val(c, v, args[a->param], out);
		return;
	case SR__COUNT:
		break;
	}
	hexval(c, v, out);
}
