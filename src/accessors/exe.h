/* The executable a process runs: file identity, SHA-256 of its content, and
 * how it is linked (ELF PT_INTERP). JS-free. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct exe_info {
	char *path; /* /proc/PID/exe; " (deleted)" when the file was removed */
	uint64_t dev, inode, size;
	unsigned dev_major, dev_minor;
	unsigned mode;	    /* st_mode (type and permission bits) */
	char mode_text[10]; /* "rwxr-xr-x" */
	int64_t mtime_sec;
	long mtime_nsec;
	char sha256[65];
	bool elf;	  /* the rest is meaningful only for an ELF file */
	bool is_static;	  /* no PT_INTERP */
	bool pie;	  /* ET_DYN */
	int elf_class;	  /* 32 or 64 */
	const char *arch; /* "x86_64", "i386", "x32"?, or "other" */
	char *interp;	  /* PT_INTERP, or NULL */
};

/* The digest of a file is computed once per (dev, inode, size, mtime). */
int exe_info(pid_t pid, struct exe_info *out, struct jv_error *e);
void exe_info_free(struct exe_info *x);
