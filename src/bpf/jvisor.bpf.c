// SPDX-License-Identifier: GPL-2.0
/* jvisor's BPF event source (docs/log.md, "Backends"): raw_syscalls sys_enter and
 * sys_exit as raw_tp programs log the calls of the program's processes into a
 * ring buffer. The kernel side knows no syscall: per number it gets from user
 * space (map systab, filled from src/syscalls/syscalls.tbl) whether to log the
 * call and the role of each argument, and captures the bytes each role needs;
 * jvisor decodes them with the decoder the ptrace path uses. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/event.h"
#include "bpf/argfmatch.h"
#include "syscalls/roles.h"

char LICENSE[] SEC("license") = "GPL";

#define EFAULT 14
#define CHUNK 4104 /* largest capture: a path and its NUL, and one more byte */
#define LIMIT (JB_SCRATCH - sizeof(struct jb_cap) - CHUNK)
#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24); /* resized by jvisor before loading */
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, JB_NR_MAX);
	__type(key, __u32);
	__type(value, struct jb_sys);
} systab SEC(".maps");

/* The observers' argument filters of the syscalls flagged JB_ARGF (key nr). A
 * hash: an update replaces an entry whole, never under a reader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JB_ARGF_MAX);
	__type(key, __u32);
	__type(value, struct jb_argf);
} argf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* allocated as processes come */
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct jb_config);
} jvconfig SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct jb_counts);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, JB_NR_MAX);
	__type(key, __u32);
	__type(value, struct jb_sum);
} summary SEC(".maps");

/* The walk from an fd's dentry up to the root, as d_path() does (kept in map
 * memory: the verifier then checks one step, not every one). */
struct walk {
	struct dentry *d;
	struct mount *m;
	__u64 pos;
	__u32 ncomp, flags;
	__u32 named;
};

struct exec_walk {
	__u64 off, pos, envp;
	int argc, n;
	__u32 max, pad;
};

struct argv_walk {
	__u64 addr, ptrs, off;
	__u32 n, max;
};

/* Records the ring had no room for, per thread (key tid). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct jb_lost);
} lost SEC(".maps");

struct scratch {
	struct jb_event ev;
	__u8 data[JB_SCRATCH];
	struct walk w;
	struct exec_walk x;
	struct argv_walk a;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* The call in progress of a thread. */
#define FDCAP 1024
struct entry {
	__u64 ts;
	__u64 args[6];
	__s32 nr; /* -1: none */
	__u32 tid;
	/* The fds' paths, captured at entry (close has none at exit). */
	__u32 fdlen, fdn;
	__u8 fdcap[FDCAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct entry);
} entries SEC(".maps");

static __always_inline struct scratch *scr(void)
{
	__u32 z = 0;
	return bpf_map_lookup_elem(&scratch, &z);
}

static __always_inline struct jb_counts *cnt(void)
{
	__u32 z = 0;
	return bpf_map_lookup_elem(&counts, &z);
}

static __always_inline __u32 str_max(void)
{
	__u32 z = 0;
	struct jb_config *c = bpf_map_lookup_elem(&jvconfig, &z);
	__u32 n = c ? c->str_max : 256;
	return n > JB_PATH_MAX ? JB_PATH_MAX : n;
}

static __always_inline __u32 align8(__u32 n)
{
	return (n + 7) & ~7u;
}

static __noinline int full(__u64 off)
{
	struct jb_counts *c = cnt();
	if (c)
		c->truncated++;
	return (int)off;
}

/* len bytes at addr. Returns the offset after the capture. */
__noinline int cap_mem(__u64 off, __u64 addr, __u64 len)
{
	struct scratch *s = scr();
	if (!s)
		return (int)off;
	barrier_var(off);
	if (off > LIMIT)
		return full(off);
	barrier_var(off);
	barrier_var(len);
	if (len > CHUNK)
		len = CHUNK;
	barrier_var(len);
	struct jb_cap *c = (void *)(s->data + off);
	c->addr = addr;
	c->kind = JB_CAP_MEM;
	c->pad = 0;
	long r = len ? bpf_probe_read_user(s->data + off + sizeof(*c), len, (void *)addr) : 0;
	c->len = r < 0 ? 0 : len;
	c->err = r < 0 ? (__s16)-r : 0;
	s->ev.ncap++;
	return (int)(off + sizeof(*c) + align8(c->len));
}

