/* The sandbox around the program (docs/sandbox.md).
 *
 * Without --isolate the program is a plain fork() of jvisor. With it, jvisor
 * clone()s an init (C) into new user, pid, mount, ipc, uts and network
 * namespaces. C is pid 1 inside and is not traced: it builds the file system
 * view (host / read-only, fresh /proc, private /tmp, the working directory
 * writable, the --bind/--ro-bind/--tmpfs mounts, pivot_root), sets the host
 * name, brings lo up, makes itself non-dumpable (out of the program's reach),
 * then forks the program (P). P enters a nested user namespace with its own
 * mount namespace (the kernel then locks the mounts' flags), tells jvisor its
 * pid with SCM_CREDENTIALS (the kernel translates it across the pid
 * namespace), applies the per-process settings and returns into
 * tracer_spawn()'s child, which waits for the filter and execs. C reaps
 * orphans, forwards signals sent to it to P and exits with P's status; it dies
 * with jvisor (PDEATHSIG, which nothing inside can reach to clear), and the
 * whole namespace with it.
 *
 * Everything runs before the engine starts threads, so C and P may use any
 * libc call. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <termios.h>

#include "common/util.h"
#include "sandbox/cgroup.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

static const struct sandbox_options *opts;
static pid_t wall_victim;	   /* what the wall-time watchdog kills: C, or P */
static volatile pid_t inner_child; /* in C: P's pid inside */

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},	    {"as", RLIMIT_AS},
    {"cpu", RLIMIT_CPU},       {"fsize", RLIMIT_FSIZE},	    {"core", RLIMIT_CORE},
    {"stack", RLIMIT_STACK},   {"memlock", RLIMIT_MEMLOCK},
};

static const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < JV_ARRAY_SIZE(rlimit_names); i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return "?";
}

