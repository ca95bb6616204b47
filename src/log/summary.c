/* --summary (strace's -c): calls, errors and time per syscall, as a table on
 * stderr at exit and a `summary` record at the end of the log. Counted from
 * the records (either backend) or, with the BPF backend and no log, in the
 * kernel (log_summary_add from src/bpf/). Also the `lost` record. */
#include <stdio.h>
#include <stdlib.h>

#include "log/internal.h"

static struct sum {
	unsigned long calls, errors;
	uint64_t ns;
} sums[SYS_NR_MAX];

void log_summary_add(int nr, unsigned long calls, unsigned long errors, uint64_t ns)
{
	if (nr < 0 || nr >= SYS_NR_MAX)
		return;
	sums[nr].calls += calls;
	sums[nr].errors += errors;
	sums[nr].ns += ns;
}

static int by_time(const void *a, const void *b)
{
	const struct sum *x = &sums[*(const int *)a], *y = &sums[*(const int *)b];
	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : *(const int *)a - *(const int *)b;
}

void summary_write(unsigned formats)
{
	int order[SYS_NR_MAX], n = 0;
	uint64_t total_ns = 0;
	unsigned long calls = 0, errors = 0;
	for (int nr = 0; nr < SYS_NR_MAX; nr++) {
		if (!sums[nr].calls)
			continue;
		order[n++] = nr;
		total_ns += sums[nr].ns;
		calls += sums[nr].calls;
		errors += sums[nr].errors;
	}
	qsort(order, (size_t)n, sizeof(order[0]), by_time);
	fprintf(stderr, "%% time     seconds  usecs/call     calls    errors syscall\n"
			"------ ----------- ----------- --------- --------- ----------------\n");
	struct sbuf b = {0};
	sb_puts(&b, "{\"type\":\"summary\",\"ts\":");
	log_put_ts(&b, log_realtime_ns());
	if (log_tags())
		sb_puts(&b, log_tags());
	sb_puts(&b, ",\"syscalls\":[");
	for (int i = 0; i < n; i++) {
		const struct sum *s = &sums[order[i]];
		const char *name = sys_name(order[i]);
		char errs[24] = ""; /* blank when none, as strace */
		if (s->errors)
			snprintf(errs, sizeof(errs), "%lu", s->errors);
		fprintf(stderr, "%6.2f %11.6f %11llu %9lu %9s %s\n",
			total_ns ? 100.0 * (double)s->ns / (double)total_ns : 0.0,
			(double)s->ns / 1e9, (unsigned long long)(s->ns / s->calls / 1000),
			s->calls, errs, name ? name : "?");
		sb_printf(&b, "%s{\"sysno\":%d,\"name\":\"%s\",\"calls\":%lu,\"errors\":%lu,",
			  i ? "," : "", order[i], name ? name : "?", s->calls, s->errors);
		sb_printf(&b, "\"total_us\":%llu,\"avg_us\":%.3f}",
			  (unsigned long long)(s->ns / 1000),
			  (double)s->ns / 1000.0 / (double)s->calls);
	}
	fprintf(stderr,
		"------ ----------- ----------- --------- --------- ----------------\n"
		"100.00 %11.6f %11llu %9lu %9lu total\n",
		(double)total_ns / 1e9, (unsigned long long)(calls ? total_ns / calls / 1000 : 0),
		calls, errors);
	sb_printf(&b, "],\"calls\":%lu,\"errors\":%lu,\"total_us\":%llu}\n", calls, errors,
		  (unsigned long long)(total_ns / 1000));
	if (formats & (1u << LOG_FORMAT_JSON))
		sink_write(LOG_FORMAT_JSON, b.p, b.len);
	sb_free(&b);
}

void log_lost(pid_t pid, pid_t tid, unsigned long count)
{
	if (!log_active || !count)
		return;
	uint64_t ts = log_realtime_ns();
	for (int f = 0; f < 2; f++) {
		if (!(log_has_sinks() && sink_formats() & (1u << f)))
			continue;
		struct sbuf sb = {0}, *b = &sb;
		if (f == LOG_FORMAT_JSON) {
			sb_puts(b, "{\"type\":\"lost\",\"ts\":");
			log_put_ts(b, ts);
			if (log_tags())
				sb_puts(b, log_tags());
			sb_printf(b, ",\"pid\":%d,\"tid\":%d,\"count\":%lu}", (int)pid, (int)tid,
				  count);
		} else {
			sb_printf(b, "%-6d --- %lu records lost ---", (int)tid, count);
		}
		sb_putc(b, '\n');
		sink_write(f, b->p, b->len);
		sb_free(b);
	}
}