/* A string at addr: up to max bytes with its NUL. One that runs into an
 * unreadable page is kept up to that page. */
__noinline int cap_str(__u64 off, __u64 addr, __u64 max);

/* The string at src (kernel memory when kernel), recorded as at addr 0 in
 * order: exec's strings, which jvisor pairs with the old argv's pointers. */
__noinline int cap_copy(__u64 off, __u64 src, __u64 max, int kernel)
{
	struct scratch *s = scr();
	if (!s)
		return (int)off;
	barrier_var(off);
	if (off > LIMIT)
		return full(off);
	barrier_var(off);
	barrier_var(max);
	if (max > CHUNK)
		max = CHUNK;
	barrier_var(max);
	struct jb_cap *c = (void *)(s->data + off);
	__u8 *dst = s->data + off + sizeof(*c);
	c->addr = 0;
	c->kind = JB_CAP_STR;
	c->pad = 0;
	c->err = 0;
	long r = kernel ? bpf_probe_read_kernel_str(dst, max, (void *)src)
			: bpf_probe_read_user_str(dst, max, (void *)src);
	if (r < 0) {
		c->err = (__s16)-r;
		r = 0;
	}
	c->len = (__u32)r;
	s->ev.ncap++;
	return (int)(off + sizeof(*c) + align8(c->len));
}

__noinline int cap_str(__u64 off, __u64 addr, __u64 max)
{
	struct scratch *s = scr();
	if (!s)
		return (int)off;
	barrier_var(off);
	if (off > LIMIT)
		return full(off);
	barrier_var(off);
	barrier_var(max);
	if (max > CHUNK)
		max = CHUNK;
	barrier_var(max);
	struct jb_cap *c = (void *)(s->data + off);
	__u8 *dst = s->data + off + sizeof(*c);
	c->addr = addr;
	c->kind = JB_CAP_STR;
	c->pad = 0;
	c->err = 0;
	long r = bpf_probe_read_user_str(dst, max, (void *)addr);
	if (r < 0) {
		__u64 n = 4096 - (addr & 4095);
		barrier_var(n);
		if (n < max && n <= CHUNK && bpf_probe_read_user(dst, n, (void *)addr) == 0) {
			r = n;
		} else {
			c->err = (__s16)-r;
			r = 0;
		}
	}
	c->len = (__u32)r;
	s->ev.ncap++;
	return (int)(off + sizeof(*c) + align8(c->len));
}

static long walk_step(__u32 i, void *ctx)
{
	struct scratch *s = scr();
	if (!s)
		return 1;
	struct walk *w = &s->w;
	struct dentry *d = w->d;
	struct mount *m = w->m;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct dentry *root = BPF_CORE_READ(m, mnt.mnt_root);
	if (!w->named && (d == root || d == parent)) {
		if (d != root) {
			w->flags |= 2; /* not reachable from the root */
			return 1;
		}
		struct mount *mp = BPF_CORE_READ(m, mnt_parent);
		if (mp == m)
			return 1;
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = mp;
		return 0;
	}
	__u64 pos = w->pos;
	barrier_var(pos);
	if (pos > JB_SCRATCH - 256 || w->ncomp >= JB_FD_DEPTH) {
		w->flags |= 2;
		return 1;
	}
	barrier_var(pos);
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	long r = bpf_probe_read_kernel_str(s->data + pos, 256, name);
	if (r <= 0)
		return 1;
	w->pos = pos + (__u64)r;
	w->ncomp++;
	w->d = parent;
	return w->named & 1;
}