int sandbox_parse_rlimit(const char *s, struct sandbox_rlimit *r)
{
	const char *eq = strchr(s, '=');
	if (!eq)
		return -1;
	size_t n = (size_t)(eq - s);
	r->resource = -1;
	for (size_t i = 0; i < JV_ARRAY_SIZE(rlimit_names); i++)
		if (strlen(rlimit_names[i].name) == n && !strncmp(s, rlimit_names[i].name, n))
			r->resource = rlimit_names[i].resource;
	if (r->resource < 0)
		return -1;
	if (!strcmp(eq + 1, "unlimited") || !strcmp(eq + 1, "infinity")) {
		r->value = RLIM_INFINITY;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(eq + 1, &end, 10);
	if (errno || end == eq + 1 || *end || eq[1] == '-')
		return -1;
	r->value = v;
	return 0;
}

int sandbox_prepare(const struct sandbox_options *o, struct jv_error *e)
{
	opts = o;
	if (o->policy && policy_load(o->policy, e) < 0)
		return -1;
	bool iso = o->isolate == 1;
	policy_set_isolated(iso);
	const char *needs = o->rootfs			 ? "--rootfs"
			    : o->n_mounts		 ? "--bind, --ro-bind and --tmpfs"
			    : o->net_host >= 0		 ? "--net"
			    : o->hostname		 ? "--hostname"
			    : o->uid >= 0 || o->gid >= 0 ? "--uid and --gid"
							 : NULL;
	if (needs && !iso)
		return jv_err(e, 0, "%s need --isolate", needs);
	if ((o->memory || o->pids) && cgroup_check(o->memory != 0, o->pids != 0, e) < 0)
		return -1;
	if (sandbox_confine_prepare(o, e) < 0)
		return -1;
	if (o->rootfs) {
		struct stat st;
		if (stat(o->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
			return jv_err(e, errno ? errno : ENOTDIR, "--rootfs %s", o->rootfs);
	}
	for (size_t i = 0; i < o->n_mounts; i++) {
		const struct sandbox_mount *m = &o->mounts[i];
		if (m->kind != SB_TMPFS && access(m->src, F_OK) < 0)
			return jv_err(e, errno, "--%s %s", m->kind == SB_BIND ? "bind" : "ro-bind",
				      m->src);
	}
	return 0;
}

/* Kill every process jvisor traces (found in /proc: this runs on a thread of
 * its own and must not touch the tracer's tables). */
static void kill_traced(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *de;
	pid_t self = getpid();
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		_cleanup_free_ char *st = NULL;
		if (jv_read_file(path, &st) < 0)
			continue;
		const char *t = strstr(st, "\nTracerPid:");
		if (t && atoi(t + 11) == self)
			kill(atoi(de->d_name), SIGKILL);
	}
	closedir(d);
}

/* The wall-time watchdog: the program and all it started are killed; jvisor's
 * loop then reaps them as usual (the log is complete) and exits with 137. */
static void *wall_time_thread(void *arg)
{
	(void)arg;
	struct timespec ts = {opts->wall_time, 0};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	jv_warn("wall-time limit (%ld s) reached: the program was killed", opts->wall_time);
	if (wall_victim > 0)
		kill(wall_victim, SIGKILL); /* with --isolate: the init, so the namespace */
	for (int i = 0; i < 3; i++) {
		kill_traced(); /* again for children forked meanwhile */
		usleep(20000);
	}
	return NULL;
}

static void arm_wall_time(pid_t victim)
{
	if (!opts || !opts->wall_time)
		return;
	wall_victim = victim;
	/* No signal for this thread: they belong to the loop's handlers. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	if (pthread_create(&t, NULL, wall_time_thread, NULL) == 0)
		pthread_detach(t);
	else
		jv_warn("--wall-time: cannot start the watchdog thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

long sandbox_wall_time(void)
{
	return opts ? opts->wall_time : 0;
}

/* Keep a program that runs as root from reading or tracing jvisor through
 * /proc (jvisor is not dumpable, so that takes CAP_SYS_PTRACE). */
static void drop_cap_sys_ptrace(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return;
	prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_PTRACE, 0, 0);
	d[0].effective &= ~(1u << CAP_SYS_PTRACE);
	d[0].permitted &= ~(1u << CAP_SYS_PTRACE);
	d[0].inheritable &= ~(1u << CAP_SYS_PTRACE);
	syscall(SYS_capset, &h, d);
}

/* P's own settings, in the program's process before it execs. */
static int program_setup(struct jv_error *e)
{
	const struct sandbox_options *o = opts;
	if (o->isolate != 1)
		drop_cap_sys_ptrace();
	for (size_t i = 0; i < o->n_rlimits; i++) {
		struct rlimit rl = {o->rlimits[i].value, o->rlimits[i].value};
		if (setrlimit(o->rlimits[i].resource, &rl) < 0)
			return jv_err(e, errno, "--rlimit %s=%llu",
				      rlimit_name(o->rlimits[i].resource),
				      (unsigned long long)o->rlimits[i].value);
	}
	if (o->cpu_time) {
		struct rlimit rl = {(rlim_t)o->cpu_time, (rlim_t)o->cpu_time + 1};
		if (setrlimit(RLIMIT_CPU, &rl) < 0)
			return jv_err(e, errno, "--cpu-time");
	}
	if (o->clearenv == 1)
		clearenv();
	for (size_t i = 0; i < o->n_setenv; i++)
		if (putenv(xstrdup(o->setenv[i])) < 0)
			return jv_err(e, errno, "--setenv %s", o->setenv[i]);
	if (o->chdir && chdir(o->chdir) < 0)
		return jv_err(e, errno, "--chdir %s", o->chdir);
	return 0;
}

/* ---- --isolate: the init's side ---- */

static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Make dst (under the new root) a mount point of the same type as src. */
static int make_mount_point(const char *src, const char *dst)
{
	struct stat st;
	if (src && stat(src, &st) == 0 && !S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *dir = xstrdup(dst);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			if (mkdir_p(dir, 0755) < 0)
				return -1;
		}
		if (access(dst, F_OK) == 0)
			return 0;
		int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		close(fd);
		return 0;
	}
	return mkdir_p(dst, 0755);
}

static int set_readonly(const char *path)
{
	struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
	if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &a, sizeof(a)) == 0)
		return 0;
	/* Older kernels: remount each top bind read-only (submounts stay as they are). */
	return mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
}

/* "/oldroot" + an absolute host path (relative ones are taken from cwd). */
static char *host_path(const char *cwd, const char *p)
{
	if (p[0] == '/')
		return xasprintf("/oldroot%s", p);
	return xasprintf("/oldroot%s/%s", cwd, p);
}

static int lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	int saved = errno;
	close(s);
	errno = saved;
	return r;
}

