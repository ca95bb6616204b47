/* Unit tests of the observers' queue (src/hooks/observe.c) and of observe-mode
 * hooks in the registry (src/hooks/hooks.c), with a fake engine, and of their
 * argument filters as the BPF program gets them (src/bpf/argf.c). */
#include <check.h>
#include <stdlib.h>

#include "bpf/argf.h"
#include "hooks/argfilter.h"
#include "hooks/hooks.h"
#include "hooks/observe.h"

/* The fake engine records the tids it saw, in order; a hook may return a
 * change, or push more records while it runs. */
static pid_t seen[64];
static int n_seen, push_inside;
static struct hook_verdict to_return;

static struct observe_record rec(pid_t tid)
{
	static const char args[] = "[\"x\"]";
	return (struct observe_record){.pid = 1,
				       .tid = tid,
				       .sysno = 39,
				       .has_result = true,
				       .raw = 7,
				       .args_json = args,
				       .args_len = sizeof(args) - 1,
				       .source = OBSERVE_BPF};
}

/* Records of tids 1..n, in order. */
static void push(pid_t n)
{
	for (pid_t t = 1; t <= n; t++) {
		struct observe_record r = rec(t);
		observe_record(&r);
	}
}

static int fake_call(struct hook *h, struct hook_event *ev, struct hook_verdict *res,
		     struct hook_failure *f)
{
	(void)h, (void)f;
	ck_assert(ev->observed);
	ck_assert_str_eq(ev->args_json, "[\"x\"]");
	ck_assert_str_eq(ev->obs_mode, "observe-bpf");
	if (ev->phase == HOOK_AFTER && n_seen < 64)
		seen[n_seen++] = ev->tid;
	for (; push_inside > 0; push_inside--) {
		struct observe_record r = rec(100 + push_inside);
		observe_record(&r); /* inside a hook call: queued, never run now */
	}
	*res = to_return;
	return 0;
}

static void fake_release(struct hook *h)
{
	(void)h;
}

static const struct hook_engine_ops fake_ops = {.call = fake_call, .release = fake_release};

static void setup(void)
{
	hooks_set_engine(&fake_ops);
	n_seen = push_inside = 0;
	to_return = (struct hook_verdict){0};
	struct jv_error e;
	ck_assert_int_gt(hooks_add(39, HOOK_AFTER, HOOK_MODE_OBSERVE, NULL, "o.js:1", &e), 0);
}

static void teardown(void)
{
	observe_close();
	hooks_remove(-1, -1);
}

START_TEST(observers_do_not_stop)
{
	ck_assert(!hooks_wanted(39, HOOK_AFTER));
	ck_assert(!hooks_wanted(39, HOOK_BEFORE));
	ck_assert(hooks_observed(39));
	ck_assert(observe_wants(39));
	ck_assert(!hooks_observed(40));
	struct hook_event ev = {.pid = 1, .tid = 1, .sysno = 39, .phase = HOOK_AFTER};
	struct hook_verdict v;
	hooks_run(&ev, &v); /* a stop never runs observers */
	ck_assert_int_eq(n_seen, 0);
}
END_TEST

