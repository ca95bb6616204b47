"""The hook contract (DESIGN.md section 2, docs/hooks.md) through the real binary.

Every test runs tests/helpers/hook_probe.c under `jvisor run -s SCRIPT` and asserts
what the program saw (its raw syscall results), what the hooks saw (lines they print
on stderr) and how failures were reported.
"""
import json
import re
import textwrap
import time
from pathlib import Path

import pytest

from conftest import JVISOR, helper, probe_results

import subprocess

GETPPID = 110
HOOK_ERROR = "jvisor: hook error:"
def script(tmp_path, js, name="hooks.js"):
    """Write a hook script (dedented) and return its path."""
    p = Path(tmp_path) / name
    p.write_text(textwrap.dedent(js).lstrip("\n"))
    return p


def line_of(path, marker):
    """1-based line number of the first line of path containing marker."""
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if marker in line:
            return i
    raise AssertionError(f"{marker!r} not in {path}")


def run(tmp_path, js, *probe, opts=(), timeout=30):
    """jvisor run [opts] -s SCRIPT -- hook_probe PROBE...; returns (proc, script path)."""
    cmd = [JVISOR, "run", *opts]
    path = None
    if js is not None:
        path = script(tmp_path, js)
        cmd += ["-s", str(path)]
    cmd += ["--", helper("hook_probe"), *probe]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p, path


results = probe_results


def hook_errors(stderr):
    return [l for l in stderr.splitlines() if l.startswith(HOOK_ERROR)]


def tagged(stderr, tag):
    """JSON values printed by hooks as `TAG <json>` lines."""
    return [json.loads(l[len(tag) + 1:]) for l in stderr.splitlines() if l.startswith(tag + " ")]


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"


def assert_unchanged(rs, n):
    """n getppid results, each the real parent pid (the hook changed nothing)."""
    assert len(rs) == n, rs
    for r in rs:
        assert r["name"] == "getppid"
        assert r["errno"] == 0 and r["ret"] == r["real"], r


# ---------------------------------------------------------------- verdicts


NO_CHANGE = ["undefined", "null", "0", "42", "-1", "'text'", "true", "{}", "[]",
             "function () { return 5; }"]


@pytest.mark.parametrize("phase", ["Before", "After"])
@pytest.mark.parametrize("value", NO_CHANGE)
def test_no_change_results(tmp_path, phase, value):
    p, _ = run(tmp_path, f"""
        accessors.AddHook{phase}("getppid", function () {{
          accessors.print("CALLED " + this.phase);
          return {value};
        }});
        """, "getppid", "3")
    ok(p)
    assert_unchanged(results(p.stdout), 3)
    assert p.stderr.count("CALLED " + phase.lower()) == 3
    assert hook_errors(p.stderr) == []


def test_change_argument_object(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("write", function (fd, buf, len) {
          if (fd !== 1) return;
          return {"2": 3};
        });
        """, "write-stdout", "abcdefgh")
    ok(p)
    assert p.stdout == "abc"
    assert results(p.stderr) == [{"who": None, "name": "write", "ret": 3, "errno": 0}]


def test_change_argument_array(tmp_path):
    # [a0, a1]: the array's indices 0 and 1 replace fd and buf: write to stderr.
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("write", function (fd, buf, len) {
          if (fd !== 1) return;
          return [2, buf];
        });
        """, "write-stdout", "abcdefgh")
    ok(p)
    assert p.stdout == ""
    assert "abcdefgh" in p.stderr
    assert results(p.stderr)[-1]["ret"] == 8


def test_skip_with_ret_and_errno_zero(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore(110, () => ({ret: 4242, errno: 0}));
        accessors.AddHookAfter(110, () => { accessors.print("AFTER RAN"); });
        """, "getppid", "2")
    ok(p)
    rs = results(p.stdout)
    assert [(r["ret"], r["errno"]) for r in rs] == [(4242, 0)] * 2
    assert "AFTER RAN" not in p.stderr


def test_skip_with_eacces(tmp_path):
    f = tmp_path / "readable.txt"
    f.write_text("x")
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("openat", function (dirfd, path) {
          if (accessors.readString(path, 4096).endsWith("readable.txt"))
            return {ret: -1, errno: 13};
        });
        accessors.AddHookAfter("openat", function () {
          if (accessors.readString(this.arg1, 4096).endsWith("readable.txt"))
            accessors.print("AFTER RAN");
        });
        """, "openat", str(f))
    ok(p)
    assert results(p.stdout) == [{"who": None, "name": "openat", "ret": -1, "errno": 13}]
    assert "AFTER RAN" not in p.stderr


