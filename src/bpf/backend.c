/* Loading the BPF programs and turning their records into log records. */
#include "bpf/backend.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpf/argf.h"
#include "bpf/btfhash.h"
#include "bpf/capture.h"
#include "common/sbuf.h"
#include "common/util.h"
#include "hooks/observe.h"
#include "hooks/hooks.h"
#include "log/log.h"
#include "syscalls/syscalls.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "jvisor.skel.h"
#pragma GCC diagnostic pop
#include "min_btf.inc" /* jv_min_btf, JV_KERNEL_BTF_SIZE, JV_KERNEL_BTF_HASH */

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static struct jvisor_bpf *skel;
static struct ring_buffer *rb;
static uint64_t clock_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
static unsigned synced_hooks, synced_trace;
static unsigned long bad_records;
static bool counted;			 /* has a call been counted in the kernel (JB_COUNT)? */
static bool exported[JB_NR_MAX];	 /* has map argf filters of nr? */
static unsigned long records[JB_NR_MAX]; /* records read, per syscall (control stats) */
/* The entry half of a call captured at entry (exec), per thread: few at once. */
struct held {
	pid_t tid;
	void *rec;
	size_t size;
};
static struct held held[64];

bool bpfl_on(void)
{
	return skel != NULL;
}

const char *bpfl_backend_name(void)
{
	return skel ? "bpf" : "ptrace";
}

int bpfl_fd(void)
{
	return rb ? ring_buffer__epoll_fd(rb) : -1;
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

bool bpfl_usable(char *why, size_t len)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		snprintf(why, len, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s)",
			 strerror(errno));
		return false;
	}
	if (!has_cap(CAP_SYS_ADMIN) && !(has_cap(CAP_BPF) && has_cap(CAP_PERFMON))) {
		snprintf(why, len, "jvisor is not root and lacks CAP_BPF and CAP_PERFMON");
		return false;
	}
	return true;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Does BPF write the records of nr for the observers (observe.h)? Every
 * native syscall but those that stop anyway (hooked: the stop path observes
 * them); the table below captures those an observer wants. */
static bool feeds(int nr)
{
	return skel && nr >= 0 && nr < JB_NR_MAX && !log_stops_anyway(nr);
}

/* The observers' argument filters of nr into map argf when only observers
 * want its calls and each has a filter (the kernel then passes over the calls
 * none takes): true when exported (now[nr] set). A syscall with a filter
 * too many is captured whole, as without filters; so is one whose entry is
 * missing from the map. */
static bool export_filters(int nr, bool *now, unsigned *n)
{
	struct jb_argf f;
	uint32_t k = (uint32_t)nr;
	if (log_follows(nr) || *n >= JB_ARGF_MAX || !argf_build(nr, &f) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.argf), &k, &f, BPF_ANY) < 0)
		return false;
	now[nr] = true;
	++*n;
	return true;
}

/* Delete the entries of argf that no syscall needs any more (before the
 * others are written: the map never runs full, and a syscall still flagged
 * JB_ARGF without its entry is captured whole meanwhile). */
static void unexport_filters(void)
{
	for (int nr = 0; nr < JB_NR_MAX; nr++) {
		uint32_t k = (uint32_t)nr;
		if (exported[nr] && !(observe_wants(nr) && feeds(nr) && !log_follows(nr))) {
			bpf_map_delete_elem(bpf_map__fd(skel->maps.argf), &k);
			exported[nr] = false;
		}
	}
}

/* The kernel's per-syscall table from the one syscall table, the log's set,
 * the hooks (a hooked call stops and the ptrace path logs it) and the
 * observers (a record per call, which the log leaves out unless it is in the
 * log's set too; only the calls their argument filters take when that is all
 * that wants them). One batch update (a syscall per number was ~360 bpf()
 * calls at each start). */
