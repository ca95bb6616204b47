/* Questions accessors ask the tracer: is a task part of this sandbox, which
 * processes are, and a stopped thread's stack pointer. Nothing here runs on
 * the stop path. */
#include <dirent.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "common/util.h"
#include "tracer/internal.h"
#include "tracer/tracer.h"

pid_t tracer_traced_tgid(pid_t tid)
{
	if (tid <= 0)
		return -1;
	struct thread *t = thread_get(tid);
	return t ? t->tgid : -1;
}

size_t tracer_processes(pid_t **out)
{
	size_t cap = 16, n = 0;
	pid_t *v = xmalloc(cap * sizeof(*v));
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		if (tracer_traced_tgid(pid) != pid)
			continue;
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = pid;
	}
	if (d)
		closedir(d);
	*out = v;
	return n;
}

int tracer_thread_sp(void *thread, uint64_t *sp, struct jv_error *e)
{
	struct thread *t = thread;
	if (!t)
		return tracer_not_stopped(e);
	if (t->gone)
		return jv_err(e, ESRCH, "the thread has exited");
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
		return jv_err(e, errno, "ptrace(PTRACE_GETREGS)");
	*sp = r.rsp;
	return 0;
}