START_TEST(full_queue_holds_the_producer)
{
	struct observe_stats before, after;
	observe_set_queue(2, false);
	observe_stats(&before);
	push(5);
	ck_assert(observe_pending());
	observe_drain();
	observe_stats(&after);
	ck_assert_int_eq(n_seen, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(seen[i], i + 1); /* in order */
	ck_assert_uint_eq(after.delivered - before.delivered, 5);
	ck_assert_uint_eq(after.dropped - before.dropped, 0);
	ck_assert_uint_gt(after.held - before.held, 0);
	ck_assert_int_eq(observe_close(), 0);
}
END_TEST

START_TEST(drop_policy_counts)
{
	struct observe_stats before, after;
	observe_set_queue(2, true);
	observe_stats(&before);
	push(5);
	observe_drain();
	observe_stats(&after);
	ck_assert_int_eq(n_seen, 2);
	ck_assert_int_eq(seen[0], 1);
	ck_assert_int_eq(seen[1], 2);
	ck_assert_uint_eq(after.dropped - before.dropped, 3);
	ck_assert_int_eq(observe_close(), -1); /* reported */
	observe_set_queue(0, false);
}
END_TEST

START_TEST(records_from_inside_a_hook_are_kept)
{
	observe_set_queue(2, false);
	push_inside = 5; /* more than the queue holds, while it cannot be drained */
	struct observe_record r = rec(1);
	observe_record(&r);
	observe_drain();
	ck_assert_int_eq(n_seen, 6);
	ck_assert_int_eq(seen[0], 1);
	for (int i = 1; i < 6; i++)
		ck_assert_int_eq(seen[i], 100 + 6 - i);
}
END_TEST

START_TEST(a_returned_change_is_a_failure)
{
	unsigned long f0 = hooks_failures();
	to_return.result_set = true;
	to_return.raw = 5;
	struct observe_record r = rec(1);
	observe_record(&r);
	observe_drain();
	ck_assert_int_eq(n_seen, 1);
	ck_assert_uint_eq(hooks_failures() - f0, 1);
}
END_TEST

static bool feeds_39(int nr)
{
	return nr == 39;
}

START_TEST(observe_mode_rules)
{
	struct jv_error e;
	hooks_lock_notify(50);
	/* A notification never shows the result: no after-observers there. */
	ck_assert_int_lt(hooks_add(50, HOOK_AFTER, HOOK_MODE_OBSERVE, NULL, "o.js:2", &e), 0);
	ck_assert_int_gt(hooks_add(50, HOOK_BEFORE, HOOK_MODE_OBSERVE, NULL, "o.js:3", &e), 0);
	ck_assert(hooks_notify_only(50));
	ck_assert(hooks_observed_before_only(50));
	ck_assert(!hooks_observed_before_only(39));
	ck_assert_str_eq(hook_mode_name(HOOK_MODE_OBSERVE), "observe");
	/* An event backend feeds them: the stops need not capture anything. */
	uint64_t args[6] = {0};
	ck_assert(observe_at_stops(39) && observe_at_stop_match(39, args));
	observe_set_backend(feeds_39);
	ck_assert(!observe_at_stops(39) && !observe_at_stop_match(39, args));
	ck_assert(observe_wants(39));
	ck_assert(observe_at_stops(50)); /* not fed: still captured at the stops */
	observe_set_backend(NULL);
}
END_TEST

/* An observer of 60 with the filter spec (NULL: none); its id. */
static unsigned observer(enum hook_phase ph, const char *spec)
{
	struct jv_error e;
	struct hook_filter f;
	int id = hooks_add(60, ph, HOOK_MODE_OBSERVE, NULL, "o.js:4", &e);
	ck_assert_int_gt(id, 0);
	if (spec) {
		ck_assert_int_eq(argfilter_parse(spec, &f, &e), 0);
		ck_assert_int_eq(hooks_set_filter((unsigned)id, &f, &e), 0);
	}
	return (unsigned)id;
}

/* The kernel's decision is the registry's (hooks_observers_match) for every
 * comparison argfilter has, at and around each bound. */
START_TEST(argument_filters_for_the_kernel)
{
	struct jb_argf f;
	ck_assert(!argf_build(60, &f)); /* no observer */
	unsigned id = observer(HOOK_AFTER, NULL);
	ck_assert(!argf_build(60, &f));
	unsigned gen = hooks_generation();
	struct hook_filter hf;
	struct jv_error e;
	ck_assert_int_eq(argfilter_parse("0>=0x100,2!=7", &hf, &e), 0);
	ck_assert_int_eq(hooks_set_filter(id, &hf, &e), 0);
	ck_assert_uint_ne(hooks_generation(), gen); /* a new filter: the backend re-syncs */
	observer(HOOK_BEFORE, "1&0xff=3");
	observer(HOOK_AFTER, "3<5,4<=9,5>0xfffffffffffffff0");
	ck_assert(argf_build(60, &f));
	ck_assert_uint_eq(f.n, 3);
	static const uint64_t vals[] = {0,    3,     4,	    5,	   6,	  7,	 9,	 10,
					0xff, 0x100, 0x101, 0x103, 0x203, -1ull, -15ull, -16ull};
	unsigned taken = 0, n = sizeof(vals) / sizeof(vals[0]);
	for (unsigned i = 0; i < 6 * n * n; i++) {
		uint64_t a[6] = {vals[i % n], vals[i / n % n], 7, 4, 9, vals[i / n / n]};
		if (i & 1)
			a[2] = 1, a[3] = 5;
		ck_assert_int_eq(argf_eval(&f, a), hooks_observers_match(60, a));
		taken += argf_eval(&f, a);
	}
	ck_assert_uint_gt(taken, 0);
	ck_assert_uint_lt(taken, 6 * n * n);
	/* One more filter than the kernel holds, or an observer without one: every call. */
	observer(HOOK_AFTER, "0=1");
	ck_assert(argf_build(60, &f));
	observer(HOOK_AFTER, "0=2");
	ck_assert(!argf_build(60, &f));
	hooks_remove(60, -1);
	observer(HOOK_AFTER, "0=2");
	observer(HOOK_BEFORE, NULL);
	ck_assert(!argf_build(60, &f));
	/* Hooks that stop the program are not the kernel's business here. */
	hooks_remove(60, -1);
	ck_assert_int_gt(hooks_add(60, HOOK_AFTER, HOOK_MODE_PTRACE, NULL, "p.js:1", &e), 0);
	observer(HOOK_AFTER, "0=2");
	ck_assert(argf_build(60, &f));
	ck_assert_uint_eq(f.n, 1);
	hooks_remove(60, -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("observe");
	TCase *t = tcase_create("queue");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, observers_do_not_stop);
	tcase_add_test(t, full_queue_holds_the_producer);
	tcase_add_test(t, drop_policy_counts);
	tcase_add_test(t, records_from_inside_a_hook_are_kept);
	tcase_add_test(t, a_returned_change_is_a_failure);
	tcase_add_test(t, observe_mode_rules);
	tcase_add_test(t, argument_filters_for_the_kernel);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_set_fork_status(r, CK_NOFORK);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