static void sync_table(void)
{
	static uint32_t keys[JB_NR_MAX];
	static struct jb_sys vals[JB_NR_MAX];
	static bool now[JB_NR_MAX];
	uint32_t n = 0;
	unsigned n_argf = 0;
	memset(now, 0, sizeof(now));
	unexport_filters();
	for (int nr = sys_next(-1); nr >= 0; nr = sys_next(nr)) {
		if (nr >= JB_NR_MAX)
			break;
		const struct sys_info *si = sys_info(nr);
		struct jb_sys s = {0};
		s.nargs = (uint8_t)si->nargs;
		if (log_follows(nr))
			s.flags |= log_has_sinks() ? JB_LOG : JB_COUNT; /* --summary alone */
		if (observe_wants(nr) && feeds(nr)) { /* the log counts it then (--summary) */
			s.flags = (uint8_t)((s.flags & ~JB_COUNT) | JB_LOG);
			if (export_filters(nr, now, &n_argf))
				s.flags |= JB_ARGF;
		}
		if (log_wants(nr))
			s.flags |= JB_STOPPED;
		if (si->classes & SC_NORETURN)
			s.flags |= JB_NORETURN;
		counted |= (s.flags & JB_COUNT) != 0;
		for (int i = 0; i < si->nargs; i++) {
			s.role[i] = si->args[i].role;
			s.param[i] = si->args[i].param;
			if (sys_role_is_out(si->args[i].role))
				s.outmask |= (uint8_t)(1u << i);
			/* The old image is gone at exec's exit: its argv is read at entry. */
			if (si->args[i].role == SR_ARGV)
				s.flags |= JB_ATENTRY;
		}
		keys[n] = (uint32_t)nr;
		vals[n++] = s;
	}
	int fd = bpf_map__fd(skel->maps.systab);
	uint32_t count = n;
	if (bpf_map_update_batch(fd, keys, vals, &count, NULL) < 0 || count != n)
		for (uint32_t i = 0; i < n; i++) /* a kernel without batches */
			bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY);
	for (int nr = 0; nr < JB_NR_MAX; nr++) {
		if (exported[nr] && !now[nr]) { /* a filter too many now: captured whole */
			uint32_t k = (uint32_t)nr;
			bpf_map_delete_elem(bpf_map__fd(skel->maps.argf), &k);
		}
		exported[nr] = now[nr];
	}
	synced_hooks = hooks_generation();
	synced_trace = log_trace_generation();
}

static struct held *held_of(pid_t tid, bool create)
{
	struct held *free_slot = NULL;
	for (size_t i = 0; i < JV_ARRAY_SIZE(held); i++) {
		if (held[i].rec && held[i].tid == tid)
			return &held[i];
		if (!held[i].rec && !free_slot)
			free_slot = &held[i];
	}
	return create ? free_slot : NULL;
}

static void write_record(const struct jb_event *ev, size_t size, const struct jb_event *exit_half)
{
	struct capmem m;
	if (!capmem_init(&m, ev, size)) {
		bad_records++;
		return;
	}
	const struct jb_event *x = exit_half ? exit_half : ev;
	char comm[17];
	memcpy(comm, x->comm, 16);
	comm[16] = '\0';
	struct log_call c = {
	    .pid = (pid_t)x->pid,
	    .tid = (pid_t)x->pad, /* the thread now (exec in a non-leader thread: the leader's) */
	    .comm = comm,
	    .sysno = ev->nr,
	    .ret = x->ret,
	    .unfinished = (x->flags & JB_EV_UNFINISHED) != 0,
	    .noreturn = (ev->flags & JB_EV_NORETURN) != 0,
	    .ts_ns = ev->ts_enter + clock_off,
	    .dur_ns = x->ts_exit > ev->ts_enter ? x->ts_exit - ev->ts_enter : 0,
	    .mem = &m.mem,
	};
	if (c.unfinished)
		c.tid = (pid_t)x->tid;
	memcpy(c.args, ev->args, sizeof(c.args));
	log_call_captured(&c);
	if (feeds(c.sysno) && hooks_observers_match(c.sysno, c.args)) {
		static struct sbuf args;
		log_call_args_json(&c, &args);
		struct observe_record r = {
		    .pid = c.pid,
		    .tid = c.tid,
		    .sysno = c.sysno,
		    .abi = SYS_ABI_X86_64,
		    .has_result = !c.unfinished && !c.noreturn,
		    .raw = c.ret,
		    .ts_ns = c.ts_ns,
		    .dur_ns = c.dur_ns,
		    .args_json = args.p,
		    .args_len = args.len,
		    .source = OBSERVE_BPF,
		};
		memcpy(r.args, c.args, sizeof(r.args));
		observe_record(&r); /* a full queue runs the observers: the ring fills */
	}
}

