/* Observer throughput: how many completed-call records per second one
 * JavaScript observer handles (docs/hooks.md, "Observe mode"), with no
 * program and no producer cost: records are fed straight into the observers'
 * queue (src/hooks/observe.h), as an event backend would, and drained.
 *
 * observe-rate [N]   N records (default 1000000) for each observer:
 *   noop      function () {}
 *   fields    reads this.name, this.tid and this.ret
 *   args      reads this.args[1] (the decoded arguments, parsed from JSON)
 * Prints "OBSERVER events/s ns/event" per line. Linked with jvisor's objects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hooks/hooks.h"
#include "hooks/observe.h"
#include "js/js.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const observers[][2] = {
    {"noop", "accessors.AddHookAfter('openat', function () {}, {mode: 'observe'});"},
    {"fields", "let n = 0; accessors.AddHookAfter('openat', function () {"
	       " if (this.name === 'openat' && this.tid > 0 && this.ret >= 0) n++; },"
	       " {mode: 'observe'});"},
    {"args", "let m = 0; accessors.AddHookAfter('openat', function () {"
	     " if (this.args[1].length > 0) m++; }, {mode: 'observe'});"},
};

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	if (n < 1)
		return 2;
	struct jv_error e;
	struct js_options jo = {.timeout_ms = 1000};
	if (js_init(&jo, &e) < 0) {
		fprintf(stderr, "observe-rate: %s\n", e.msg);
		return 1;
	}
	static const char args[] = "[\"AT_FDCWD\",\"/etc/ld.so.cache\",\"O_RDONLY|O_CLOEXEC\"]";
	struct observe_record r = {
	    .pid = 1000,
	    .tid = 1001,
	    .sysno = 257,
	    .abi = SYS_ABI_X86_64,
	    .args = {(uint64_t)-100, 0x7f0000001000, 0x80000},
	    .has_result = true,
	    .raw = 3,
	    .ts_ns = 1,
	    .dur_ns = 2000,
	    .args_json = args,
	    .args_len = sizeof(args) - 1,
	    .source = OBSERVE_BPF,
	};
	for (size_t k = 0; k < sizeof(observers) / sizeof(observers[0]); k++) {
		hooks_remove(-1, -1);
		if (js_load_source(observers[k][1], "observe-rate", 1, &e) < 0) {
			fprintf(stderr, "observe-rate: %s\n", e.msg);
			return 1;
		}
		double t0 = now_s();
		for (long i = 0; i < n; i++) {
			observe_record(&r); /* a full queue runs the observers (backpressure) */
			if ((i & 1023) == 1023)
				observe_drain();
		}
		observe_drain();
		double dt = now_s() - t0;
		printf("%-7s %10.0f events/s %7.0f ns/event\n", observers[k][0], (double)n / dt,
		       dt * 1e9 / (double)n);
	}
	if (hooks_failures())
		fprintf(stderr, "observe-rate: %lu hook failures\n", hooks_failures());
	js_shutdown();
	return hooks_failures() ? 1 : 0;
}
