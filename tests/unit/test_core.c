/* Unit tests (Check) for the parts that need no traced process: the syscall
 * table, the hook registry and verdict folding, JS value conversions. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "common/sbuf.h"
#include "hooks/hooks.h"
#include "js/internal.h"
#include "js/js.h"
#include "syscalls/syscalls.h"

START_TEST(syscall_names_and_numbers)
{
	ck_assert_int_eq(sys_number("getppid"), 110);
	ck_assert_int_eq(sys_number("SYS_openat"), 257);
	ck_assert_int_eq(sys_number("no_such_syscall"), -1);
	ck_assert_str_eq(sys_name(0), "read");
	ck_assert_ptr_null(sys_name(-1));
	ck_assert_ptr_null(sys_name(SYS_NR_MAX));
	/* Flags of the table: nosleep (notify mode's EINTR rule), noreturn. */
	ck_assert(sys_info(79)->classes & SC_NOSLEEP);	 /* getcwd */
	ck_assert(!(sys_info(0)->classes & SC_NOSLEEP)); /* read */
	ck_assert(sys_info(231)->classes & SC_NORETURN); /* exit_group */
}
END_TEST

START_TEST(syscall_abi_mapping)
{
	ck_assert_int_eq(sys_to_native(SYS_ABI_I386, 64), 110); /* getppid */
	ck_assert_int_eq(sys_to_native(SYS_ABI_I386, 20), 39);	/* getpid */
	ck_assert_int_eq(sys_to_native(SYS_ABI_I386, 102), -1); /* socketcall: no twin */
	ck_assert_int_eq(sys_to_native(SYS_ABI_X32, 110), 110); /* same numbers */
	ck_assert_int_eq(sys_to_native(SYS_ABI_X32, 512), 13);	/* x32 rt_sigaction */
	ck_assert_int_eq(sys_to_native(SYS_ABI_X86_64, 9999), -1);
}
END_TEST

/* The quoted forms of in[0..n) as JSON and as C. */
static void quoted(const char *in, size_t n, const char *json, const char *c)
{
	struct sbuf b = {0};
	sb_json_str(&b, in, n);
	sb_putc(&b, 0);
	ck_assert_str_eq(b.p, json);
	b.len = 0;
	sb_c_str(&b, in, n);
	sb_putc(&b, 0);
	ck_assert_str_eq(b.p, c);
	sb_free(&b);
}

START_TEST(string_escapes)
{
	quoted("a\"b\\c", 5, "\"a\\\"b\\\\c\"", "\"a\\\"b\\\\c\"");
	quoted("\n\t\r", 3, "\"\\n\\t\\r\"", "\"\\n\\t\\r\"");
	quoted("\x01\x7f", 2, "\"\\u0001\\u007f\"", "\"\\x01\\x7f\"");
	quoted("\0z", 2, "\"\\u0000z\"", "\"\\x00z\"");
	/* UTF-8 stays as it is in JSON; a stray byte is escaped. */
	quoted("\xc3\xa9\xff", 3, "\"\xc3\xa9\\u00ff\"", "\"\\xc3\\xa9\\xff\"");
	/* ...but the characters that end a line for some readers are escaped in JSON
	 * (U+0085, U+2028, U+2029), and their neighbours (U+00C5, U+2027) are not. */
	quoted("a\xc2\x85\xe2\x80\xa8\xe2\x80\xa9"
	       "b",
	       10, "\"a\\u0085\\u2028\\u2029b\"", "\"a\\xc2\\x85\\xe2\\x80\\xa8\\xe2\\x80\\xa9b\"");
	quoted("\xc3\x85\xe2\x80\xa7", 5, "\"\xc3\x85\xe2\x80\xa7\"",
	       "\"\\xc3\\x85\\xe2\\x80\\xa7\"");
}
END_TEST

/* A fake engine: the hook's fn points at a struct saying what it returns. */
struct fake {
	int fail;
	struct hook_verdict res;
	int calls;
	uint64_t seen_arg2;
};

static int fake_call(struct hook *h, struct hook_event *ev, struct hook_verdict *res,
		     struct hook_failure *f)
{
	struct fake *k = h->fn;
	k->calls++;
	k->seen_arg2 = ev->args[2];
	if (k->fail) {
		snprintf(f->where, sizeof(f->where), "fake.js:%d", k->fail);
		snprintf(f->msg, sizeof(f->msg), "boom");
		return -1;
	}
	*res = k->res;
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
	hooks_set_fail_closed(false);
}