/* The word i of the pointer array captured at addr in rec, or 0. */
static uint64_t ptr_at(const void *rec, size_t size, uint64_t addr, size_t i)
{
	struct capmem m;
	uint64_t v = 0;
	int err;
	if (!addr || !capmem_init(&m, rec, size) ||
	    m.mem.read(&m.mem, addr + 8 * i, &v, sizeof(v), &err) != sizeof(v))
		return 0;
	return v;
}

/* Add the captures of piece (exec's strings in the new image, or the exit's
 * second reading) to the held entry half. Exec's strings come in order,
 * without addresses: they get those of the old argv/envp pointers. */
static void held_add(struct held *h, const struct jb_event *piece, size_t size)
{
	struct capmem pm;
	if (!capmem_init(&pm, piece, size))
		return;
	const struct jb_event *ev = h->rec;
	const struct sys_info *si = sys_info(ev->nr);
	int path = -1, argv = -1, envp = -1;
	for (int i = 0; si && i < si->nargs; i++) {
		if (si->args[i].role == SR_PATH && path < 0)
			path = i;
		if (si->args[i].role == SR_ARGV)
			argv = i;
		if (si->args[i].role == SR_ENVP)
			envp = i;
	}
	size_t extra = size - sizeof(*piece);
	unsigned char *rec = xmalloc(h->size + extra);
	memcpy(rec, h->rec, h->size);
	unsigned char *out = rec + h->size;
	const unsigned char *p = (const unsigned char *)(piece + 1), *end = pm.end;
	unsigned n = 0, k = 0, argc = 0;
	bool strings = piece->flags & JB_EV_EXECARGS;
	while (p + sizeof(struct jb_cap) <= end) {
		const struct jb_cap *c = (const void *)p;
		size_t step = sizeof(*c) + ((c->len + 7u) & ~7u);
		struct jb_cap *o = (void *)out;
		memcpy(out, p, (size_t)(end - p) < step ? (size_t)(end - p) : step);
		if (strings) {
			/* filename, then argv's strings until a NULL pointer, then envp's */
			uint64_t addr = 0;
			if (k == 0) {
				addr = path >= 0 ? ev->args[path] : 0;
			} else if (argv >= 0 && !argc &&
				   (addr = ptr_at(h->rec, h->size, ev->args[argv], k - 1))) {
			} else {
				if (!argc)
					argc = k;
				addr = envp >= 0 ? ptr_at(h->rec, h->size, ev->args[envp], k - argc)
						 : 0;
			}
			o->addr = addr;
			k++;
			if (!addr) {
				p += step;
				continue;
			}
		}
		out += step;
		n++;
		p += step;
	}
	struct jb_event *merged = (void *)rec;
	merged->ncap += n;
	merged->size = (uint32_t)(out - rec);
	free(h->rec);
	h->rec = rec;
	h->size = (size_t)(out - rec);
}

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	const struct jb_event *ev = data;
	if (size < sizeof(*ev) || ev->type != JB_CALL) {
		bad_records++;
		return 0;
	}
	const struct sys_info *si = sys_info(ev->nr);
	if (!si || ev->nr < 0 || ev->nr >= JB_NR_MAX) {
		bad_records++;
		return 0;
	}
	records[ev->nr]++;
	bool at_entry = false;
	for (int i = 0; i < si->nargs; i++)
		at_entry |= si->args[i].role == SR_ARGV;
	if (!at_entry || (ev->flags & JB_EV_NORETURN)) {
		write_record(ev, size, NULL);
		return 0;
	}
	if (ev->ts_exit == 0) {
		/* The entry half: kept until its exit half comes. */
		struct held *h = held_of((pid_t)ev->tid, true);
		if (!h) {
			bad_records++;
			return 0;
		}
		free(h->rec);
		h->tid = (pid_t)ev->tid;
		h->rec = xmalloc(size);
		memcpy(h->rec, data, size);
		h->size = size;
		return 0;
	}
	struct held *h = held_of((pid_t)ev->tid, false);
	if (!h) {
		bad_records++;
		return 0;
	}
	if (ev->ncap)
		held_add(h, ev, size);
	if (ev->flags & JB_EV_EXECARGS)
		return 0; /* the exit half comes next */
	write_record(h->rec, h->size, ev);
	free(h->rec);
	h->rec = NULL;
	return 0;
}

