/* What the BPF program (jvisor.bpf.c) and jvisor share: the maps' values and the
 * records of the ring buffer. Included by both sides: fixed-size types only
 * (the BPF side gets them from vmlinux.h, user space from <linux/types.h>). */
#pragma once

#define JB_NR_MAX 1024	    /* native syscall numbers (SYS_NR_MAX) */
#define JB_SCRATCH 28672    /* bytes of one record at most (header and captures) */
#define JB_PATH_MAX 4096    /* paths are shown whole up to this */
#define JB_ARGV_MAX 64	    /* argv/envp entries */
#define JB_IOV_MAX 8	    /* iovec entries */
#define JB_SOCKADDR_MAX 128 /* sizeof(struct sockaddr_storage) */
#define JB_FD_DEPTH 48	    /* path components of an fd walked at most */

/* Per native syscall: what to do and the roles of its arguments (filled from
 * the one syscall table, src/syscalls/syscalls.tbl, at start). */
enum jb_sysflag {
	JB_LOG = 1 << 0,      /* in the log's set: one record per call */
	JB_STOPPED = 1 << 1,  /* hooked: the ptrace stop path logs it */
	JB_NORETURN = 1 << 2, /* never returns: the record is written at entry */
	JB_ATENTRY = 1 << 3,  /* capture at entry (exec: the old image is gone at exit) */
	JB_COUNT = 1 << 4,    /* --summary without a record per call */
	JB_ARGF = 1 << 5,     /* only for observers whose argument filters map argf holds:
				 other calls are passed over at entry */
};

struct jb_sys {
	__u8 flags;
	__u8 nargs;
	__u8 role[6];
	__u8 param[6];
	__u8 outmask; /* bit i: argument i is filled by the kernel (sys_role_is_out) */
	__u8 pad;
};

/* The observers' argument filters of a syscall (hash "argf", key nr; see
 * src/bpf/argf.h): a call is captured when one term holds, a term holds when
 * all its comparisons do. A comparison: (argument & mask) op value, unsigned. */
#define JB_ARGF_TERMS 4 /* observers with a filter per syscall (more: not exported) */
#define JB_ARGF_MAX 64	/* syscalls with exported filters */
enum jb_cmpop { JB_CMP_EQ, JB_CMP_NE, JB_CMP_LT, JB_CMP_LE, JB_CMP_GT, JB_CMP_GE };

struct jb_cmp {
	__u8 arg, op; /* argument register 0..5, enum jb_cmpop */
	__u8 pad[6];
	__u64 mask, value;
};

struct jb_term {
	__u32 n, pad;
	struct jb_cmp cmp[6];
};

struct jb_argf {
	__u32 n, pad;
	struct jb_term term[JB_ARGF_TERMS];
};

/* Membership (map "tracked", key: tgid). */
enum jb_member { JB_PENDING = 1, JB_ACTIVE = 2 };

/* Settings (map "config", key 0). */
struct jb_config {
	__u32 str_max;	  /* bytes of strings and buffers captured */
	__u32 full_drop;  /* --log-full drop: never hold the program */
	__u64 ring_low;	  /* free bytes under which the thread is held */
	__u32 hold_sig;	  /* the signal that holds it (0: none) */
	__u32 wake_bytes; /* wake the reader when this much waits (it also polls) */
};

/* Counters (per-CPU array "counts", one struct per CPU). */
struct jb_counts {
	__u64 events;	 /* records written */
	__u64 lost;	 /* records the ring had no room for */
	__u64 held;	 /* threads held for backpressure */
	__u64 truncated; /* captures cut because a record was full */
};

/* Records lost per thread (hash "lost", key tid). */
struct jb_lost {
	__u32 pid, pad;
	__u64 count;
};

/* --summary counted in the kernel (per-CPU array "summary", key nr). */
struct jb_sum {
	__u64 calls, errors, ns;
};

enum jb_type { JB_CALL = 1 };
enum jb_evflag {
	JB_EV_UNFINISHED = 1 << 0, /* the thread went away in the call */
	JB_EV_NORETURN = 1 << 1,
	JB_EV_EXECARGS = 1 << 3, /* exec's strings in the new image: filename, argv, envp */
};

/* One record: the header, then ncap captures. */
struct jb_event {
	__u32 type, flags;
	__u32 pid, tid;
	__s32 nr;
	__u32 size;		 /* of the record, captures included */
	__u64 ts_enter, ts_exit; /* CLOCK_MONOTONIC ns */
	__u64 args[6];
	__s64 ret;
	char comm[16];
	__u32 ncap;
	__u32 pad;
};

/* A capture: bytes at a user address, or the path of an fd; data follows, the
 * next capture starts 8-aligned. */
enum jb_capkind {
	JB_CAP_MEM = 1, /* len bytes at addr (err: why none) */
	JB_CAP_STR = 2, /* a string at addr: up to the NUL, or len bytes ending
			   at an unreadable page (no NUL) */
	JB_CAP_FD = 3,	/* addr = fd; data: struct jb_fdpath, then names */
};

struct jb_cap {
	__u64 addr;
	__u32 len;
	__s16 err;
	__u8 kind;
	__u8 pad;
};

/* The file of an fd: what d_path shows, in pieces. */
struct jb_fdpath {
	__u64 ino;
	__u32 magic; /* of its filesystem: sockets, pipes, anon inodes are named */
	__u32 flags; /* 1: deleted; 2: the walk stopped before the root; 4: the
			filesystem names it (d_dname): one component */
	__u32 ncomp; /* components, leaf first, each NUL-terminated */
	__u32 pad;
};