/* The path of fd, as d_path() shows it, in pieces (struct jb_fdpath). */
__noinline int cap_fd(__u64 off, int fd)
{
	struct scratch *s = scr();
	if (!s || fd < 0)
		return (int)off;
	barrier_var(off);
	if (off > LIMIT)
		return full(off);
	barrier_var(off);
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = BPF_CORE_READ(t, files);
	if (!files)
		return (int)off;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	if ((unsigned)fd >= BPF_CORE_READ(fdt, max_fds))
		return (int)off;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return (int)off;
	struct jb_cap *c = (void *)(s->data + off);
	struct jb_fdpath *p = (void *)(s->data + off + sizeof(*c));
	c->addr = (__u64)fd;
	c->kind = JB_CAP_FD;
	c->err = 0;
	c->pad = 0;
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	struct mount *m = container_of(vm, struct mount, mnt);
	p->ino = BPF_CORE_READ(f, f_inode, i_ino);
	p->magic = (__u32)BPF_CORE_READ(d, d_sb, s_magic);
	p->flags = 0;
	p->ncomp = 0;
	p->pad = 0;
	if (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d)
		p->flags |= 1;
	s->w.d = d;
	s->w.m = m;
	s->w.pos = off + sizeof(*c) + sizeof(*p);
	s->w.ncomp = 0;
	s->w.flags = 0;
	s->w.named = BPF_CORE_READ(d, d_op, d_dname) != NULL;
	bpf_loop(JB_FD_DEPTH * 2, walk_step, NULL, 0);
	p->ncomp = s->w.ncomp;
	p->flags |= s->w.flags | (s->w.named ? 4 : 0);
	__u64 pos = s->w.pos;
	barrier_var(pos);
	if (pos > JB_SCRATCH)
		pos = JB_SCRATCH;
	c->len = pos - off - sizeof(*c);
	s->ev.ncap++;
	return (int)(off + sizeof(*c) + align8(c->len));
}

/* argv/envp: the pointers (as one capture), then each string. The loops are
 * bpf_loop callbacks with their state in map memory (one step is verified). */
static long argv_ptr_step(__u32 i, void *ctx)
{
	struct scratch *s = scr();
	if (!s)
		return 1;
	__u64 pos = s->a.ptrs + 8 * (__u64)i;
	barrier_var(pos);
	if (pos > JB_SCRATCH - 8)
		return 1;
	barrier_var(pos);
	__u64 v = 0;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)(s->a.addr + 8 * (__u64)i)))
		return 1;
	*(__u64 *)(s->data + pos) = v;
	s->a.n = i + 1;
	return v ? 0 : 1;
}

static long argv_str_step(__u32 i, void *ctx)
{
	struct scratch *s = scr();
	if (!s || i >= s->a.n)
		return 1;
	__u64 pos = s->a.ptrs + 8 * (__u64)i;
	barrier_var(pos);
	if (pos > JB_SCRATCH - 8)
		return 1;
	barrier_var(pos);
	__u64 v = *(__u64 *)(s->data + pos);
	if (!v)
		return 1;
	s->a.off = (__u64)cap_str(s->a.off, v, s->a.max + 2);
	return 0;
}

__noinline int cap_argv(__u64 off, __u64 addr, __u32 max)
{
	struct scratch *s = scr();
	if (!s || !addr)
		return (int)off;
	barrier_var(off);
	if (off > LIMIT)
		return full(off);
	barrier_var(off);
	struct jb_cap *c = (void *)(s->data + off);
	c->addr = addr;
	c->kind = JB_CAP_MEM;
	c->pad = 0;
	s->a.addr = addr;
	s->a.ptrs = off + sizeof(*c);
	s->a.n = 0;
	s->a.max = max;
	bpf_loop(JB_ARGV_MAX + 1, argv_ptr_step, NULL, 0);
	__u32 n = s->a.n;
	if (n > JB_ARGV_MAX + 1)
		n = JB_ARGV_MAX + 1;
	c->len = n * 8;
	c->err = n ? 0 : EFAULT;
	s->ev.ncap++;
	s->a.off = off + sizeof(*c) + n * 8;
	bpf_loop(JB_ARGV_MAX, argv_str_step, NULL, 0);
	return (int)s->a.off;
}

