/* The one syscall table of jvisor: numbers and names for every ABI the kernel
 * headers define, joined at build time with the rows of syscalls.tbl (classes
 * and argument roles) by tools/gen-syscalls.sh. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

/* Native (x86_64) syscall numbers are below this bound; hook tables use it. */
#define SYS_NR_MAX 1024

enum sys_abi {
	SYS_ABI_X86_64 = 0,
	SYS_ABI_I386 = 1,
	SYS_ABI_X32 = 2,
};

/* Classes, as strace's -e trace=%CLASS. */
enum sys_class {
	SC_FILE = 1u << 0,
	SC_DESC = 1u << 1,
	SC_NETWORK = 1u << 2,
	SC_PROCESS = 1u << 3,
	SC_SIGNAL = 1u << 4,
	SC_MEMORY = 1u << 5,
	SC_IPC = 1u << 6,
	SC_CREDS = 1u << 7,
	SC_CLOCK = 1u << 8,
	SC_STAT = 1u << 9,
	SC_LSTAT = 1u << 10,
	SC_FSTAT = 1u << 11,
	SC_STATFS = 1u << 12,
	SC_FSTATFS = 1u << 13,
	SC_PURE = 1u << 14,
	SC_NOSLEEP = 1u << 30,	/* a flag: never sleeps, so never fails with EINTR */
	SC_NORETURN = 1u << 31, /* a flag, not a class: the syscall never returns */
};

#include "syscalls/roles.h"

/* Kinds of named flags and values (the parameter of flags:KIND and enum:KIND). */
enum sys_kind {
	SK_NONE,
	SK_OPEN,
	SK_FD,
	SK_AT,
	SK_PROT,
	SK_MAP,
	SK_SOCK,
	SK_MSG,
	SK_CLONE,
	SK_ACCESS,
	SK_WAIT,
	SK_MREMAP,
	SK_MSYNC,
	SK_IPC,
	SK_SHM,
	SK_FLOCK,
	SK_RENAME,
	SK_MEMFD,
	SK_SEEK,
	SK_SIGHOW,
	SK_MADV,
	SK_AF,
	SK_SHUT,
	SK_FCNTL,
	SK_RLIMIT,
	SK_PTRACE,
	SK_PRCTL,
	SK_ARCHPRCTL,
	SK_FUTEX,
	SK_CLOCK,
	SK_EPOLLCTL,
	SK_FADVISE,
	SK__COUNT
};

struct sys_arg {
	uint8_t role;  /* enum sys_role */
	uint8_t param; /* argument index (lengths) or enum sys_kind (flags, enum) */
};

/* One row of the table. */
struct sys_info {
	int nr;
	const char *name;
	unsigned classes;
	int nargs;
	struct sys_arg args[6];
};

/* Name of a native syscall number, or NULL when the number is unknown. */
const char *sys_name(int nr);
/* The row of a native syscall number, or NULL. */
const struct sys_info *sys_info(int nr);
/* Native number of a syscall name, or -1. Accepts "getppid" and "SYS_getppid". */
int sys_number(const char *name);
/* "x86_64", "i386" or "x32". */
const char *sys_abi_name(enum sys_abi abi);
/* Map a syscall number of another ABI (x32 without its marker bit) to the
 * native syscall of the same name; -1 when there is none (e.g. socketcall). */
int sys_to_native(enum sys_abi abi, int nr);
/* The number of the native syscall nr in another ABI, or -1. */
int sys_from_native(enum sys_abi abi, int nr);
/* Iterate the native table: returns the next known number > nr, or -1. */
int sys_next(int nr);

/* Names of roles, kinds and classes, as written in syscalls.tbl. */
const char *sys_role_name(enum sys_role r);
const char *sys_kind_name(enum sys_kind k);
/* "desc,file" (without the noreturn flag); "-" when none. */
void sys_class_names(unsigned classes, char *buf, size_t len);
/* Is the role filled in by the kernel (decoded at the syscall's exit)? */
bool sys_role_is_out(enum sys_role r);

/* A set of native syscall numbers. */
struct sys_set {
	uint64_t w[SYS_NR_MAX / 64];
};
static inline bool sys_set_has(const struct sys_set *s, int nr)
{
	return nr >= 0 && nr < SYS_NR_MAX && (s->w[nr / 64] >> (nr % 64) & 1);
}
static inline void sys_set_add(struct sys_set *s, int nr)
{
	if (nr >= 0 && nr < SYS_NR_MAX)
		s->w[nr / 64] |= 1ull << (nr % 64);
}
bool sys_set_empty(const struct sys_set *s);
/* Add the syscalls of an strace-like expression to *s: a comma-separated list
 * of names, numbers, %classes, /regex, "all" or "none"; a leading '!' takes
 * the complement of the list; "trace=" in front is accepted. */
int sys_set_parse(const char *expr, struct sys_set *s, struct jv_error *e);