def test_skip_errno_wins_over_ret(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore(110, () => ({ret: 5, errno: 2}));
        """, "getppid")
    ok(p)
    assert [(r["ret"], r["errno"]) for r in results(p.stdout)] == [(-1, 2)]


def test_skip_ends_the_chain(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore(110, () => ({ret: 1, errno: 0}));
        accessors.AddHookBefore(110, () => { accessors.print("SECOND RAN"); });
        """, "getppid")
    ok(p)
    assert [r["ret"] for r in results(p.stdout)] == [1]
    assert "SECOND RAN" not in p.stderr


@pytest.mark.parametrize("verdict,expect", [
    ("{ret: 7}", (7, 0)),
    ("{errno: 2}", (-1, 2)),
    ("{ret: 9, '0': 5, '5': 1}", (9, 0)),  # argument keys: accepted and ignored
])
def test_after_hook_result(tmp_path, verdict, expect):
    p, _ = run(tmp_path, f"""
        accessors.AddHookAfter("getppid", () => ({verdict}));
        """, "getppid", "2")
    ok(p)
    assert [(r["ret"], r["errno"]) for r in results(p.stdout)] == [expect] * 2
    assert hook_errors(p.stderr) == []


def test_after_errno_zero_makes_failure_succeed(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookAfter("close", function (fd) {
          if (fd !== 999) return;
          accessors.print("SAW " + JSON.stringify([this.ret, this.errno]));
          return {errno: 0};
        });
        """, "close", "999")
    ok(p)
    assert tagged(p.stderr, "SAW") == [[-1, 9]]
    assert results(p.stdout) == [{"who": None, "name": "close", "ret": 0, "errno": 0}]


def test_before_hooks_run_in_order_and_see_changes(tmp_path):
    p, _ = run(tmp_path, """
        const order = [];
        accessors.AddHookBefore("write", function (fd, buf, len) {
          if (fd !== 1) return;
          order.push("h1:" + len);
          return {"2": 6};
        });
        accessors.AddHookBefore("write", function (fd, buf, len) {
          if (fd !== 1) return;
          order.push("h2:" + len + ":" + args.arg2);
          return {"2": len - 2};
        });
        accessors.AddHookAfter("write", function (fd) {
          if (fd === 1) accessors.print("ORDER " + JSON.stringify(order));
        });
        """, "write-stdout", "abcdefgh")
    ok(p)
    assert p.stdout == "abcd"
    assert tagged(p.stderr, "ORDER") == [["h1:8", "h2:6:6"]]
    assert results(p.stderr)[-1]["ret"] == 4


def test_after_hooks_run_in_order_and_see_changes(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookAfter(110, () => ({ret: 5}));
        accessors.AddHookAfter(110, function () {
          return {ret: args.ret * 10 + this.ret % 10 + 1};
        });
        """, "getppid")
    ok(p)
    assert [r["ret"] for r in results(p.stdout)] == [56]


def test_registration_by_number_name_and_aliases(tmp_path):
    p, _ = run(tmp_path, """
        const seen = [];
        accessors.AddHookBefore(110, () => { seen.push("num"); });
        accessors.AddHookBefore("getppid", () => { seen.push("name"); });
        hooks.AddCbBefore("getppid", () => { seen.push("cb"); });
        hooks.AddCbAfter(110, () => {
          accessors.print("SEEN " + JSON.stringify(seen));
          return {ret: seen.length};
        });
        accessors.print("SAME " + JSON.stringify([hooks === accessors,
          typeof accessors.AddCbBefore, typeof accessors.AddCbAfter]));
        """, "getppid")
    ok(p)
    assert tagged(p.stderr, "SAME") == [[True, "function", "function"]]
    assert tagged(p.stderr, "SEEN") == [["num", "name", "cb"]]
    assert [r["ret"] for r in results(p.stdout)] == [3]


