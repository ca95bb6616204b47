"""Argument filters of hooks (docs/hooks.md, "Argument filters"): compiled into the
seccomp filter, checked again by the tracer, from scripts, config files and the
control socket. tests/helpers/fast_calls.c makes getppid calls whose (ignored)
argument registers carry the values to compare."""
import json
import re
import subprocess
import textwrap
import time

import pytest

from conftest import JVISOR, helper


def run(tmp_path, js, *ops, opts=(), timeout=30):
    cmd = [JVISOR, "run", *opts]
    if js is not None:
        p = tmp_path / "hooks.js"
        p.write_text(textwrap.dedent(js))
        cmd += ["-s", str(p)]
    cmd += ["--", helper("fast_calls"), *ops]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def calls(out, tag):
    """The a0 values printed by hook `tag` ("TAG a0")."""
    return [m for m in re.findall(rf"^{tag} (\S+)$", out, re.M)]


def results(out):
    return [int(x) for x in re.findall(r"^getppid(?:32)? ret=(-?\d+)$", out, re.M)]


def test_equal_filter_runs_only_for_matching_calls(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", a0 => { accessors.print("H " + a0); },
                                {args: {0: 7}});
        """, "g:7", "g:8", "g:0", "g:7", "g:0x100000007", "g:7,1,2,3,4,5")
    assert p.returncode == 0, p.stderr
    assert calls(p.stderr, "H") == ["7", "7", "7"]


def test_several_hooks_each_own_filter(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", a0 => { accessors.print("A " + a0); },
                                {args: {0: 1}});
        accessors.AddHookBefore("getppid", (a0, a1) => { accessors.print("B " + a0); },
                                {args: {1: {value: 0x20, mask: 0xf0}}});
        accessors.AddHookAfter("getppid", a0 => { accessors.print("C " + a0); return {ret: 5}; },
                               {args: {0: 2, 2: {value: 3, op: "!="}}});
        """, "g:1", "g:1,0x21", "g:2,0x120", "g:2,0,3", "g:2,0,4", "g:3")
    assert p.returncode == 0, p.stderr
    assert calls(p.stderr, "A") == ["1", "1"]
    assert calls(p.stderr, "B") == ["1", "2"]
    assert calls(p.stderr, "C") == ["2", "2"]
    r = results(p.stdout)
    assert [x == 5 for x in r] == [False, False, True, False, True, False]


@pytest.mark.parametrize("op,value,hits", [
    ("==", 5, [5]),
    ("!=", 5, [0, 4, 6, "-1"]),
    ("<", 5, [0, 4]),
    ("<=", 5, [0, 4, 5]),
    (">", 5, [6, "-1"]),
    (">=", 5, [5, 6, "-1"]),
])
def test_comparison_ops_are_unsigned(tmp_path, op, value, hits):
    p = run(tmp_path, f"""
        accessors.AddHookBefore("getppid", a0 => {{ accessors.print("H " + a0); }},
                                {{args: {{0: {{value: {value}, op: "{op}"}}}}}});
        """, "g:0", "g:4", "g:5", "g:6", "g:-1")
    assert p.returncode == 0, p.stderr
    assert calls(p.stderr, "H") == [str(h) for h in hits]


def test_64bit_values(tmp_path):
    # 2^32 + 1 must not match 1 (the high half is compared), BigInts and masks.
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", a0 => { accessors.print("E " + a0); },
                                {args: {0: 0x100000001}});
        accessors.AddHookBefore("getppid", (a0, a1) => { accessors.print("M " + a1); },
                                {args: {1: {value: 0x8000000000000000n,
                                            mask: 0xc000000000000000n}}});
        accessors.AddHookBefore("getppid", (a0, a1, a2) => { accessors.print("G " + a2); },
                                {args: {2: {value: 0xfffffffffn, op: ">"}}});
        """, "g:1", "g:0x100000001", "g:0,0x8000000000000001", "g:0,0x4000000000000000",
        "g:0,0,0xfffffffff", "g:0,0,0x1000000000", "g:0,0,0xffffffff")
    assert p.returncode == 0, p.stderr
    assert calls(p.stderr, "E") == ["4294967297"]
    assert calls(p.stderr, "M") == ["-9223372036854775807"]
    assert calls(p.stderr, "G") == ["68719476736"]


def test_i386_calls_reach_filtered_hooks(tmp_path):
    # libseccomp compares only the low halves on i386: those calls all stop
    # and the tracer decides.
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", a0 => { accessors.print("H " + a0); },
                                {args: {0: {value: 0x100000005, op: "!="}}});
        accessors.AddHookBefore("getppid", a0 => { accessors.print("L " + a0); },
                                {args: {0: {value: 3, op: "<"}}});
        """, "i:5", "i:2", "i:3")
    if "getppid32 ret=-38" in p.stdout:
        pytest.skip("no i386 emulation")
    assert p.returncode == 0, p.stderr
    assert calls(p.stderr, "H") == ["5", "2", "3"]
    assert calls(p.stderr, "L") == ["2"]


