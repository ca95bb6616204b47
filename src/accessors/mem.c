#include "accessors/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>

#include "common/util.h"

#define PAGE 4096u

static int gone_or(int err)
{
	return err == ESRCH ? ESRCH : err;
}

static ssize_t procmem(pid_t tid, uint64_t addr, void *buf, size_t n, bool write)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
	_cleanup_close_ int fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = write ? pwrite(fd, buf, n, (off_t)addr) : pread(fd, buf, n, (off_t)addr);
	if (r < 0 && errno == EIO)
		errno = EFAULT;
	return r;
}

ssize_t mem_read(pid_t tid, uint64_t addr, void *buf, size_t n, struct jv_error *e)
{
	if (n == 0)
		return 0;
	if (addr + n < addr || addr >= (1ull << 63))
		return jv_err(e, EFAULT, "cannot read %zu bytes at 0x%llx", n,
			      (unsigned long long)addr);
	size_t done = 0;
	while (done < n) {
		/* Read page by page on failure so a short read says how far it got. */
		struct iovec local = {(char *)buf + done, n - done};
		struct iovec remote = {(void *)(uintptr_t)(addr + done), n - done};
		ssize_t r = process_vm_readv(tid, &local, 1, &remote, 1, 0);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		int err = r < 0 ? errno : EFAULT;
		if (err == EPERM || err == ENOSYS) {
			r = procmem(tid, addr + done, (char *)buf + done, n - done, false);
			if (r > 0) {
				done += (size_t)r;
				continue;
			}
			err = r < 0 ? errno : EFAULT;
		}
		if (done)
			break;
		return jv_err(e, gone_or(err), "cannot read %zu bytes at 0x%llx", n,
			      (unsigned long long)addr);
	}
	return (ssize_t)done;
}

ssize_t mem_read_string(pid_t tid, uint64_t addr, size_t max, char **out, struct jv_error *e)
{
	size_t cap = max < PAGE ? max + 1 : PAGE + 1, len = 0;
	_cleanup_free_ char *s = xmalloc(cap);
	while (len < max) {
		/* Never cross a page boundary in one read: the next page may be unmapped. */
		uint64_t at = addr + len;
		size_t chunk = PAGE - (size_t)(at % PAGE);
		if (chunk > max - len)
			chunk = max - len;
		if (len + chunk + 1 > cap) {
			cap = (len + chunk + 1) * 2;
			s = xrealloc(s, cap);
		}
		ssize_t r = mem_read(tid, at, s + len, chunk, e);
		if (r < 0) {
			if (len && e->errnum == EFAULT)
				break;
			return -1;
		}
		void *nul = memchr(s + len, '\0', (size_t)r);
		if (nul) {
			len = (size_t)((char *)nul - s);
			break;
		}
		len += (size_t)r;
		if ((size_t)r < chunk)
			break;
	}
	s[len] = '\0';
	*out = steal_pointer(&s);
	return (ssize_t)len;
}

ssize_t mem_write(pid_t tid, uint64_t addr, const void *buf, size_t n, struct jv_error *e)
{
	if (n == 0)
		return 0;
	if (addr + n < addr || addr >= (1ull << 63))
		return jv_err(e, EFAULT, "cannot write %zu bytes at 0x%llx", n,
			      (unsigned long long)addr);
	struct iovec local = {(void *)buf, n};
	struct iovec remote = {(void *)(uintptr_t)addr, n};
	ssize_t r = process_vm_writev(tid, &local, 1, &remote, 1, 0);
	if (r == (ssize_t)n)
		return r;
	/* Read-only pages (and partial writes): /proc/PID/mem writes like a debugger. */
	size_t done = r > 0 ? (size_t)r : 0;
	ssize_t w = procmem(tid, addr + done, (char *)buf + done, n - done, true);
	if (w > 0)
		return (ssize_t)(done + (size_t)w);
	if (done)
		return (ssize_t)done;
	return jv_err(e, gone_or(w < 0 ? errno : EFAULT), "cannot write %zu bytes at 0x%llx", n,
		      (unsigned long long)addr);
}