/* An iovec array of count entries, then each buffer (total bytes at most). */
__noinline int cap_iov(__u64 off, __u64 addr, __u64 count, __u64 total, __u32 max)
{
	struct scratch *s = scr();
	if (!s || !addr)
		return (int)off;
	if (count > JB_IOV_MAX)
		count = JB_IOV_MAX;
	__u64 iov[2 * JB_IOV_MAX] = {};
	__u64 before = off;
	off = (__u64)cap_mem(off, addr, (__u32)count * 16);
	if (off == before || bpf_probe_read_user(iov, (__u32)count * 16 & 0xff, (void *)addr))
		return (int)off;
	for (int i = 0; i < JB_IOV_MAX; i++) {
		if (i >= count)
			break;
		__u64 len = iov[2 * i + 1];
		if (len > total)
			len = total;
		total -= len;
		off = (__u64)cap_mem(off, iov[2 * i], len < max ? (__u32)len : max);
	}
	return (int)off;
}

enum { CAP_ALL, CAP_FDS, CAP_NOFDS };

/* The bytes argument i of the record in the scratch needs (a global
 * function: the verifier checks it once, not once per argument and caller). */
__noinline int cap_arg(__u64 off, __u64 i, int at_exit, __s64 ret, int which)
{
	struct scratch *s = scr();
	barrier_var(i);
	if (!s || i >= 6)
		return (int)off;
	barrier_var(i);
	__u32 k = (__u32)s->ev.nr;
	const struct jb_sys *sys = bpf_map_lookup_elem(&systab, &k);
	if (!sys || i >= sys->nargs)
		return (int)off;
	i &= 7;
	if (i >= 6)
		return (int)off;
	__u32 max = str_max();
	bool failed = ret < 0 && ret >= -4095;
	__u8 role = sys->role[i];
	bool fd = role == SR_FD || role == SR_DIRFD;
	if ((which == CAP_FDS && !fd) || (which == CAP_NOFDS && fd))
		return (int)off;
	bool out = sys->outmask & (1u << i);
	if (out && (!at_exit || failed))
		return (int)off;
	__u64 v = s->ev.args[i];
	__u8 pi = sys->param[i];
	__u64 pv = s->ev.args[pi < 6 ? pi : 0];
	switch (role) {
	case SR_FD:
	case SR_DIRFD:
		return cap_fd(off, (int)v);
	case SR_PATH:
	case SR_PATHOUT:
		return v ? cap_str(off, v, JB_PATH_MAX + 2) : (int)off;
	case SR_STR:
		return v ? cap_str(off, v, max + 2) : (int)off;
	case SR_BUFIN:
		return cap_mem(off, v, pv < max ? (__u32)pv : max);
	case SR_BUFOUT:
		return cap_mem(off, v, (__u64)ret < max ? (__u32)ret : max);
	case SR_IOVIN:
		return cap_iov(off, v, pv, ~0ull, max);
	case SR_IOVOUT:
		return cap_iov(off, v, pv, (__u64)ret, max);
	case SR_SOCKADDR:
		return v ? cap_mem(off, v,
				   (__u32)pv < JB_SOCKADDR_MAX ? (__u32)pv : JB_SOCKADDR_MAX)
			 : (int)off;
	case SR_SOCKADDROUT: {
		__u32 len = 0;
		if (!v || !pv || bpf_probe_read_user(&len, sizeof(len), (void *)pv))
			return (int)off;
		off = (__u64)cap_mem(off, pv, sizeof(len));
		return cap_mem(off, v, len < JB_SOCKADDR_MAX ? len : JB_SOCKADDR_MAX);
	}
	case SR_TIMESPEC:
	case SR_TIMESPECOUT:
	case SR_TIMEVAL:
	case SR_TIMEVALOUT:
		return v ? cap_mem(off, v, 16) : (int)off;
	case SR_FDPAIR:
		return cap_mem(off, v, 8);
	case SR_SIGSET:
	case SR_SIGSETOUT:
		return v ? cap_mem(off, v, pv > 0 && pv < 8 ? (__u32)pv : 8) : (int)off;
	case SR_ARGV:
	case SR_ENVP:
		return cap_argv(off, v, max);
	default:
		return (int)off;
	}
}

static __always_inline __u64 capture(struct scratch *s, const struct jb_sys *sys, bool at_exit,
				     __s64 ret, int which, __u64 off)
{
	__u32 nargs = sys->nargs;
	for (int i = 0; i < 6; i++) {
		if (i >= nargs)
			break;
		off = (__u64)cap_arg(off, i, at_exit, ret, which);
	}
	return off;
}

