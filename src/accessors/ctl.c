#include "accessors/ctl.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "accessors/proc.h"
#include "common/util.h"
#include "tracer/tracer.h"

static int need_traced(pid_t tid, bool process, struct jv_error *e)
{
	pid_t tg = tracer_traced_tgid(tid);
	if (tg < 0 || (process && tg != tid))
		return jv_err(e, ESRCH, "%s %d is not %s of this sandbox", process ? "pid" : "tid",
			      (int)tid, process ? "a process" : "a thread");
	return tg;
}

static int need_signal(int sig, struct jv_error *e)
{
	if (sig < 0 || sig > 64)
		return jv_err(e, EINVAL, "%d is not a signal number (0..64)", sig);
	return 0;
}

int ctl_get_nice(pid_t tid, int *nice, struct jv_error *e)
{
	if (need_traced(tid, false, e) < 0)
		return -1;
	errno = 0;
	int v = getpriority(PRIO_PROCESS, (id_t)tid);
	if (v == -1 && errno)
		return jv_err(e, errno, "getpriority(%d)", (int)tid);
	*nice = v;
	return 0;
}

int ctl_set_nice(pid_t pid, int nice, struct jv_error *e)
{
	pid_t tg = need_traced(pid, false, e);
	if (tg < 0)
		return -1;
	if (nice < -20 || nice > 19)
		return jv_err(e, EINVAL, "nice value %d is outside -20..19", nice);
	_cleanup_free_ pid_t *tids = NULL;
	size_t n = 1;
	pid_t one = pid, tgid;
	if (tg == pid && proc_threads(pid, &tgid, &tids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		pid_t t = tids ? tids[i] : one;
		if (setpriority(PRIO_PROCESS, (id_t)t, nice) < 0 && errno != ESRCH)
			return jv_err(e, errno, "setpriority(%d, %d)", (int)t, nice);
	}
	return 0;
}

int ctl_get_umask(pid_t pid, unsigned *mask, struct jv_error *e)
{
	if (need_traced(pid, false, e) < 0)
		return -1;
	_cleanup_free_ char *status = NULL;
	if (procfs_read(pid, "status", &status, e) < 0)
		return -1;
	const char *p = procfs_field(status, "Umask");
	if (!p && procfs_exiting(pid))
		return jv_err(e, ESRCH, "process %d has exited", (int)pid);
	if (!p)
		return jv_err(e, ENOSYS, "this kernel does not show the umask in /proc");
	*mask = (unsigned)strtoul(p, NULL, 8);
	return 0;
}

int ctl_set_umask(void *thread, unsigned mask, unsigned *old, struct jv_error *e)
{
	if (mask > 0777)
		return jv_err(e, EINVAL, "umask 0%o is not in 0..0777", mask);
	uint64_t a[6] = {mask, 0, 0, 0, 0, 0};
	int64_t r;
	if (tracer_inject(thread, SYS_umask, a, &r, e) < 0)
		return -1;
	if (r < 0)
		return jv_err(e, (int)-r, "umask(0%o) in the program failed", mask);
	*old = (unsigned)r;
	return 0;
}

int ctl_kill(pid_t pid, int sig, struct jv_error *e)
{
	if (pid <= 0)
		return jv_err(e, EINVAL, "pid %d: use killGroup for process groups", (int)pid);
	if (need_signal(sig, e) < 0 || need_traced(pid, true, e) < 0)
		return -1;
	if (kill(pid, sig) < 0)
		return jv_err(e, errno, "kill(%d, %d)", (int)pid, sig);
	return 0;
}

int ctl_send_signal(pid_t tid, int sig, struct jv_error *e)
{
	if (need_signal(sig, e) < 0)
		return -1;
	pid_t tg = need_traced(tid, false, e);
	if (tg < 0)
		return -1;
	if (syscall(SYS_tgkill, tg, tid, sig) < 0)
		return jv_err(e, errno, "tgkill(%d, %d, %d)", (int)tg, (int)tid, sig);
	return 0;
}

int ctl_kill_group(pid_t pgid, int sig, struct jv_error *e)
{
	if (pgid <= 0)
		return jv_err(e, EINVAL, "%d is not a process group id", (int)pgid);
	if (need_signal(sig, e) < 0)
		return -1;
	_cleanup_free_ pid_t *procs = NULL;
	size_t n = tracer_processes(&procs);
	int count = 0, err = 0;
	for (size_t i = 0; i < n; i++) {
		if (getpgid(procs[i]) != pgid)
			continue;
		if (kill(procs[i], sig) == 0)
			count++;
		else if (errno != ESRCH)
			err = errno;
	}
	if (!count)
		return jv_err(e, err ? err : ESRCH, "no process of this sandbox is in group %d",
			      (int)pgid);
	return count;
}