# ---------------------------------------------------------------- calling convention


EVENT_JS = """
    function show(a0, a1, a2, a3, a4, a5, ev) {
      const t = this;
      accessors.print("EV " + JSON.stringify({
        same: t === ev, args: args === ev,
        sysno: t.sysno, name: t.name, pid: t.pid, tid: t.tid, phase: t.phase, abi: t.abi,
        ret: String(t.ret), errno: String(t.errno),
        aret: String(args.ret), aerrno: String(args.errno),
        pos: [a0, a1, a2, a3, a4, a5].map(String),
        fields: [t.arg0, t.arg1, t.arg2, t.arg3, t.arg4, t.arg5].map(String),
        argsf: [args.arg0, args.arg1, args.arg2, args.arg3, args.arg4, args.arg5].map(String),
      }));
    }
    accessors.AddHookBefore("getppid", show);
    accessors.AddHookAfter("getppid", show);
    """


def test_event_fields(tmp_path):
    p, _ = run(tmp_path, EVENT_JS, "getppid")
    ok(p)
    (r,) = results(p.stdout)
    before, after = tagged(p.stderr, "EV")
    zeros = ["0"] * 6
    for ev, phase in ((before, "before"), (after, "after")):
        assert ev["same"] is True and ev["args"] is True
        assert ev["sysno"] == GETPPID and ev["name"] == "getppid" and ev["abi"] == "x86_64"
        assert ev["phase"] == phase
        assert ev["pid"] == r["pid"] and ev["tid"] == r["tid"]
        assert ev["pos"] == ev["fields"] == ev["argsf"] == zeros
    assert before["ret"] == before["errno"] == "undefined"
    assert before["aret"] == before["aerrno"] == "undefined"
    assert after["ret"] == after["aret"] == str(r["real"])
    assert after["errno"] == after["aerrno"] == "0"


def test_event_of_failed_call(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookAfter("close", function (fd, a1, a2, a3, a4, a5, ev) {
          if (fd === 77)
            accessors.print("EV " + JSON.stringify([this.ret, this.errno, args.ret,
              args.errno, ev.arg0, this.phase]));
        });
        """, "close", "77")
    ok(p)
    assert tagged(p.stderr, "EV") == [[-1, 9, -1, 9, 77, "after"]]
    assert results(p.stdout) == [{"who": None, "name": "close", "ret": -1, "errno": 9}]


def test_arrow_functions_get_the_event(tmp_path):
    p, _ = run(tmp_path, """
        const show = (a0, a1, a2, a3, a4, a5, ev) => {
          accessors.print("EV " + JSON.stringify([ev.name, ev.phase, ev.sysno, args === ev,
            typeof ev.tid]));
        };
        accessors.AddHookBefore("getppid", show);
        accessors.AddHookAfter("getppid", show);
        """, "getppid")
    ok(p)
    assert tagged(p.stderr, "EV") == [["getppid", "before", GETPPID, True, "number"],
                                      ["getppid", "after", GETPPID, True, "number"]]


def test_args_and_local_outside_a_call(tmp_path):
    p, _ = run(tmp_path, """
        accessors.print("TOP " + JSON.stringify([typeof args, typeof persistence.local,
          typeof persistence.glb]));
        accessors.AddHookBefore(110, () => {
          accessors.print("IN " + JSON.stringify([typeof args, typeof persistence.local]));
        });
        """, "getppid")
    ok(p)
    assert tagged(p.stderr, "TOP") == [["undefined", "undefined", "object"]]
    assert tagged(p.stderr, "IN") == [["object", "object"]]


def test_64bit_arguments_exact(tmp_path):
    # hook_probe args6 calls getppid with ARGS6 (see the helper).
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("getppid", function (a0, a1, a2, a3, a4, a5) {
          const show = (v) => [typeof v, String(v)];
          accessors.print("POS " + JSON.stringify([a0, a1, a2, a3, a4, a5].map(show)));
          accessors.print("ARGS " + JSON.stringify([args.arg0, args.arg1, args.arg2,
            args.arg3, args.arg4, args.arg5].map(show)));
        });
        """, "args6")
    ok(p)
    expect = [["number", "-100"], ["bigint", "9007199254740993"],
              ["number", "9007199254740992"], ["bigint", "9223372036854775807"],
              ["number", str(0xDEADBEEF)], ["bigint", str(0xFEDCBA9876543210 - 2**64)]]
    assert tagged(p.stderr, "POS") == [expect]
    assert tagged(p.stderr, "ARGS") == [expect]