/* The kernel's types for CO-RE. libbpf would parse the whole of
 * /sys/kernel/btf/vmlinux (5 MB, read a page per read()) and search it for each
 * type the programs use: ~20 ms at each start. When the running kernel's BTF
 * is the one jvisor was built against (same size and fingerprint), the types
 * the relocations need were cut from it at build time (jv_min_btf): a memfd
 * with them, for btf_custom_path. -1 otherwise (libbpf reads the kernel's). */
static int min_btf_fd(void)
{
	_cleanup_close_ int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != JV_KERNEL_BTF_SIZE)
		return -1;
	/* Mappable since Linux 6.16; reading it would cost what is saved. */
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	bool same = btf_hash(map, (size_t)st.st_size) == JV_KERNEL_BTF_HASH;
	munmap(map, (size_t)st.st_size);
	if (!same)
		return -1;
	int m = memfd_create("jvisor-btf", MFD_CLOEXEC);
	if (m >= 0 && write(m, jv_min_btf, sizeof(jv_min_btf)) != (ssize_t)sizeof(jv_min_btf)) {
		close(m);
		m = -1;
	}
	return m;
}

/* Open and load the programs; the kernel's types from the file btf, or from
 * the kernel when NULL. 0, 1 for a ring size the kernel refuses, -errno. */
static int load(const char *btf, size_t ring)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf);
	skel = jvisor_bpf__open_opts(&oo);
	if (!skel)
		return -errno;
	int err = bpf_map__set_max_entries(skel->maps.ring, (uint32_t)ring) < 0 ? 1 : 0;
	if (!err)
		err = jvisor_bpf__load(skel);
	if (err) {
		jvisor_bpf__destroy(skel);
		skel = NULL;
	}
	return err;
}

int bpfl_start(const struct bpfl_options *o, pid_t pid, struct jv_error *e)
{
	libbpf_set_print(NULL);
	size_t ring = o->ring_bytes ? o->ring_bytes : 16u << 20;
	int err = -1;
	_cleanup_close_ int btf = min_btf_fd();
	if (btf >= 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", btf);
		err = load(path, ring);
	}
	if (err)
		err = load(NULL, ring); /* another kernel, or the cut types would not do */
	if (err == 1)
		return jv_err(e, EINVAL, "BPF: bad ring buffer size %zu", ring);
	if (err)
		return jv_err(e, -err, "BPF: cannot load the programs");
	/* Headroom under the watermark: the records the threads make before
	 * their SIGSTOP takes them (one each, at most JB_SCRATCH bytes). */
	struct jb_config cfg = {.str_max = (uint32_t)(o->str_max ? o->str_max : 256),
				.full_drop = o->full_drop,
				.ring_low = ring / 2,
				.hold_sig = SIGSTOP,
				.wake_bytes = (uint32_t)(ring / 16 < 65536 ? ring / 16 : 65536)};
	uint32_t z = 0;
	bpf_map_update_elem(bpf_map__fd(skel->maps.jvconfig), &z, &cfg, BPF_ANY);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), on_record, NULL, NULL);
	err = rb ? jvisor_bpf__attach(skel) : -errno;
	if (err) {
		ring_buffer__free(rb);
		rb = NULL;
		jvisor_bpf__destroy(skel);
		skel = NULL;
		return jv_err(e, -err, "BPF: cannot attach the programs");
	}
	/* Only now does the log leave the calls to BPF (the program waits for
	 * tracer_release(): it has made no call yet). */
	log_use_bpf();
	observe_set_backend(feeds); /* before the seccomp filter is built */
	sync_table();
	uint32_t k = (uint32_t)pid, v = JB_PENDING;
	bpf_map_update_elem(bpf_map__fd(skel->maps.tracked), &k, &v, BPF_ANY);
	clock_off = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	return 0;
}

