#include "common/error.h"

#include <errno.h>
#include <stdarg.h>

int jv_err(struct jv_error *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	e->errnum = errnum;
	if (errnum && (size_t)n < sizeof(e->msg)) {
		const char *name = jv_errno_name(errnum);
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s (%s)", strerror(errnum),
			 name ? name : "?");
	}
	return -1;
}

int jv_err_prefix(struct jv_error *e, const char *fmt, ...)
{
	char prefix[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	char old[sizeof(e->msg)];
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
	return -1;
}

void jv_err_print(const struct jv_error *e)
{
	fprintf(stderr, "jvisor: %s\n", e->msg);
}

void jv_warn(const char *fmt, ...)
{
	int saved = errno;
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "jvisor: %s\n", buf);
	errno = saved;
}

const char *jv_errno_name(int errnum)
{
	static const char *const names[] = {
#define E(x) [x] = #x
	    E(EPERM),	      E(ENOENT),	  E(ESRCH),	      E(EINTR),
	    E(EIO),	      E(ENXIO),		  E(E2BIG),	      E(ENOEXEC),
	    E(EBADF),	      E(ECHILD),	  E(EAGAIN),	      E(ENOMEM),
	    E(EACCES),	      E(EFAULT),	  E(ENOTBLK),	      E(EBUSY),
	    E(EEXIST),	      E(EXDEV),		  E(ENODEV),	      E(ENOTDIR),
	    E(EISDIR),	      E(EINVAL),	  E(ENFILE),	      E(EMFILE),
	    E(ENOTTY),	      E(ETXTBSY),	  E(EFBIG),	      E(ENOSPC),
	    E(ESPIPE),	      E(EROFS),		  E(EMLINK),	      E(EPIPE),
	    E(EDOM),	      E(ERANGE),	  E(EDEADLK),	      E(ENAMETOOLONG),
	    E(ENOLCK),	      E(ENOSYS),	  E(ENOTEMPTY),	      E(ELOOP),
	    E(ENOMSG),	      E(EIDRM),		  E(ENOSTR),	      E(ENODATA),
	    E(ETIME),	      E(ENOSR),		  E(EREMOTE),	      E(ENOLINK),
	    E(EPROTO),	      E(EBADMSG),	  E(EOVERFLOW),	      E(EILSEQ),
	    E(EUSERS),	      E(ENOTSOCK),	  E(EDESTADDRREQ),    E(EMSGSIZE),
	    E(EPROTOTYPE),    E(ENOPROTOOPT),	  E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT),
	    E(EOPNOTSUPP),    E(EPFNOSUPPORT),	  E(EAFNOSUPPORT),    E(EADDRINUSE),
	    E(EADDRNOTAVAIL), E(ENETDOWN),	  E(ENETUNREACH),     E(ENETRESET),
	    E(ECONNABORTED),  E(ECONNRESET),	  E(ENOBUFS),	      E(EISCONN),
	    E(ENOTCONN),      E(ESHUTDOWN),	  E(ETOOMANYREFS),    E(ETIMEDOUT),
	    E(ECONNREFUSED),  E(EHOSTDOWN),	  E(EHOSTUNREACH),    E(EALREADY),
	    E(EINPROGRESS),   E(ESTALE),	  E(EDQUOT),	      E(ECANCELED),
	    E(EOWNERDEAD),    E(ENOTRECOVERABLE), E(ERFKILL),	      E(EHWPOISON),
#undef E
	};
	if (errnum > 0 && (size_t)errnum < JV_ARRAY_SIZE(names))
		return names[errnum];
	return NULL;
}