def test_non_matching_calls_do_not_stop(tmp_path):
    """Filtered-out calls run without a ptrace stop: far faster than stopped ones."""
    js = """
        accessors.AddHookBefore("getppid", a0 => {}, {args: {0: 7}});
        """
    p = run(tmp_path, js, "rep:20000:5", "rep:20000:7")
    assert p.returncode == 0, p.stderr
    out, stopped = [int(x) for x in re.findall(r"elapsed (\d+)", p.stdout)]
    assert out * 5 < stopped, (out, stopped)


def test_unfiltered_hook_or_log_traps_every_call(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", a0 => { accessors.print("F " + a0); },
                                {args: {0: 7}});
        accessors.AddHookBefore("getppid", a0 => { accessors.print("U " + a0); });
        """, "g:7", "g:8")
    assert calls(p.stderr, "F") == ["7"]
    assert calls(p.stderr, "U") == ["7", "8"]
    log = tmp_path / "log.jsonl"
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", a0 => { accessors.print("F " + a0); },
                                {args: {0: 7}});
        """, "g:7", "g:8", opts=["-e", "trace=getppid", "-o", str(log)])
    assert p.returncode == 0, p.stderr
    assert log.read_text().count('"getppid"') >= 2
    assert "F 7" in log.read_text() and "F 8" not in log.read_text()


@pytest.mark.parametrize("opts,msg", [
    ("{args: {6: 1}}", "not an argument index 0..5"),
    ("{args: {0: {value: 1, op: '=~'}}}", "unknown op '=~'"),
    ("{args: {0: {value: 1, mask: 3, op: '<'}}}", "a mask goes only with op '=='"),
    ("{args: {0: {mask: 3}}}", "needs a value"),
    ("{args: {0: 'x'}}", "must be a Number, a BigInt"),
    ("{argz: {}}", "unknown key 'argz'"),
    ("{mode: 'fast'}", 'must be "ptrace", "notify" or "observe"'),
])
def test_bad_filters_throw_at_registration(tmp_path, opts, msg):
    p = run(tmp_path, f"""
        accessors.AddHookBefore("getppid", () => {{}}, {opts});
        """, "g:1")
    assert p.returncode != 0
    assert msg in p.stderr and "hooks.js:2" in p.stderr, p.stderr


def test_config_file_args(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"callbacks": [
        {"sysno": "getppid", "type": "before", "args": {"0": 7},
         "source": "(function (a0) { accessors.print('A ' + a0); })"},
        {"sysno": 110, "type": "after",
         "args": {"1": {"value": "0x8000000000000000", "op": ">="},
                  "0": {"value": 1, "mask": 1}},
         "source": "(function (a0) { accessors.print('B ' + a0); return {ret: 3}; })"},
    ]}))
    p = run(tmp_path, None, "g:7", "g:8", "g:1,-1", "g:2,-1", "g:1,5",
            opts=["-c", str(cfg)])
    assert p.returncode == 0, p.stderr
    assert calls(p.stderr, "A") == ["7"]
    assert calls(p.stderr, "B") == ["1"]
    assert results(p.stdout)[2] == 3
    cfg.write_text(json.dumps({"callbacks": [
        {"sysno": "getppid", "type": "before", "args": {"0": {"value": 1, "op": "<>"}},
         "source": "(function () {})"}]}))
    p = run(tmp_path, None, "g:7", opts=["-c", str(cfg)])
    assert p.returncode != 0 and "callbacks[0].args" in p.stderr and "'<>'" in p.stderr


