#include "syscalls/syscalls.h"

#include <regex.h>
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
#undef SYSCALL_SIG
};

#define R(role, param)      \
	{                   \
		role, param \
	}
static const struct sys_info infos[] = {
#define SYSCALL_SIG(nr, name, classes, nargs, a0, a1, a2, a3, a4, a5) \
	{nr, #name, classes, nargs, {a0, a1, a2, a3, a4, a5}},
#include "syscall_names.inc"
#undef SYSCALL_ROW
#undef SYSCALL_SIG
};
#undef R

static const struct sys_info *info_of[SYS_NR_MAX];
static short i386_map[SYS_NR_MAX], x32_map[SYS_NR_MAX];
static short to_i386[SYS_NR_MAX], to_x32[SYS_NR_MAX];
static bool ready;

static int lookup_native(const char *name)
{
	for (size_t i = 0; i < JV_ARRAY_SIZE(infos); i++)
		if (strcmp(infos[i].name, name) == 0)
			return infos[i].nr;
	return -1;
}

static void init(void)
{
	if (ready)
		return;
	for (size_t i = 0; i < SYS_NR_MAX; i++)
		i386_map[i] = x32_map[i] = to_i386[i] = to_x32[i] = -1;
	for (size_t i = 0; i < JV_ARRAY_SIZE(infos); i++)
		if (infos[i].nr >= 0 && infos[i].nr < SYS_NR_MAX)
			info_of[infos[i].nr] = &infos[i];
	for (size_t i = 0; i < JV_ARRAY_SIZE(rows); i++) {
		const struct sys_row *r = &rows[i];
		if (r->nr < 0 || r->nr >= SYS_NR_MAX || r->abi == SYS_ABI_X86_64)
			continue;
		int native = lookup_native(r->name);
		if (r->abi == SYS_ABI_I386) {
			i386_map[r->nr] = (short)native;
			if (native >= 0)
				to_i386[native] = (short)r->nr;
		} else {
			x32_map[r->nr] = (short)native;
			if (native >= 0)
				to_x32[native] = (short)r->nr;
		}
	}
	ready = true;
}

const struct sys_info *sys_info(int nr)
{
	init();
	return nr >= 0 && nr < SYS_NR_MAX ? info_of[nr] : NULL;
}

const char *sys_name(int nr)
{
	const struct sys_info *i = sys_info(nr);
	return i ? i->name : NULL;
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
		return info_of[nr] ? nr : -1;
	case SYS_ABI_I386:
		return i386_map[nr];
	case SYS_ABI_X32:
		return x32_map[nr];
	}
	return -1;
}

int sys_from_native(enum sys_abi abi, int nr)
{
	init();
	if (nr < 0 || nr >= SYS_NR_MAX || !info_of[nr])
		return -1;
	switch (abi) {
	case SYS_ABI_X86_64:
		return nr;
	case SYS_ABI_I386:
		return to_i386[nr];
	case SYS_ABI_X32:
		return to_x32[nr];
	}
	return -1;
}

int sys_next(int nr)
{
	init();
	for (int i = nr + 1; i < SYS_NR_MAX; i++)
		if (info_of[i])
			return i;
	return -1;
}

/* ---- names ---- */

static const char *const role_names[SR__COUNT] = {
    [SR_NONE] = "none",
    [SR_INT] = "int",
    [SR_UINT] = "uint",
    [SR_LONG] = "long",
    [SR_ULONG] = "ulong",
    [SR_SIZE] = "size",
    [SR_OFF] = "off",
    [SR_HEX] = "hex",
    [SR_PTR] = "ptr",
    [SR_FD] = "fd",
    [SR_DIRFD] = "dirfd",
    [SR_PATH] = "path",
    [SR_STR] = "str",
    [SR_PATHOUT] = "pathout",
    [SR_BUFIN] = "bufin",
    [SR_BUFOUT] = "bufout",
    [SR_IOVIN] = "iovin",
    [SR_IOVOUT] = "iovout",
    [SR_FLAGS] = "flags",
    [SR_ENUM] = "enum",
    [SR_MODE] = "mode",
    [SR_SIG] = "sig",
    [SR_PID] = "pid",
    [SR_UID] = "uid",
    [SR_GID] = "gid",
    [SR_SOCKADDR] = "sockaddr",
    [SR_SOCKADDROUT] = "sockaddrout",
    [SR_TIMESPEC] = "timespec",
    [SR_TIMESPECOUT] = "timespecout",
    [SR_TIMEVAL] = "timeval",
    [SR_TIMEVALOUT] = "timevalout",
    [SR_ARGV] = "argv",
    [SR_ENVP] = "envp",
    [SR_FDPAIR] = "fdpair",
    [SR_SIGSET] = "sigset",
    [SR_SIGSETOUT] = "sigsetout",
};