/* Backpressure: when the ring buffer's free space runs under the watermark,
 * the thread gets a SIGSTOP from the kernel (si_code SI_KERNEL), which jvisor,
 * its tracer, sees at the signal-delivery stop: it writes what the ring holds,
 * then resumes the thread without the signal. The program never sees it. */
/* Returns the ring buffer's wake-up flag: a wake-up per record costs the
 * writer more than the record (an IPI on a VM); the reader is woken when
 * wake_bytes wait, and polls every few milliseconds for the rest. */
static __always_inline __u64 hold_if_full(struct jb_counts *c)
{
	__u32 z = 0;
	struct jb_config *cfg = bpf_map_lookup_elem(&jvconfig, &z);
	if (!cfg)
		return 0;
	__u64 used = bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA);
	__u64 flag = used >= cfg->wake_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (cfg->full_drop || !cfg->hold_sig)
		return flag;
	__u64 size = bpf_ringbuf_query(&ring, BPF_RB_RING_SIZE);
	if (size - used >= cfg->ring_low)
		return flag;
	if (bpf_send_signal_thread(cfg->hold_sig) == 0 && c)
		c->held++;
	return BPF_RB_FORCE_WAKEUP;
}

/* Write the record in the scratch, with off bytes of captures. */
static __always_inline void emit(struct scratch *s, __u64 off)
{
	struct jb_counts *c = cnt();
	__u64 flag = hold_if_full(c);
	__u64 size = sizeof(struct jb_event) + off;
	asm volatile("" : "+r"(size));
	if (size > sizeof(struct scratch))
		size = sizeof(struct scratch);
	asm volatile("" : "+r"(size));
	s->ev.size = (__u32)size;
	if (bpf_ringbuf_output(&ring, s, size, flag) == 0) {
		if (c)
			c->events++;
		return;
	}
	if (c)
		c->lost++;
	__u32 tid = s->ev.pad; /* the thread now */
	struct jb_lost *l = bpf_map_lookup_elem(&lost, &tid);
	if (l) {
		__sync_fetch_and_add(&l->count, 1);
	} else {
		struct jb_lost n = {.pid = s->ev.pid, .count = 1};
		bpf_map_update_elem(&lost, &tid, &n, BPF_NOEXIST);
	}
}

static __always_inline void header(struct scratch *s, struct task_struct *t, struct entry *e,
				   __u32 flags)
{
	s->ev.type = JB_CALL;
	s->ev.flags = flags;
	s->ev.pid = (__u32)t->tgid;
	s->ev.tid = e->tid;
	s->ev.nr = e->nr;
	s->ev.ts_enter = e->ts;
	s->ev.ts_exit = bpf_ktime_get_ns();
	for (int i = 0; i < 6; i++)
		s->ev.args[i] = e->args[i];
	s->ev.ret = 0;
	s->ev.ncap = 0;
	s->ev.pad = (__u32)t->pid;
	bpf_get_current_comm(s->ev.comm, sizeof(s->ev.comm));
}

/* The captures of a call: the fds' from its entry, the rest now. */
static __always_inline __u64 with_fds(struct scratch *s, struct entry *e, const struct jb_sys *sys,
				      bool at_exit, __s64 ret)
{
	__u64 len = e->fdlen;
	barrier_var(len);
	if (len > FDCAP)
		len = FDCAP;
	barrier_var(len);
	if (len)
		bpf_probe_read_kernel(s->data, len, e->fdcap);
	s->ev.ncap = e->fdn;
	return capture(s, sys, at_exit, ret, CAP_NOFDS, len);
}