def test_at_fdcwd_is_a_negative_number(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("openat", function (dirfd) {
          accessors.print("FD " + JSON.stringify([typeof dirfd, dirfd]));
        });
        """, "openat", "/nonexistent-jvisor-probe")
    ok(p)
    assert [-100] == [v for t, v in tagged(p.stderr, "FD")][-1:]
    assert results(p.stdout)[0]["errno"] == 2


@pytest.mark.parametrize("value,expect", [
    ("9007199254740993n", 2**53 + 1),
    ("2n ** 62n + 5n", 2**62 + 5),
    ("0x7fffffffffff0000n", 0x7FFFFFFFFFFF0000),
    ("4096", 4096),
])
def test_bigint_argument_reaches_the_program(tmp_path, value, expect):
    # lseek(memfd, OFF, SEEK_SET) returns OFF: the program sees the exact argument.
    p, _ = run(tmp_path, f"""
        accessors.AddHookBefore("lseek", () => ({{"1": {value}}}));
        """, "lseek", "1")
    ok(p)
    assert results(p.stdout) == [{"who": None, "name": "lseek", "ret": expect, "errno": 0}]


def test_bigint_argument_round_trip(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("lseek", function (fd, off) {
          accessors.print("OFF " + JSON.stringify([typeof off, String(off)]));
          return {"1": off + 2n};
        });
        """, "lseek", str(2**53 + 1))
    ok(p)
    assert tagged(p.stderr, "OFF") == [["bigint", str(2**53 + 1)]]
    assert results(p.stdout)[0]["ret"] == 2**53 + 3


@pytest.mark.parametrize("phase,verdict", [
    ("Before", "{ret: 2n ** 60n + 3n, errno: 0}"),
    ("After", "{ret: 2n ** 60n + 3n}"),
])
def test_bigint_result_exact(tmp_path, phase, verdict):
    p, _ = run(tmp_path, f"""
        accessors.AddHook{phase}(110, () => ({verdict}));
        """, "getppid")
    ok(p)
    assert [r["ret"] for r in results(p.stdout)] == [2**60 + 3]


# ---------------------------------------------------------------- persistence


COUNTER_JS = """
    accessors.AddHookBefore("getppid", function () {
      const l = persistence.local, g = persistence.glb;
      l.n = (l.n || 0) + 1;
      g.n = (g.n || 0) + 1;
      return {ret: l.n * 1000 + g.n, errno: 0};
    });
    """


def counters(p):
    ok(p)
    return [(r["who"], r["ret"]) for r in results(p.stdout)]


def test_glb_shared_between_hooks(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore(110, () => { persistence.glb.token = "t" + args.tid; });
        accessors.AddHookAfter(110, function () {
          accessors.print("GLB " + JSON.stringify(persistence.glb.token === "t" + this.tid));
          persistence.local.seen = (persistence.local.seen || 0) + 1;
          return {ret: persistence.local.seen};
        });
        """, "getppid", "2")
    ok(p)
    assert tagged(p.stderr, "GLB") == [True, True]
    assert [r["ret"] for r in results(p.stdout)] == [1, 2]


def test_persistence_across_fork(tmp_path):
    # glb counts every call of the run; the child's local starts fresh.
    p, _ = run(tmp_path, COUNTER_JS, "fork")
    assert counters(p) == [("parent", 1001), ("child", 1002), ("parent", 2003)]


def test_persistence_per_thread(tmp_path):
    p, _ = run(tmp_path, COUNTER_JS, "thread")
    assert counters(p) == [("main", 1001), ("thread", 1002), ("main", 2003)]


def test_local_kept_across_execve(tmp_path):
    p, _ = run(tmp_path, COUNTER_JS, "exec")
    assert counters(p) == [("before-exec", 1001), (None, 2002)]


def test_local_follows_a_thread_that_execs(tmp_path):
    # main calls twice (local 2), a thread once (local 1), then the thread execs:
    # the new image is that thread, with its local (2 after the call), not the
    # leader's (3) nor a fresh one (1).
    p, _ = run(tmp_path, COUNTER_JS, "thread-exec")
    rs = counters(p)
    assert rs == [("main", 1001), ("main", 2002), ("thread", 1003), (None, 2004)]


# ---------------------------------------------------------------- failures


def test_throw_reported_once_program_continues(tmp_path):
    p, path = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () {
          throw new Error("boom from the hook"); // THROW
        });
        """, "getppid", "5")
    ok(p)
    assert_unchanged(results(p.stdout), 5)
    errs = hook_errors(p.stderr)
    assert len(errs) == 1, p.stderr
    assert f"{path}:{line_of(path, 'THROW')}:" in errs[0]
    assert "boom from the hook" in errs[0]
    assert "5 hook calls failed" in p.stderr


