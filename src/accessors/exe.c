#include "accessors/exe.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "accessors/proc.h"
#include "accessors/sha256.h"
#include "common/util.h"

/* Digests of the executables seen, by file identity. */
struct digest {
	uint64_t dev, inode, size;
	int64_t sec;
	long nsec;
	char hex[65];
};
#define NCACHE 16
static struct digest cache[NCACHE];
static unsigned cache_next;

static int hash_fd(int fd, char out[65], struct jv_error *e)
{
	struct sha256 s;
	sha256_init(&s);
	_cleanup_free_ char *buf = xmalloc(1 << 16);
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, 1 << 16, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return jv_err(e, errno, "cannot read the executable");
		if (n == 0)
			break;
		sha256_update(&s, buf, (size_t)n);
		off += n;
	}
	sha256_hex(&s, out);
	return 0;
}

static int digest(int fd, const struct stat *st, char out[65], struct jv_error *e)
{
	for (unsigned i = 0; i < NCACHE; i++) {
		struct digest *d = &cache[i];
		if (d->hex[0] && d->dev == st->st_dev && d->inode == st->st_ino &&
		    d->size == (uint64_t)st->st_size && d->sec == st->st_mtim.tv_sec &&
		    d->nsec == st->st_mtim.tv_nsec) {
			memcpy(out, d->hex, 65);
			return 0;
		}
	}
	if (hash_fd(fd, out, e) < 0)
		return -1;
	struct digest *d = &cache[cache_next++ % NCACHE];
	*d = (struct digest){st->st_dev,	 st->st_ino,	      (uint64_t)st->st_size,
			     st->st_mtim.tv_sec, st->st_mtim.tv_nsec, ""};
	memcpy(d->hex, out, 65);
	return 0;
}

static bool read_at(int fd, void *buf, size_t n, uint64_t off)
{
	return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

/* Program headers: PT_INTERP and the ELF type. */
static void parse_elf(int fd, struct exe_info *x)
{
	unsigned char id[EI_NIDENT];
	if (!read_at(fd, id, sizeof(id), 0) || memcmp(id, ELFMAG, SELFMAG))
		return;
	uint64_t phoff, n, entsize, type, machine;
	if (id[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr h;
		if (!read_at(fd, &h, sizeof(h), 0))
			return;
		phoff = h.e_phoff, n = h.e_phnum, entsize = h.e_phentsize;
		type = h.e_type, machine = h.e_machine;
		x->elf_class = 64;
	} else if (id[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;
		if (!read_at(fd, &h, sizeof(h), 0))
			return;
		phoff = h.e_phoff, n = h.e_phnum, entsize = h.e_phentsize;
		type = h.e_type, machine = h.e_machine;
		x->elf_class = 32;
	} else {
		return;
	}
	x->elf = true;
	x->pie = type == ET_DYN;
	x->arch = machine == EM_X86_64 ? (x->elf_class == 32 ? "x32" : "x86_64")
		  : machine == EM_386  ? "i386"
				       : "other";
	x->is_static = true;
	for (uint64_t i = 0; i < n && i < 4096; i++) {
		uint64_t ptype, off, size;
		if (x->elf_class == 64) {
			Elf64_Phdr p;
			if (entsize < sizeof(p) || !read_at(fd, &p, sizeof(p), phoff + i * entsize))
				return;
			ptype = p.p_type, off = p.p_offset, size = p.p_filesz;
		} else {
			Elf32_Phdr p;
			if (entsize < sizeof(p) || !read_at(fd, &p, sizeof(p), phoff + i * entsize))
				return;
			ptype = p.p_type, off = p.p_offset, size = p.p_filesz;
		}
		if (ptype != PT_INTERP || size == 0 || size > 4096)
			continue;
		char *s = xcalloc(1, size + 1);
		if (!read_at(fd, s, size, off)) {
			free(s);
			return;
		}
		free(x->interp);
		x->interp = s;
		x->is_static = false;
	}
}

int exe_info(pid_t pid, struct exe_info *out, struct jv_error *e)
{
	memset(out, 0, sizeof(*out));
	if (proc_link(pid, "exe", &out->path, e) < 0)
		return -1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno == ENOENT ? ESRCH : errno;
		exe_info_free(out);
		return jv_err(e, err, "cannot open the executable of process %d", (int)pid);
	}
	out->dev = st.st_dev;
	out->dev_major = major(st.st_dev);
	out->dev_minor = minor(st.st_dev);
	out->inode = st.st_ino;
	out->size = (uint64_t)st.st_size;
	out->mode = st.st_mode;
	static const char rwx[] = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out->mode_text[i] = (st.st_mode & (0400 >> i)) ? rwx[i] : '-';
	out->mtime_sec = st.st_mtim.tv_sec;
	out->mtime_nsec = st.st_mtim.tv_nsec;
	if (digest(fd, &st, out->sha256, e) < 0) {
		exe_info_free(out);
		return -1;
	}
	parse_elf(fd, out);
	return 0;
}

void exe_info_free(struct exe_info *x)
{
	free(x->path);
	free(x->interp);
	x->path = x->interp = NULL;
}