def test_filters_added_at_run_time(tmp_path):
    """Hooks added through the control socket: on a syscall already filtered
    (its kernel rules do not cover the new filter) and on a fresh one."""
    from test_control import Line, Sandbox
    go = tmp_path / "go"
    (tmp_path / "hooks.js").write_text(
        'accessors.AddHookBefore("getppid", a0 => { accessors.print("A " + a0); },'
        ' {args: {0: 7}});\n')
    s = Sandbox(["-s", str(tmp_path / "hooks.js"), "--", helper("fast_calls"), "g:7",
                 f"wait:{go}", "g:7", "g:5", "g:6", "w:1:x\n", "w:2:y\n"], tmp_path)
    try:
        assert s.wait_stdout("waiting"), s.stdout()
        ln = Line(s)
        for src in [
            'accessors.AddHookBefore("getppid", a0 => { accessors.print("B " + a0); },'
            ' {args: {0: 5}})',
            'accessors.AddHookBefore("write", fd => { accessors.print("W " + fd); },'
            ' {args: {0: 2}})',
        ]:
            a = ln.ask({"type": "change-state", "payload": {"source": src}})
            assert a["type"] == "ok", a
        go.touch()
        assert s.wait(20) == 0
        err = "".join(s.err_lines)
        assert calls(err, "A") == ["7", "7"]
        assert calls(err, "B") == ["5"]
        assert calls(err, "W") == ["2"]
    finally:
        s.close()


def test_trace_args_filters_the_log(tmp_path):
    log = tmp_path / "log.jsonl"
    p = run(tmp_path, None, "g:1", "g:2", "g:3,10", "g:2,9", "i:2", "i:3", "rep:20000:5",
            "rep:2000:2", opts=["--log-backend", "ptrace", "-e", "trace=getppid", "--trace-args",
                                "0=2", "-o", str(log)])  # the filter in seccomp: no stops
    assert p.returncode == 0, p.stderr
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    sys = [r for r in recs if r["type"] == "syscall"]
    assert len(sys) == 2 + 2000 + ("getppid32 ret=-38" not in p.stdout)
    out, stopped = [int(x) for x in re.findall(r"elapsed (\d+)", p.stdout)]
    assert out < stopped, (out, stopped)  # 20000 calls that never stop vs 2000 that do
    # Several comparisons, a mask; hooks with filters and the log filter together.
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", a0 => { accessors.print("H " + a0); },
                                {args: {0: 4}});
        """, "g:1", "g:3,10", "g:3,9", "g:4", "g:5,11",
            opts=["-e", "trace=getppid", "--trace-args", "0&1=1,1>9", "-o", str(log)])  # bpf
    assert p.returncode == 0, p.stderr
    sys = [json.loads(x) for x in log.read_text().splitlines()]
    sys = [r for r in sys if r["type"] == "syscall"]
    assert len(sys) == 2
    assert re.findall(r"H \d+", log.read_text()) == ["H 4"]  # hook prints go to the log


@pytest.mark.parametrize("spec", ["0=>1", "7=1", "0=", "x=1", "0=1,0=2", "0<1&"])
def test_trace_args_bad_spec(tmp_path, spec):
    p = run(tmp_path, None, "g:1", opts=["-e", "trace=getppid", "--trace-args", spec])
    assert p.returncode != 0 and "--trace-args" in p.stderr, p.stderr


@pytest.mark.parametrize("mode", ["ptrace", "notify"])
def test_kernel_stops_only_matching_calls(tmp_path, mode):
    """The control socket's stats count the calls that reached jvisor: with a
    filter, exactly the matching ones (the kernel filtered the rest)."""
    from test_control import Line, Sandbox
    go = tmp_path / "go"
    (tmp_path / "hooks.js").write_text(
        'accessors.AddHookBefore("getppid", () => {},'
        f' {{mode: "{mode}", args: {{0: {{value: 7, op: "<="}}, 1: 0x20}}}});\n')
    ops = ["g:7,0x20", "g:8,0x20", "g:0,0x20", "g:7,0x21", "g:-1,0x20", "g:3,0x20"]
    s = Sandbox(["-s", str(tmp_path / "hooks.js"), "--", helper("fast_calls"), *ops,
                 f"wait:{go}"], tmp_path)
    try:
        assert s.wait_stdout("waiting"), s.stdout()
        a = Line(s).ask({"type": "stats"})
        assert a["type"] == "ok", a
        assert a["payload"]["syscalls"].get("getppid") == 3, a  # 7, 0 and 3
        go.touch()
        assert s.proc.wait(20) == 0
    finally:
        s.close()