static void teardown(void)
{
	hooks_remove(-1, -1);
}

static struct hook_event before_event(int sysno)
{
	struct hook_event ev = {.pid = 1, .tid = 1, .sysno = sysno, .phase = HOOK_BEFORE};
	ev.args[2] = 5;
	return ev;
}

START_TEST(hooks_chain_in_order)
{
	struct jv_error e;
	struct fake a = {0}, b = {0};
	a.res.args_set = 1u << 2;
	a.res.args[2] = 17;
	ck_assert_int_gt(hooks_add(1, HOOK_BEFORE, HOOK_MODE_PTRACE, &a, "a.js:1", &e), 0);
	ck_assert_int_gt(hooks_add(1, HOOK_BEFORE, HOOK_MODE_PTRACE, &b, "b.js:1", &e), 0);
	ck_assert(hooks_wanted(1, HOOK_BEFORE));
	ck_assert(!hooks_wanted(1, HOOK_AFTER));
	struct hook_event ev = before_event(1);
	struct hook_verdict v;
	hooks_run(&ev, &v);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_uint_eq(b.seen_arg2, 17); /* the second hook sees the first's change */
	ck_assert_uint_eq(v.args_set, 1u << 2);
	ck_assert_uint_eq(v.args[2], 17);
	ck_assert(!v.skip);
}
END_TEST

START_TEST(hooks_skip_ends_chain)
{
	struct jv_error e;
	struct fake a = {0}, b = {0};
	a.res.skip = true;
	a.res.result_set = true;
	a.res.raw = -EACCES;
	hooks_add(2, HOOK_BEFORE, HOOK_MODE_PTRACE, &a, "a.js:1", &e);
	hooks_add(2, HOOK_BEFORE, HOOK_MODE_PTRACE, &b, "b.js:1", &e);
	struct hook_event ev = before_event(2);
	struct hook_verdict v;
	hooks_run(&ev, &v);
	ck_assert(v.skip);
	ck_assert_int_eq(v.raw, -EACCES);
	ck_assert_int_eq(b.calls, 0);
}
END_TEST

START_TEST(hooks_failure_policy)
{
	struct jv_error e;
	struct fake a = {.fail = 3}, b = {0};
	hooks_add(3, HOOK_BEFORE, HOOK_MODE_PTRACE, &a, "a.js:1", &e);
	hooks_add(3, HOOK_BEFORE, HOOK_MODE_PTRACE, &b, "b.js:1", &e);
	struct hook_event ev = before_event(3);
	struct hook_verdict v;
	unsigned long before = hooks_failures();
	hooks_run(&ev, &v); /* open: the failed hook is skipped, the chain goes on */
	ck_assert(!v.skip);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_uint_eq(hooks_failures(), before + 1);
	hooks_set_fail_closed(true);
	hooks_run(&ev, &v); /* closed: the syscall fails with EPERM */
	ck_assert(v.skip);
	ck_assert_int_eq(v.raw, -EPERM);
	ck_assert_int_eq(b.calls, 1);
}
END_TEST

START_TEST(hooks_notify_mode_rules)
{
	struct jv_error e;
	struct fake a = {0}, b = {0};
	/* No after phase in notify mode. */
	ck_assert_int_lt(hooks_add(5, HOOK_AFTER, HOOK_MODE_NOTIFY, &a, "a.js:1", &e), 0);
	ck_assert(strstr(e.msg, "after-hooks") != NULL);
	ck_assert_int_gt(hooks_add(5, HOOK_BEFORE, HOOK_MODE_NOTIFY, &a, "a.js:1", &e), 0);
	ck_assert(hooks_notify_only(5));
	/* Changing arguments is a failure: the call proceeds unchanged (open)... */
	a.res.args_set = 1u << 1;
	a.res.args[1] = 99;
	ck_assert_int_gt(hooks_add(5, HOOK_BEFORE, HOOK_MODE_NOTIFY, &b, "b.js:1", &e), 0);
	struct hook_event ev = before_event(5);
	struct hook_verdict v;
	unsigned long before = hooks_failures();
	hooks_run(&ev, &v);
	ck_assert_uint_eq(v.args_set, 0);
	ck_assert(!v.skip);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_uint_eq(hooks_failures(), before + 1);
	/* ... or fails with EPERM (closed). */
	hooks_set_fail_closed(true);
	hooks_run(&ev, &v);
	ck_assert(v.skip);
	ck_assert_int_eq(v.raw, -EPERM);
	/* A ptrace-mode hook makes the syscall need a stop... */
	ck_assert_int_gt(hooks_add(6, HOOK_BEFORE, HOOK_MODE_PTRACE, &a, "c.js:1", &e), 0);
	ck_assert(!hooks_notify_only(6));
	/* ... and cannot join a syscall that is served by notification. */
	hooks_lock_notify(5);
	ck_assert_int_lt(hooks_add(5, HOOK_BEFORE, HOOK_MODE_PTRACE, &a, "d.js:1", &e), 0);
	ck_assert(strstr(e.msg, "served by seccomp notification") != NULL);
	ck_assert_int_lt(hooks_add(5, HOOK_AFTER, HOOK_MODE_PTRACE, &a, "d.js:1", &e), 0);
	ck_assert_int_gt(hooks_add(5, HOOK_BEFORE, HOOK_MODE_NOTIFY, &a, "e.js:1", &e), 0);
}
END_TEST

