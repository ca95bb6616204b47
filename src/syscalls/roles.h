/* The argument roles of the syscall table (syscalls.tbl explains each). No
 * includes: the BPF program (src/bpf/) uses them too, to capture the bytes
 * each role needs. */
#pragma once

enum sys_role {
	SR_NONE,
	SR_INT,
	SR_UINT,
	SR_LONG,
	SR_ULONG,
	SR_SIZE,
	SR_OFF,
	SR_HEX,
	SR_PTR,
	SR_FD,
	SR_DIRFD,
	SR_PATH,
	SR_STR,
	SR_PATHOUT,
	SR_BUFIN,
	SR_BUFOUT,
	SR_IOVIN,
	SR_IOVOUT,
	SR_FLAGS,
	SR_ENUM,
	SR_MODE,
	SR_SIG,
	SR_PID,
	SR_UID,
	SR_GID,
	SR_SOCKADDR,
	SR_SOCKADDROUT,
	SR_TIMESPEC,
	SR_TIMESPECOUT,
	SR_TIMEVAL,
	SR_TIMEVALOUT,
	SR_ARGV,
	SR_ENVP,
	SR_FDPAIR,
	SR_SIGSET,
	SR_SIGSETOUT,
	SR__COUNT
};