def test_throw_each_location_reported_once(tmp_path):
    p, path = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () {
          persistence.glb.n = (persistence.glb.n || 0) + 1;
          if (persistence.glb.n % 2)
            throw new Error("odd"); // ODD
          throw new TypeError("even"); // EVEN
        });
        """, "getppid", "6")
    ok(p)
    assert_unchanged(results(p.stdout), 6)
    errs = hook_errors(p.stderr)
    assert len(errs) == 2, p.stderr
    assert any(f"{path}:{line_of(path, 'ODD')}:" in e and "odd" in e for e in errs)
    assert any(f"{path}:{line_of(path, 'EVEN')}:" in e and "TypeError" in e for e in errs)


def test_throw_of_a_non_error_value(tmp_path):
    p, path = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () { // REG
          throw 42;
        });
        """, "getppid", "2")
    ok(p)
    assert_unchanged(results(p.stdout), 2)
    (err,) = hook_errors(p.stderr)
    assert "42" in err
    assert f"{path}:" in err


@pytest.mark.parametrize("js", [
    "var x = 1;\nvar y = (;\n",
    "var x = 1;\n\nvar z = 1 +* 2;\nvar w = 3;\n",
])
def test_syntax_error_stops_before_the_program(tmp_path, js):
    p, path = run(tmp_path, js, "write-stdout", "PROGRAM RAN")
    assert p.returncode == 2, p.stderr
    assert "PROGRAM RAN" not in p.stdout + p.stderr
    bad = next(i for i, l in enumerate(js.splitlines(), 1) if "(;" in l or "+*" in l)
    assert re.search(rf"{re.escape(str(path))}:{bad}\b.*SyntaxError", p.stderr), p.stderr


def test_throw_at_load_stops_before_the_program(tmp_path):
    p, path = run(tmp_path, """
        var x = 1;
        throw new Error("not today"); // LOADTHROW
        """, "write-stdout", "PROGRAM RAN")
    assert p.returncode == 2
    assert "PROGRAM RAN" not in p.stdout + p.stderr
    assert f"{path}:{line_of(path, 'LOADTHROW')}:" in p.stderr
    assert "not today" in p.stderr


BAD_RESULTS = [
    ("Before", '{"6": 1}', "argument index 6"),
    ("Before", '{"-1": 1}', "argument index -1"),
    ("Before", '{"0": NaN}', "NaN"),
    ("Before", '{"0": "12"}', "string"),
    ("Before", '{"1": {}}', "object"),
    ("Before", '{"0": 1.5}', "not an integer"),
    ("Before", '{"0": 2n ** 64n}', "64-bit"),
    ("Before", "{ret: 0, errno: 4096}", "errno 4096"),
    ("Before", "{ret: 0, errno: -1}", "errno -1"),
    ("Before", "{ret: 0}", "needs both ret and errno"),
    ("Before", "{errno: 1}", "needs both ret and errno"),
    ("After", "{errno: 4096}", "errno 4096"),
    ("After", "{errno: -1}", "errno -1"),
    ("After", "{ret: NaN}", "NaN"),
    ("After", "{ret: 'x'}", "string"),
]