static __always_inline const struct jb_sys *sys_of(long nr)
{
	if (nr < 0 || nr >= JB_NR_MAX)
		return NULL;
	__u32 k = (__u32)nr;
	return bpf_map_lookup_elem(&systab, &k);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(jv_sys_enter, struct pt_regs *regs_unused, long id)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tgid = (__u32)t->tgid;
	__u32 *m = bpf_map_lookup_elem(&tracked, &tgid);
	if (!m)
		return 0;
	if (*m == JB_PENDING) {
		/* jvisor's child: from its execve of the program on. */
		if (id != 59 && id != 322)
			return 0;
		*m = JB_ACTIVE;
	}
	if (t->thread_info.status & 0x0002 /* TS_COMPAT */)
		return 0; /* i386 calls: trapped and logged by the ptrace path */
	const struct jb_sys *sys = sys_of(id);
	if (!sys || !(sys->flags & (JB_LOG | JB_COUNT)) || (sys->flags & JB_STOPPED))
		return 0;
	/* The tracepoint's regs are the task's user registers; as a BTF pointer
	 * (raw_tp's own argument is a plain value) they are read directly. */
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(t);
	__u64 a[6] = {r->di, r->si, r->dx, r->r10, r->r8, r->r9};
	if (sys->flags & JB_ARGF) {
		/* Only observers want it, and none takes these arguments: no record. */
		__u32 k = (__u32)id;
		const struct jb_argf *f = bpf_map_lookup_elem(&argf, &k);
		if (f && !jb_argf_pass(f, a))
			return 0;
	}
	struct entry *e = bpf_task_storage_get(&entries, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	e->nr = (__s32)id;
	e->tid = (__u32)t->pid;
	for (int i = 0; i < 6; i++)
		e->args[i] = a[i];
	e->fdlen = e->fdn = 0;
	if ((sys->flags & (JB_COUNT | JB_NORETURN)) == (JB_COUNT | JB_NORETURN)) {
		__u32 k = (__u32)id;
		struct jb_sum *sum = bpf_map_lookup_elem(&summary, &k);
		if (sum)
			sum->calls++; /* no exit to count it at */
		e->nr = -1;
	}
	if (!(sys->flags & JB_LOG))
		return 0;
	struct scratch *s = scr();
	if (!s)
		return 0;
	if (!(sys->flags & (JB_NORETURN | JB_ATENTRY))) {
		/* The fds' paths now: the call may close them. */
		s->ev.ncap = 0;
		s->ev.nr = (__s32)id; /* cap_arg() finds the roles by it */
		for (int i = 0; i < 6; i++)
			s->ev.args[i] = e->args[i];
		__u64 len = capture(s, sys, false, 0, CAP_FDS, 0);
		barrier_var(len);
		if (len > 0 && len <= FDCAP) {
			bpf_probe_read_kernel(e->fdcap, len, s->data);
			e->fdlen = (__u32)len;
			e->fdn = s->ev.ncap;
		}
		return 0;
	}
	header(s, t, e, (sys->flags & JB_NORETURN) ? JB_EV_NORETURN : 0);
	s->ev.ts_exit = 0; /* an entry half: the exit's record completes it */
	emit(s, capture(s, sys, false, 0, CAP_ALL, 0));
	if (sys->flags & JB_NORETURN)
		e->nr = -1;
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(jv_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct entry *e = bpf_task_storage_get(&entries, t, 0, 0);
	if (!e || e->nr < 0)
		return 0;
	const struct jb_sys *sys = sys_of(e->nr);
	if (!sys) {
		e->nr = -1;
		return 0;
	}
	if (sys->flags & JB_COUNT) {
		__u32 k = (__u32)e->nr;
		struct jb_sum *sum = bpf_map_lookup_elem(&summary, &k);
		if (sum) {
			sum->calls++;
			sum->errors += ret < 0 && ret >= -4095;
			sum->ns += bpf_ktime_get_ns() - e->ts;
		}
	}
	if (!(sys->flags & JB_LOG)) {
		e->nr = -1;
		return 0;
	}
	/* Killed in the call (SIGKILL pending: exit_group or exec in another
	 * thread, kill -9): it never returns to the program; the thread's exit
	 * writes it as unfinished. */
	if (t->pending.signal.sig[0] & (1ul << (9 - 1)))
		return 0;
	struct scratch *s = scr();
	if (!s) {
		e->nr = -1;
		return 0;
	}
	header(s, t, e, 0);
	s->ev.ret = ret;
	__u64 off;
	if (!(sys->flags & JB_ATENTRY))
		off = with_fds(s, e, sys, true, ret);
	else if (ret < 0)
		off = capture(s, sys, false, 0, CAP_ALL, 0); /* the old image is still here */
	else
		off = 0;
	e->nr = -1;
	emit(s, off);
	return 0;
}

/* exec's strings as the new image has them (the old image's pages may not
 * have been resident at entry: a forked child's). Filename, argv, envp. */
static long exec_step(__u32 i, void *ctx)
{
	struct scratch *s = scr();
	if (!s)
		return 1;
	struct exec_walk *x = &s->x;
	int argc = x->argc;
	if ((int)i >= x->n)
		return 1;
	if ((int)i == argc)
		x->pos = x->envp;
	if (((int)i < argc && i >= JB_ARGV_MAX) || (int)i >= argc + JB_ARGV_MAX)
		return 0;
	__u64 before = x->off;
	__u64 off = (__u64)cap_copy(before, x->pos, x->max + 2, 0);
	if (off == before)
		return 1;
	x->off = off;
	barrier_var(before);
	if (before > LIMIT)
		return 1;
	barrier_var(before);
	struct jb_cap *c = (void *)(s->data + before);
	__u32 l = c->len;
	if (l == 0 || l >= x->max + 2) {
		/* Cut: where the next string starts is unknown; on with envp. */
		if ((int)i >= argc)
			return 1;
		return 0;
	}
	x->pos += l;
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(jv_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tgid = (__u32)t->tgid;
	if (!bpf_map_lookup_elem(&tracked, &tgid))
		return 0;
	struct entry *e = bpf_task_storage_get(&entries, t, 0, 0);
	if (!e || e->nr < 0)
		return 0;
	const struct jb_sys *sys = sys_of(e->nr);
	struct scratch *s = scr();
	if (!sys || !s || !(sys->flags & JB_LOG) || !(sys->flags & JB_ATENTRY))
		return 0;
	header(s, t, e, JB_EV_EXECARGS);
	__u32 max = str_max();
	__u64 off = (__u64)cap_copy(0, (__u64)BPF_CORE_READ(bprm, filename), JB_PATH_MAX + 2, 1);
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	__u64 pos = BPF_CORE_READ(mm, arg_start);
	int n = BPF_CORE_READ(bprm, argc) + BPF_CORE_READ(bprm, envc);
	__u64 envp = BPF_CORE_READ(mm, env_start);
	int argc = BPF_CORE_READ(bprm, argc);
	s->x.off = off;
	s->x.pos = pos;
	s->x.envp = envp;
	s->x.argc = argc;
	s->x.n = n;
	s->x.max = max;
	bpf_loop(2 * JB_ARGV_MAX + 2, exec_step, NULL, 0);
	off = s->x.off;
	emit(s, off);
	return 0;
}

/* Children are tracked before their first syscall. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(jv_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = (__u32)BPF_CORE_READ(parent, tgid), ctgid = (__u32)BPF_CORE_READ(child, tgid);
	if (ptgid == ctgid || !bpf_map_lookup_elem(&tracked, &ptgid))
		return 0;
	__u32 v = JB_ACTIVE;
	bpf_map_update_elem(&tracked, &ctgid, &v, BPF_ANY);
	return 0;
}

/* A thread that goes away in a call: its record, unfinished. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(jv_exit, struct task_struct *exiting)
{
	(void)exiting;
	struct task_struct *t = bpf_get_current_task_btf(); /* the one exiting */
	__u32 tgid = (__u32)t->tgid;
	if (!bpf_map_lookup_elem(&tracked, &tgid))
		return 0;
	struct entry *e = bpf_task_storage_get(&entries, t, 0, 0);
	if (e && e->nr >= 0) {
		const struct jb_sys *sys = sys_of(e->nr);
		struct scratch *s = scr();
		if (sys && s && (sys->flags & JB_LOG)) {
			header(s, t, e, JB_EV_UNFINISHED);
			emit(s, (sys->flags & JB_ATENTRY) ? 0 : with_fds(s, e, sys, false, 0));
		}
		e->nr = -1;
	}
	if (!BPF_CORE_READ(t, signal, live.counter))
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}