bool bpfl_hold_stop(pid_t tid, int sig)
{
	siginfo_t si;
	if (!skel || sig != SIGSTOP || ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0 ||
	    si.si_code != SI_KERNEL)
		return false;
	bpfl_drain(); /* the thread goes on once the ring has room again */
	return true;
}

void bpfl_sync(void)
{
	if (rb && (synced_hooks != hooks_generation() || synced_trace != log_trace_generation()))
		sync_table();
}

void bpfl_drain(void)
{
	if (!rb)
		return;
	bpfl_sync();
	ring_buffer__consume(rb);
}

static void counts(struct jb_counts *sum)
{
	memset(sum, 0, sizeof(*sum));
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return;
	struct jb_counts *per = xcalloc((size_t)ncpu, sizeof(*per));
	uint32_t z = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.counts), &z, per) == 0) {
		for (int i = 0; i < ncpu; i++) {
			sum->events += per[i].events;
			sum->lost += per[i].lost;
			sum->held += per[i].held;
			sum->truncated += per[i].truncated;
		}
	}
	free(per);
}

unsigned long bpfl_lost(unsigned long *holds)
{
	*holds = 0;
	if (!skel)
		return 0;
	struct jb_counts c;
	counts(&c);
	*holds = (unsigned long)c.held;
	return (unsigned long)c.lost;
}

unsigned long bpfl_records(int nr)
{
	return nr >= 0 && nr < JB_NR_MAX ? records[nr] : 0;
}

/* A `lost` record per thread that lost some. */
static void lost_per_thread(void)
{
	int fd = bpf_map__fd(skel->maps.lost);
	uint32_t key, next;
	uint32_t *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct jb_lost l;
		if (bpf_map_lookup_elem(fd, &next, &l) == 0)
			log_lost((pid_t)l.pid, (pid_t)next, (unsigned long)l.count);
		key = next;
		prev = &key;
	}
}

/* Runs the kernel skipped because a program was already running on the CPU. */
static unsigned long long recursion_misses(void)
{
	unsigned long long n = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, skel->obj)
	{
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_program__fd(p) >= 0 &&
		    bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) == 0)
			n += info.recursion_misses;
	}
	return n;
}

/* --summary without a log: the kernel counted (map summary, per CPU). */
static void add_kernel_summary(void)
{
	if (!counted)
		return; /* the map is all zero: no need for JB_NR_MAX lookups */
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return;
	struct jb_sum *per = xcalloc((size_t)ncpu, sizeof(*per));
	int fd = bpf_map__fd(skel->maps.summary);
	for (uint32_t nr = 0; nr < JB_NR_MAX; nr++) {
		if (bpf_map_lookup_elem(fd, &nr, per) < 0)
			continue;
		struct jb_sum t = {0};
		for (int i = 0; i < ncpu; i++) {
			t.calls += per[i].calls;
			t.errors += per[i].errors;
			t.ns += per[i].ns;
		}
		if (t.calls)
			log_summary_add((int)nr, (unsigned long)t.calls, (unsigned long)t.errors,
					t.ns);
	}
	free(per);
}

void bpfl_stop(void)
{
	if (!skel)
		return;
	bpfl_drain();
	struct jb_counts c;
	counts(&c);
	if (c.lost) {
		jv_warn("BPF log: %llu records lost (the ring buffer was full)",
			(unsigned long long)c.lost);
		lost_per_thread();
	}
	unsigned long long misses = recursion_misses();
	if (misses)
		jv_warn("BPF log: the kernel skipped the programs %llu times (recursion: a "
			"program was already running on that CPU); those calls are not logged",
			misses);
	if (c.truncated)
		jv_warn("BPF log: %llu captures cut short (a record was full)",
			(unsigned long long)c.truncated);
	if (bad_records)
		jv_warn("BPF log: %lu malformed records", bad_records);
	add_kernel_summary();
	for (size_t i = 0; i < JV_ARRAY_SIZE(held); i++) {
		free(held[i].rec);
		held[i].rec = NULL;
	}
	ring_buffer__free(rb);
	rb = NULL;
	jvisor_bpf__destroy(skel);
	skel = NULL;
	counted = false;
	memset(exported, 0, sizeof(exported));
	observe_set_backend(NULL);
}