@pytest.mark.parametrize("phase,verdict,fragment", BAD_RESULTS)
def test_bad_result_reported_once(tmp_path, phase, verdict, fragment):
    p, path = run(tmp_path, f"""
        accessors.AddHook{phase}("getppid", function () {{ // REG
          return {verdict};
        }});
        """, "getppid", "4")
    ok(p)
    assert_unchanged(results(p.stdout), 4)
    errs = hook_errors(p.stderr)
    assert len(errs) == 1, p.stderr
    assert f"{path}:{line_of(path, 'REG')}:" in errs[0]
    assert fragment in errs[0]
    assert "bad" in errs[0] and "result" in errs[0]


def test_bad_result_is_not_partly_applied(tmp_path):
    # {"2": 3} is fine but "6" is not: the whole result is rejected.
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("write", function (fd) {
          if (fd === 1) return {"2": 3, "6": 1};
        });
        """, "write-stdout", "abcdefgh")
    ok(p)
    assert p.stdout == "abcdefgh"
    assert len(hook_errors(p.stderr)) == 1


def test_time_limit(tmp_path):
    t0 = time.monotonic()
    p, path = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () { // REG
          while (true) {}
        });
        """, "getppid", "4", opts=["--hook-timeout", "100"])
    elapsed = time.monotonic() - t0
    ok(p)
    assert_unchanged(results(p.stdout), 4)
    errs = hook_errors(p.stderr)
    assert len(errs) == 1, p.stderr
    assert "time limit of 100 ms" in errs[0]
    assert f"{path}:{line_of(path, 'REG')}" in errs[0]
    assert elapsed < 15


def test_engine_works_after_a_time_limit(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () {
          persistence.glb.n = (persistence.glb.n || 0) + 1;
          if (persistence.glb.n === 2)
            for (;;) {}
          return persistence.glb.n === 1 ? undefined : {ret: 77, errno: 0};
        });
        """, "getppid", "4", opts=["--hook-timeout", "100"])
    ok(p)
    rs = results(p.stdout)
    assert rs[0]["ret"] == rs[0]["real"] and rs[1]["ret"] == rs[1]["real"]
    assert [r["ret"] for r in rs[2:]] == [77, 77]
    assert len(hook_errors(p.stderr)) == 1


@pytest.mark.parametrize("phase,body", [
    ("Before", "throw new Error('closed')"),
    ("After", "throw new Error('closed')"),
    ("Before", "return {'6': 1}"),
    ("Before", "while (true) {}"),
])
def test_fail_closed(tmp_path, phase, body):
    p, _ = run(tmp_path, f"""
        accessors.AddHook{phase}("getppid", function () {{
          {body};
        }});
        """, "getppid", "3", opts=["--hook-failure", "closed", "--hook-timeout", "100"])
    ok(p)
    assert [(r["ret"], r["errno"]) for r in results(p.stdout)] == [(-1, 1)] * 3
    errs = hook_errors(p.stderr)
    assert len(errs) == 1 and "EPERM" in errs[0]


def test_fail_closed_skips_the_syscall(tmp_path):
    # A before-hook failure in closed mode must not let the write happen.
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("write", function (fd) {
          if (fd === 1) throw new Error("no");
        });
        """, "write-stdout", "LEAKED", opts=["--hook-failure", "closed"])
    ok(p)
    assert p.stdout == ""
    assert results(p.stderr)[-1] == {"who": None, "name": "write", "ret": -1, "errno": 1}


def test_fail_open_is_default_and_explicit(tmp_path):
    js = 'accessors.AddHookBefore("getppid", () => { throw new Error("x"); });\n'
    for opts in ([], ["--hook-failure", "open"]):
        p, _ = run(tmp_path, js, "getppid", "2", opts=opts)
        ok(p)
        assert_unchanged(results(p.stdout), 2)
        assert "proceeds unchanged" in hook_errors(p.stderr)[0]