static const char *const kind_names[SK__COUNT] = {
    [SK_NONE] = "none",
    [SK_OPEN] = "open",
    [SK_FD] = "fd",
    [SK_AT] = "at",
    [SK_PROT] = "prot",
    [SK_MAP] = "map",
    [SK_SOCK] = "sock",
    [SK_MSG] = "msg",
    [SK_CLONE] = "clone",
    [SK_ACCESS] = "access",
    [SK_WAIT] = "wait",
    [SK_MREMAP] = "mremap",
    [SK_MSYNC] = "msync",
    [SK_IPC] = "ipc",
    [SK_SHM] = "shm",
    [SK_FLOCK] = "flock",
    [SK_RENAME] = "rename",
    [SK_MEMFD] = "memfd",
    [SK_SEEK] = "seek",
    [SK_SIGHOW] = "sighow",
    [SK_MADV] = "madv",
    [SK_AF] = "af",
    [SK_SHUT] = "shut",
    [SK_FCNTL] = "fcntl",
    [SK_RLIMIT] = "rlimit",
    [SK_PTRACE] = "ptrace",
    [SK_PRCTL] = "prctl",
    [SK_ARCHPRCTL] = "archprctl",
    [SK_FUTEX] = "futex",
    [SK_CLOCK] = "clock",
    [SK_EPOLLCTL] = "epollctl",
    [SK_FADVISE] = "fadvise",
};

/* Class names as strace spells them; later names are aliases. */
static const struct {
	const char *name;
	unsigned bits;
} class_names[] = {
    {"file", SC_FILE},
    {"desc", SC_DESC},
    {"network", SC_NETWORK},
    {"process", SC_PROCESS},
    {"signal", SC_SIGNAL},
    {"memory", SC_MEMORY},
    {"ipc", SC_IPC},
    {"creds", SC_CREDS},
    {"clock", SC_CLOCK},
    {"stat", SC_STAT},
    {"lstat", SC_LSTAT},
    {"fstat", SC_FSTAT},
    {"statfs", SC_STATFS},
    {"fstatfs", SC_FSTATFS},
    {"pure", SC_PURE},
    {"net", SC_NETWORK},
    {"%stat", SC_STAT | SC_LSTAT | SC_FSTAT},
    {"%statfs", SC_STATFS | SC_FSTATFS},
};

const char *sys_role_name(enum sys_role r)
{
	return r < SR__COUNT ? role_names[r] : "?";
}
const char *sys_kind_name(enum sys_kind k)
{
	return k < SK__COUNT ? kind_names[k] : "?";
}

void sys_class_names(unsigned classes, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < 15; i++) {
		if (!(classes & class_names[i].bits))
			continue;
		int w = snprintf(buf + n, len - n, "%s%s", n ? "," : "", class_names[i].name);
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
	if (!n)
		snprintf(buf, len, "-");
}

bool sys_role_is_out(enum sys_role r)
{
	switch (r) {
	case SR_BUFOUT:
	case SR_PATHOUT:
	case SR_IOVOUT:
	case SR_SOCKADDROUT:
	case SR_TIMESPECOUT:
	case SR_TIMEVALOUT:
	case SR_FDPAIR:
	case SR_SIGSETOUT:
		return true;
	default:
		return false;
	}
}

/* ---- sets ---- */

bool sys_set_empty(const struct sys_set *s)
{
	for (size_t i = 0; i < JV_ARRAY_SIZE(s->w); i++)
		if (s->w[i])
			return false;
	return true;
}

static int add_token(const char *tok, struct sys_set *s, struct jv_error *e)
{
	init();
	if (!strcmp(tok, "all")) {
		for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr))
			sys_set_add(s, nr);
		return 0;
	}
	if (!strcmp(tok, "none"))
		return 0;
	if (tok[0] == '%') {
		for (size_t i = 0; i < JV_ARRAY_SIZE(class_names); i++) {
			if (strcmp(class_names[i].name, tok + 1) != 0)
				continue;
			for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr))
				if (info_of[nr]->classes & class_names[i].bits)
					sys_set_add(s, nr);
			return 0;
		}
		return jv_err(
		    e, 0,
		    "unknown syscall class '%s' (known: %%file %%desc %%network %%process "
		    "%%signal %%memory %%ipc %%creds %%clock %%stat %%lstat %%fstat %%%%stat "
		    "%%statfs %%fstatfs %%%%statfs %%pure)",
		    tok);
	}
	if (tok[0] == '/') {
		regex_t re;
		if (regcomp(&re, tok + 1, REG_EXTENDED | REG_NOSUB) != 0)
			return jv_err(e, 0, "bad regular expression '%s'", tok + 1);
		int n = 0;
		for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr)) {
			if (regexec(&re, info_of[nr]->name, 0, NULL, 0) == 0) {
				sys_set_add(s, nr);
				n++;
			}
		}
		regfree(&re);
		if (!n)
			return jv_err(e, 0, "no syscall matches '%s'", tok);
		return 0;
	}
	char *end;
	long nr = strtol(tok, &end, 10);
	if (end != tok && !*end) {
		if (!sys_info((int)nr) || nr >= SYS_NR_MAX)
			return jv_err(e, 0, "unknown syscall number %s", tok);
		sys_set_add(s, (int)nr);
		return 0;
	}
	int n = sys_number(tok);
	if (n < 0)
		return jv_err(e, 0, "unknown syscall '%s' (see jvisor syscalls)", tok);
	sys_set_add(s, n);
	return 0;
}

int sys_set_parse(const char *expr, struct sys_set *s, struct jv_error *e)
{
	if (!strncmp(expr, "trace=", 6))
		expr += 6;
	bool negate = expr[0] == '!';
	if (negate)
		expr++;
	if (!*expr)
		return jv_err(e, 0, "empty syscall set");
	struct sys_set part = {{0}};
	_cleanup_free_ char *copy = xstrdup(expr);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (add_token(tok, &part, e) < 0)
			return -1;
	for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr))
		if (sys_set_has(&part, nr) != negate)
			sys_set_add(s, nr);
	return 0;
}