START_TEST(hooks_remove_and_bounds)
{
	struct jv_error e;
	struct fake a = {0};
	ck_assert_int_lt(hooks_add(-1, HOOK_BEFORE, HOOK_MODE_PTRACE, &a, "x", &e), 0);
	ck_assert_int_lt(hooks_add(SYS_NR_MAX, HOOK_AFTER, HOOK_MODE_PTRACE, &a, "x", &e), 0);
	unsigned gen = hooks_generation();
	hooks_add(4, HOOK_AFTER, HOOK_MODE_PTRACE, &a, "a.js:1", &e);
	hooks_add(4, HOOK_BEFORE, HOOK_MODE_PTRACE, &a, "a.js:2", &e);
	ck_assert_uint_ne(hooks_generation(), gen);
	ck_assert_int_eq(hooks_remove(4, HOOK_AFTER), 1);
	ck_assert(!hooks_wanted(4, HOOK_AFTER));
	ck_assert(hooks_wanted(4, HOOK_BEFORE));
	ck_assert_int_eq(hooks_remove(-1, -1), 1);
	ck_assert_uint_eq(hooks_count(), 0);
}
END_TEST

START_TEST(js_conversions)
{
	struct js_options o = {.timeout_ms = 1000};
	struct jv_error e;
	ck_assert_int_eq(js_init(&o, &e), 0);
	JSContextRef ctx = js_ctx;
	char why[128];
	uint64_t v;
	ck_assert_int_eq(js_to_u64(ctx, JSValueMakeNumber(ctx, -100), &v, why, sizeof(why)), 0);
	ck_assert_uint_eq(v, (uint64_t)-100);
	ck_assert_int_lt(js_to_u64(ctx, JSValueMakeNumber(ctx, 0.0 / 0.0), &v, why, sizeof(why)),
			 0);
	ck_assert_int_lt(js_to_u64(ctx, JSValueMakeNumber(ctx, 1.5), &v, why, sizeof(why)), 0);
	ck_assert_int_lt(js_to_u64(ctx, js_str(ctx, "7"), &v, why, sizeof(why)), 0);
	JSValueRef big = JSBigIntCreateWithUInt64(ctx, UINT64_MAX, NULL);
	ck_assert_int_eq(js_to_u64(ctx, big, &v, why, sizeof(why)), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	/* Values beyond 2^53 become BigInts, and come back exact. */
	JSValueRef n = js_num64(ctx, (1ull << 53) + 1);
	ck_assert(JSValueIsBigInt(ctx, n));
	ck_assert_int_eq(js_to_u64(ctx, n, &v, why, sizeof(why)), 0);
	ck_assert_uint_eq(v, (1ull << 53) + 1);
	ck_assert(JSValueIsNumber(ctx, js_num64(ctx, (uint64_t)-100)));
	js_shutdown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *t = tcase_create("syscalls");
	tcase_add_test(t, syscall_names_and_numbers);
	tcase_add_test(t, syscall_abi_mapping);
	tcase_add_test(t, string_escapes);
	suite_add_tcase(s, t);
	t = tcase_create("hooks");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, hooks_chain_in_order);
	tcase_add_test(t, hooks_skip_ends_chain);
	tcase_add_test(t, hooks_failure_policy);
	tcase_add_test(t, hooks_notify_mode_rules);
	tcase_add_test(t, hooks_remove_and_bounds);
	suite_add_tcase(s, t);
	t = tcase_create("js");
	tcase_add_test(t, js_conversions);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_set_fork_status(r, CK_NOFORK);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