@pytest.mark.parametrize("call,fragment", [
    ('accessors.AddHookBefore("no_such_syscall", function () {});',
     "unknown syscall name 'no_such_syscall'"),
    ("accessors.AddHookAfter(100000, function () {});", "unknown syscall number 100000"),
    ("hooks.AddCbBefore(-1, function () {});", "unknown syscall number -1"),
    ("accessors.AddHookBefore(NaN, function () {});", "unknown syscall number"),
    ("accessors.AddHookBefore(1e300, function () {});", "unknown syscall number"),
    ("accessors.AddHookBefore(-Infinity, function () {});", "unknown syscall number"),
    ("accessors.AddHookBefore(110.5, function () {});", "unknown syscall number 110.5"),
    ('accessors.AddHookBefore("getppid", 5);', "must be a function"),
    ("accessors.AddHookBefore({}, function () {});", "syscall number or name"),
])
def test_bad_registration(tmp_path, call, fragment):
    p, path = run(tmp_path, f"""
        var ok = 1;
        {call} // CALL
        """, "write-stdout", "PROGRAM RAN")
    assert p.returncode == 2, p.stderr
    assert "PROGRAM RAN" not in p.stdout + p.stderr
    assert f"{path}:{line_of(path, 'CALL')}:" in p.stderr
    assert fragment in p.stderr


def test_result_whose_keys_throw_does_not_leak(tmp_path):
    # A Proxy whose ownKeys trap throws: a failure of this call, reported once;
    # the next call of the hook must run normally (the exception must not leak).
    p, path = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () { // REG
          const n = persistence.glb.n = (persistence.glb.n || 0) + 1;
          accessors.print("CALL " + n);
          if (n === 1)
            return new Proxy({}, {ownKeys() { throw new Error("trap"); }});
          return {ret: 1000 + n, errno: 0};
        });
        """, "getppid", "3")
    ok(p)
    rs = results(p.stdout)
    assert rs[0]["ret"] == rs[0]["real"]
    assert [r["ret"] for r in rs[1:]] == [1002, 1003]
    assert tagged(p.stderr, "CALL") == [1, 2, 3]
    (err,) = hook_errors(p.stderr)
    assert "trap" in err and f"{path}:{line_of(path, 'REG')}:" in err


def test_result_getter_that_throws(tmp_path):
    p, path = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () { // REG
          return {get "2"() { throw new Error("getter"); }};
        });
        """, "getppid", "2")
    ok(p)
    assert_unchanged(results(p.stdout), 2)
    (err,) = hook_errors(p.stderr)
    assert "getter" in err


def test_time_limit_at_load(tmp_path):
    p, path = run(tmp_path, """
        var i = 0;
        while (true) { i++; }
        """, "write-stdout", "PROGRAM RAN", opts=["--hook-timeout", "100"])
    assert p.returncode == 2
    assert "PROGRAM RAN" not in p.stdout + p.stderr
    assert str(path) in p.stderr and "time limit of 100 ms" in p.stderr


def test_event_pid_and_tid_of_a_thread(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () {
          accessors.print("EV " + JSON.stringify([this.pid, this.tid]));
        });
        """, "thread")
    ok(p)
    rs = results(p.stdout)
    assert [[r["pid"], r["tid"]] for r in rs] == tagged(p.stderr, "EV")
    main, thread, _ = rs
    assert thread["pid"] == main["pid"] and thread["tid"] != main["tid"]


def test_after_hook_registered_by_a_before_hook(tmp_path):
    # Registration at run time, on a syscall that is already trapped: the
    # after-hook added by the before-hook runs for this very call.
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () {
          if (persistence.glb.added) return;
          persistence.glb.added = true;
          accessors.AddHookAfter("getppid", () => ({ret: 31}));
        });
        """, "getppid", "2")
    ok(p)
    assert [r["ret"] for r in results(p.stdout)] == [31, 31]


# The filter grows once the hook that registered the new one has returned and its
# thread runs again: the program's next calls, a moment later, reach the new hook.
def test_hook_registered_at_run_time_on_an_untrapped_syscall(tmp_path):
    p, _ = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () {
          if (persistence.glb.added) return;
          persistence.glb.added = true;
          accessors.AddHookBefore("close", (fd) => fd === 99 ? {ret: 0, errno: 0} : undefined);
        });
        """, "seq", "close:99", "getppid", "sleep:300", "close:99")
    ok(p)
    closes = [(r["ret"], r["errno"]) for r in results(p.stdout) if r["name"] == "close"]
    assert closes == [(-1, 9), (0, 0)]