/* A mount point that does not exist cannot be made in the host's read-only
 * tree (that would change the host): say how to get one. */
static int missing_dir(struct jv_error *e, const char *opt, const char *dst)
{
	if (errno == EROFS)
		return jv_err(e, 0,
			      "--%s %s: the mount point does not exist and the host's / is "
			      "read-only (put a --tmpfs on a parent directory first)",
			      opt, dst);
	return jv_err(e, errno, "--%s %s: cannot make the mount point", opt, dst);
}

/* Write /proc/PID/NAME (pid 0: /proc/self/NAME). */
static int write_file(pid_t pid, const char *name, const char *text, struct jv_error *e)
{
	char path[64];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || jv_write_all(fd, text, strlen(text)) < 0)
		return jv_err(e, errno, "writing %s", path);
	return 0;
}

static char *mask_path; /* the log file's real path, hidden inside */

/* A minimal /dev, as bubblewrap's --dev: the host's disks, consoles and other
 * terminals stay out of reach (a uid mapped to root would open them). */
static int build_dev(struct jv_error *e)
{
	static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
	if (mount("tmpfs", "/newroot/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
		return jv_err(e, errno, "mounting /dev");
	for (size_t i = 0; i < JV_ARRAY_SIZE(nodes); i++) {
		_cleanup_free_ char *src = xasprintf("/oldroot/dev/%s", nodes[i]);
		_cleanup_free_ char *dst = xasprintf("/newroot/dev/%s", nodes[i]);
		if (access(src, F_OK) < 0)
			continue;
		if (make_mount_point(src, dst) < 0 || mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return jv_err(e, errno, "binding /dev/%s", nodes[i]);
	}
	static const char *const links[][2] = {{"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"},
					       {"pts/ptmx", "ptmx"}};
	for (size_t i = 0; i < JV_ARRAY_SIZE(links); i++) {
		_cleanup_free_ char *dst = xasprintf("/newroot/dev/%s", links[i][1]);
		if (symlink(links[i][0], dst) < 0)
			return jv_err(e, errno, "/dev/%s", links[i][1]);
	}
	if (mkdir("/newroot/dev/pts", 0755) < 0 || mkdir("/newroot/dev/shm", 01777) < 0)
		return jv_err(e, errno, "mkdir in /dev");
	/* Terminals of its own; the one it was started on stays open as fds 0-2. */
	if (mount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return jv_err(e, errno, "mounting /dev/pts");
	if (mount("tmpfs", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return jv_err(e, errno, "mounting /dev/shm");
	return 0;
}

/* /proc files that reach the host's kernel: hidden or read-only, as Docker does. */
static int mask_proc(struct jv_error *e)
{
	static const char *const hidden[] = {"kcore",	    "kmsg", "sysrq-trigger", "timer_list",
					     "sched_debug", "keys", "latency_stats"};
	static const char *const readonly[] = {"sys", "irq", "bus", "fs", "acpi", "scsi"};
	for (size_t i = 0; i < JV_ARRAY_SIZE(hidden); i++) {
		_cleanup_free_ char *dst = xasprintf("/newroot/proc/%s", hidden[i]);
		if (access(dst, F_OK) == 0 &&
		    mount("/oldroot/dev/null", dst, NULL, MS_BIND, NULL) < 0)
			return jv_err(e, errno, "hiding /proc/%s", hidden[i]);
	}
	for (size_t i = 0; i < JV_ARRAY_SIZE(readonly); i++) {
		_cleanup_free_ char *dst = xasprintf("/newroot/proc/%s", readonly[i]);
		if (access(dst, F_OK) < 0)
			continue;
		if (mount(dst, dst, NULL, MS_BIND | MS_REC, NULL) < 0 || set_readonly(dst) < 0)
			return jv_err(e, errno, "making /proc/%s read-only", readonly[i]);
	}
	return 0;
}

static int build_root(const char *cwd, struct jv_error *e)
{
	const struct sandbox_options *o = opts;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return jv_err(e, errno, "making / private");
	/* A staging tmpfs becomes /, the host's / is /oldroot, the new one /newroot. */
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return jv_err(e, errno, "mounting the staging tmpfs");
	if (mkdir("/tmp/oldroot", 0755) < 0 || mkdir("/tmp/newroot", 0755) < 0)
		return jv_err(e, errno, "staging directories");
	if (syscall(SYS_pivot_root, "/tmp", "/tmp/oldroot") < 0)
		return jv_err(e, errno, "pivot_root to the staging tmpfs");
	if (chdir("/") < 0)
		return jv_err(e, errno, "chdir /");
	_cleanup_free_ char *root_src = o->rootfs ? host_path(cwd, o->rootfs) : xstrdup("/oldroot");
	if (mount(root_src, "/newroot", NULL, MS_BIND | MS_REC, NULL) < 0)
		return jv_err(e, errno, "binding %s as the new root", o->rootfs ? o->rootfs : "/");
	if (set_readonly("/newroot") < 0)
		return jv_err(e, errno, "making the new root read-only");
	if (access("/newroot/proc", F_OK) == 0 &&
	    mount("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return jv_err(e, errno, "mounting /proc");
	if (access("/newroot/tmp", F_OK) == 0 &&
	    mount("tmpfs", "/newroot/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return jv_err(e, errno, "mounting the private /tmp");
	if (access("/newroot/dev", F_OK) == 0 && build_dev(e) < 0)
		return -1;
	if (access("/newroot/proc", F_OK) == 0 && mask_proc(e) < 0)
		return -1;
	if (!o->rootfs && strcmp(cwd, "/")) {
		/* The working directory stays writable (after /tmp, which may hold it). */
		_cleanup_free_ char *src = host_path(cwd, cwd);
		_cleanup_free_ char *dst = xasprintf("/newroot%s", cwd);
		if (make_mount_point(NULL, dst) < 0 ||
		    mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
			return jv_err(e, errno, "binding the working directory %s", cwd);
	}
	for (size_t i = 0; i < o->n_mounts; i++) {
		const struct sandbox_mount *m = &o->mounts[i];
		_cleanup_free_ char *dst = xasprintf("/newroot%s", m->dst);
		if (m->kind == SB_TMPFS) {
			if (mkdir_p(dst, 0755) < 0)
				return missing_dir(e, "tmpfs", m->dst);
			if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
				return jv_err(e, errno, "--tmpfs %s", m->dst);
			continue;
		}
		_cleanup_free_ char *src = host_path(cwd, m->src);
		if (make_mount_point(src, dst) < 0)
			return missing_dir(e, m->kind == SB_BIND ? "bind" : "ro-bind", m->dst);
		if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
			return jv_err(e, errno, "--%s %s:%s",
				      m->kind == SB_BIND ? "bind" : "ro-bind", m->src, m->dst);
		if (m->kind == SB_RO_BIND && set_readonly(dst) < 0)
			return jv_err(e, errno, "--ro-bind %s: read-only", m->dst);
	}
	/* jvisor's log file: the program sees an empty, unwritable stand-in. */
	if (mask_path) {
		_cleanup_free_ char *dst = xasprintf("/newroot%s", mask_path);
		if (access(dst, F_OK) == 0 &&
		    mount("/oldroot/dev/null", dst, NULL, MS_BIND, NULL) < 0)
			return jv_err(e, errno, "hiding the log file %s", mask_path);
	}
	/* Into the new root; the staging tmpfs and the host's / go away. */
	if (chdir("/newroot") < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return jv_err(e, errno, "pivot_root to the new root");
	if (umount2(".", MNT_DETACH) < 0)
		return jv_err(e, errno, "detaching the old root");
	const char *dir = o->chdir ? o->chdir : o->rootfs ? "/" : cwd;
	if (chdir(dir) < 0)
		return jv_err(e, errno, "%s %s", o->chdir ? "--chdir" : "chdir", dir);
	return 0;
}

static void forward_to_program(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* Signals from the terminal reach the program's process group directly. */
	if (inner_child > 0 && si->si_code <= 0)
		kill(inner_child, sig);
}

static __attribute__((noreturn)) void init_main(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa = {0};
	sa.sa_sigaction = forward_to_program;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < JV_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	int status = 0;
	for (;;) {
		int st;
		pid_t r = wait(&st);
		if (r == inner_child) {
			status = st;
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
	}
	/* Leaving pid 1 kills what is left in the namespace. */
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Report a failure of C or P to jvisor and stop. */
static __attribute__((noreturn)) void child_fail(int sock, const struct jv_error *e)
{
	char buf[sizeof(struct jv_error) + 2];
	int n = snprintf(buf, sizeof(buf), "E%s", e->msg);
	(void)!send(sock, buf, (size_t)n, MSG_NOSIGNAL);
	_exit(126);
}

/* P: tell jvisor our pid (translated by the kernel) and wait to be traced. */
static void program_announce(int sock)
{
	char c = 'P';
	struct ucred cred = {getpid(), getuid(), getgid()};
	union {
		char buf[CMSG_SPACE(sizeof(cred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
	(void)!sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* P: one more user namespace, owned by C's, with mount, uts, ipc (and
 * network) namespaces of its own. The mounts C made are copied into a mount
 * namespace of a less privileged user namespace, so the kernel locks them
 * (MNT_LOCK_READONLY and the other flags, MNT_LOCKED on every mount below the
 * root): even with every capability of its user namespace, the program cannot
 * make a read-only mount writable or uncover what a mount hides. Its uid and
 * gid stay what they were in C's namespace. */
static int nest_namespaces(struct jv_error *e)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
		    (opts->net_host == 1 ? 0 : CLONE_NEWNET);
	if (unshare(flags) < 0)
		return jv_err(e, errno, "unshare of the program's namespaces");
	/* Inherited from C: /proc/self would be root's and the maps unwritable. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	char map[64];
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (write_file(0, "uid_map", map, e) < 0 || write_file(0, "setgroups", "deny", e) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (write_file(0, "gid_map", map, e) < 0)
		return -1;
	if (opts->net_host != 1 && lo_up() < 0)
		return jv_err(e, errno, "bringing the loopback interface up");
	return 0;
}

/* C's side of the clone: never returns in C; returns in P (the program). */
static void init_child(int sock, const char *cwd)
{
	struct jv_error e;
	/* getppid() is 0 in a new pid namespace: if jvisor died before the
	 * prctl, the socket tells (EOF). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(126);
	char go;
	if (recv(sock, &go, 1, 0) != 1) /* jvisor wrote our uid and gid maps */
		_exit(126);
	/* Out of the program's reach from now on: without CAP_SYS_PTRACE in the
	 * user namespace of C's memory (the host's: C never execs), nothing can
	 * open /proc/1/mem, ptrace C or read its /proc files, so its
	 * PR_SET_PDEATHSIG stays and no code of the program runs as C. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		_exit(126);
	if (build_root(cwd, &e) < 0)
		child_fail(sock, &e);
	const char *host = opts->hostname ? opts->hostname : "jvisor";
	if (sethostname(host, strlen(host)) < 0) {
		jv_err(&e, errno, "sethostname");
		child_fail(sock, &e);
	}
	if (opts->net_host != 1 && lo_up() < 0) {
		jv_err(&e, errno, "bringing the loopback interface up");
		child_fail(sock, &e);
	}
	pid_t p = fork();
	if (p < 0) {
		jv_err(&e, errno, "fork");
		child_fail(sock, &e);
	}
	if (p == 0) {
		if (nest_namespaces(&e) < 0)
			child_fail(sock, &e);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (program_setup(&e) < 0)
			child_fail(sock, &e);
		/* A process group of its own, which jvisor makes the terminal's
		 * foreground group: one outside the pid namespace would read as 0. */
		setpgid(0, 0);
		program_announce(sock);
		close(sock);
		return;
	}
	inner_child = p;
	/* The init keeps nothing of jvisor's open. */
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
	}
	close_range(3, ~0U, 0);
	init_main();
}

/* ---- jvisor's side ---- */

/* Wait for P's announcement (its pid, as we see it) or C's error. */
static pid_t receive_program(int sock, struct jv_error *e)
{
	char buf[sizeof(struct jv_error) + 2];
	union {
		char b[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	ssize_t n;
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return jv_err(e, n < 0 ? errno : 0, "the sandbox's init exited during set-up");
	buf[n] = 0;
	if (buf[0] == 'E')
		return jv_err(e, 0, "--isolate: %s", buf + 1);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;
			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
			return cred.pid;
		}
	}
	return jv_err(e, 0, "--isolate: the program did not say its pid");
}

/* The terminal whose foreground group we handed to the program, and ours. */
static int tty_fd = -1;
static pid_t tty_pgrp;

static void tty_restore(void)
{
	if (tty_fd < 0)
		return;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTTOU); /* we are in the background by now */
	sigprocmask(SIG_BLOCK, &block, &old);
	tcsetpgrp(tty_fd, tty_pgrp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(tty_fd);
	tty_fd = -1;
}

static pid_t tty_program_pgrp;

void sandbox_program_stopped(void)
{
	/* The program was stopped from the terminal (^Z) while it had the terminal:
	 * jvisor takes it back and stops too, so that the shell that started jvisor
	 * gets it; on SIGCONT (fg) the program gets both back. */
	if (tty_fd < 0 || tcgetpgrp(tty_fd) != tty_program_pgrp)
		return;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTTOU);
	sigprocmask(SIG_BLOCK, &block, &old);
	tcsetpgrp(tty_fd, tty_pgrp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	kill(getpid(), SIGSTOP);
	/* Continued. */
	if (tcgetpgrp(tty_fd) == tty_pgrp)
		tcsetpgrp(tty_fd, tty_program_pgrp);
	kill(-tty_program_pgrp, SIGCONT);
}

/* Give the terminal to the program's process group when it is ours now, so that
 * a shell inside sees a foreground group it knows; atexit gives it back. */
static void tty_hand_over(pid_t pgid)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	if (tcgetpgrp(fd) != getpgrp() || tcsetpgrp(fd, pgid) < 0) {
		close(fd);
		return;
	}
	tty_fd = fd;
	tty_pgrp = getpgrp();
	tty_program_pgrp = pgid;
	atexit(tty_restore);
}

static pid_t isolate_fork(struct jv_error *e)
{
	const struct sandbox_options *o = opts;
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return jv_err(e, errno, "getcwd");
	if (o->log_path && strcmp(o->log_path, "-")) {
		free(mask_path);
		mask_path = realpath(o->log_path, NULL);
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return jv_err(e, errno, "socketpair");
	_cleanup_close_ int sock = sv[0];
	int one = 1;
	setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	unsigned long flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC |
			      CLONE_NEWUTS | (o->net_host == 1 ? 0 : CLONE_NEWNET);
	uid_t uid = getuid();
	gid_t gid = getgid();
	pid_t c = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (c < 0) {
		int err = errno;
		close(sv[1]);
		return jv_err(e, err, "clone of the sandbox's init (new namespaces)");
	}
	if (c == 0) {
		close(steal_fd(&sock));
		init_child(sv[1], cwd);
		return 0; /* P */
	}
	close(sv[1]);
	sandbox_confine_forget(); /* P has it (through C) */
	char map[64];
	snprintf(map, sizeof(map), "%ld %u 1\n", o->uid >= 0 ? o->uid : (long)uid, (unsigned)uid);
	int r = write_file(c, "uid_map", map, e);
	if (r == 0)
		r = write_file(c, "setgroups", "deny", e);
	snprintf(map, sizeof(map), "%ld %u 1\n", o->gid >= 0 ? o->gid : (long)gid, (unsigned)gid);
	if (r == 0)
		r = write_file(c, "gid_map", map, e);
	pid_t p = -1;
	if (r == 0 && (o->memory || o->pids))
		r = cgroup_enter(c, o->memory, o->pids, e); /* the init and all it forks */
	if (r == 0 && send(sock, "g", 1, MSG_NOSIGNAL) != 1)
		r = jv_err(e, errno, "starting the sandbox's init");
	if (r == 0)
		p = receive_program(sock, e);
	if (p <= 0) {
		kill(c, SIGKILL);
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	tty_hand_over(p);
	policy_protect_supervisor();
	arm_wall_time(c);
	return p;
}

pid_t sandbox_fork(struct jv_error *e)
{
	if (opts && opts->isolate == 1)
		return isolate_fork(e);
	pid_t p = fork();
	if (p < 0)
		return jv_err(e, errno, "fork");
	if (p == 0)
		return 0; /* the settings come in sandbox_child_setup() */
	sandbox_confine_forget();
	if (opts && (opts->memory || opts->pids) &&
	    cgroup_enter(p, opts->memory, opts->pids, e) < 0) {
		kill(p, SIGKILL);
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	policy_protect_supervisor();
	arm_wall_time(p);
	return p;
}

void sandbox_child_setup(void)
{
	/* With --isolate the init's child did it before telling its pid. */
	if (!opts || opts->isolate == 1)
		return;
	struct jv_error e;
	if (program_setup(&e) < 0) {
		jv_err_print(&e);
		_exit(126);
	}
}
