#include <stdio.h>

#include "common/util.h"
#include "log/log.h"
#include "tracer/internal.h"

#define NBUCKETS 1024
static struct thread *buckets[NBUCKETS];
static size_t nthreads;

static struct thread **bucket(pid_t tid)
{
	return &buckets[(unsigned)tid % NBUCKETS];
}

struct thread *thread_get(pid_t tid)
{
	for (struct thread *t = *bucket(tid); t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

static pid_t read_tgid(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	_cleanup_free_ char *s = NULL;
	if (jv_read_file(path, &s) < 0)
		return tid;
	const char *p = strstr(s, "\nTgid:");
	return p ? (pid_t)atoi(p + 6) : tid;
}

static void link_thread(struct thread *t)
{
	struct thread **b = bucket(t->tid);
	t->hnext = *b;
	*b = t;
}

static void unlink_thread(struct thread *t)
{
	for (struct thread **p = bucket(t->tid); *p; p = &(*p)->hnext) {
		if (*p == t) {
			*p = t->hnext;
			return;
		}
	}
}

struct thread *thread_add(pid_t tid)
{
	struct thread *t = xcalloc(1, sizeof(*t));
	t->tid = tid;
	t->tgid = read_tgid(tid);
	t->pass_sysno = -1;
	link_thread(t);
	nthreads++;
	return t;
}

void thread_del(struct thread *t)
{
	tobs_end(t);
	unlink_thread(t);
	hooks_thread_gone(t->local);
	log_thread_end(&t->log);
	free(t);
	nthreads--;
}

void thread_rekey(struct thread *t, pid_t tid)
{
	unlink_thread(t);
	t->tid = tid;
	link_thread(t);
}

size_t thread_count(void)
{
	return nthreads;
}
