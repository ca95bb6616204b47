#include "syscalls/syscalls.h"

#include <string.h>

#include "common/util.h"

struct sys_row {
	enum sys_abi abi;
	int nr;
	const char *name;
};

static const struct sys_row rows[] = {
#define SYSCALL_ROW(abi, nr, name) {SYS_ABI_##abi, nr, #name},
#include "syscall_names.inc"
#undef SYSCALL_ROW
};

static const char *native_names[SYS_NR_MAX];
static short i386_map[SYS_NR_MAX];
static short x32_map[SYS_NR_MAX];
static bool ready;

static int lookup_native(const char *name)
{
	for (size_t i = 0; i < JV_ARRAY_SIZE(rows); i++)
		if (rows[i].abi == SYS_ABI_X86_64 && strcmp(rows[i].name, name) == 0)
			return rows[i].nr;
	return -1;
}

static void init(void)
{
	if (ready)
		return;
	for (size_t i = 0; i < SYS_NR_MAX; i++)
		i386_map[i] = x32_map[i] = -1;
	for (size_t i = 0; i < JV_ARRAY_SIZE(rows); i++) {
		const struct sys_row *r = &rows[i];
		if (r->nr < 0 || r->nr >= SYS_NR_MAX)
			continue;
		if (r->abi == SYS_ABI_X86_64)
			native_names[r->nr] = r->name;
		else if (r->abi == SYS_ABI_I386)
			i386_map[r->nr] = (short)lookup_native(r->name);
		else
			x32_map[r->nr] = (short)lookup_native(r->name);
	}
	ready = true;
}

const char *sys_name(int nr)
{
	init();
	return nr >= 0 && nr < SYS_NR_MAX ? native_names[nr] : NULL;
}

int sys_number(const char *name)
{
	init();
	if (strncmp(name, "SYS_", 4) == 0)
		name += 4;
	return lookup_native(name);
}

const char *sys_abi_name(enum sys_abi abi)
{
	switch (abi) {
	case SYS_ABI_X86_64:
		return "x86_64";
	case SYS_ABI_I386:
		return "i386";
	case SYS_ABI_X32:
		return "x32";
	}
	return "?";
}

int sys_to_native(enum sys_abi abi, int nr)
{
	init();
	if (nr < 0 || nr >= SYS_NR_MAX)
		return -1;
	switch (abi) {
	case SYS_ABI_X86_64:
		return native_names[nr] ? nr : -1;
	case SYS_ABI_I386:
		return i386_map[nr];
	case SYS_ABI_X32:
		return x32_map[nr];
	}
	return -1;
}

int sys_next(int nr)
{
	init();
	for (int i = nr + 1; i < SYS_NR_MAX; i++)
		if (native_names[i])
			return i;
	return -1;
}
