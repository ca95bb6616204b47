/* The one syscall table of jvisor: numbers and names for every ABI the kernel
 * headers define (generated at build time by tools/gen-syscalls.sh). */
#pragma once

#include <stdbool.h>

/* Native (x86_64) syscall numbers are below this bound; hook tables use it. */
#define SYS_NR_MAX 1024

enum sys_abi {
	SYS_ABI_X86_64 = 0,
	SYS_ABI_I386 = 1,
	SYS_ABI_X32 = 2,
};

/* Name of a native syscall number, or NULL when the number is unknown. */
const char *sys_name(int nr);
/* Native number of a syscall name, or -1. Accepts "getppid" and "SYS_getppid". */
int sys_number(const char *name);
/* "x86_64", "i386" or "x32". */
const char *sys_abi_name(enum sys_abi abi);
/* Map a syscall number of another ABI (x32 without its marker bit) to the
 * native syscall of the same name; -1 when there is none (e.g. socketcall). */
int sys_to_native(enum sys_abi abi, int nr);
/* Iterate the native table: returns the next known number > nr, or -1. */
int sys_next(int nr);
