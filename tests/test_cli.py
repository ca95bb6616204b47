"""The command line: help, version, usage errors and exit statuses, `jvisor check`
and `jvisor syscalls` (DESIGN.md section 5, docs/errors.md)."""
import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import JVISOR, PYTHON, helper


def jvisor(*args, timeout=30, **kw):
    return subprocess.run([JVISOR, *args], capture_output=True, text=True, timeout=timeout,
                          **kw)


def js(tmp_path, name, text):
    p = Path(tmp_path) / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------- help and version


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help(flag):
    p = jvisor(flag)
    assert p.returncode == 0
    assert p.stdout.startswith("Usage: jvisor")
    for cmd in ("run", "check", "syscalls"):
        assert re.search(rf"^\s+{cmd}\b", p.stdout, re.M), p.stdout
    assert p.stderr == ""


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_run_help(flag):
    p = jvisor("run", flag)
    assert p.returncode == 0
    assert p.stdout.startswith("Usage: jvisor run")
    for opt in ("--hooks", "--config", "--hook-timeout", "--hook-failure"):
        assert opt in p.stdout
    assert p.stderr == ""


@pytest.mark.parametrize("cmd", ["check", "syscalls"])
def test_subcommand_help(cmd):
    p = jvisor(cmd, "--help")
    assert p.returncode == 0
    assert p.stdout.startswith(f"Usage: jvisor {cmd}")


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["version"], ["run", "--version"]])
def test_version(args):
    # "jvisor VERSION (commit C)": VERSION is the Makefile's, C what git said at build time
    # (make test rebuilds version.h when the commit changes), "unknown" outside git.
    p = jvisor(*args)
    assert p.returncode == 0
    m = re.fullmatch(r"jvisor (\d+\.\d+\.\d+) \(commit ([0-9a-f]{7,}(?:-dirty)?|unknown)\)\n",
                     p.stdout)
    assert m, p.stdout
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    assert re.search(rf"^VERSION := {re.escape(m[1])}$", makefile, re.M)
    # The commit is one of this repository's (the binary may predate the last one).
    root = Path(__file__).parent.parent
    if (root / ".git").exists() and m[2] != "unknown":
        c = subprocess.run(["git", "-C", str(root), "cat-file", "-t", m[2].removesuffix("-dirty")],
                           capture_output=True, text=True)
        assert c.stdout == "commit\n", (m[2], c.stderr)


# ---------------------------------------------------------------- usage errors


def test_no_command():
    p = jvisor()
    assert p.returncode == 2
    assert "Usage: jvisor" in p.stderr and p.stdout == ""


def test_unknown_command():
    p = jvisor("frobnicate")
    assert p.returncode == 2
    assert "unknown command 'frobnicate'" in p.stderr


@pytest.mark.parametrize("args,fragment", [
    (["--frob", "--", "/bin/true"], "--frob"),
    (["-Z", "--", "/bin/true"], "Z"),
    (["-s"], "requires an argument"),
    (["--hook-timeout", "abc", "--", "/bin/true"], "'abc'"),
    (["--hook-timeout", "0", "--", "/bin/true"], "'0'"),
    (["--hook-timeout", "10x", "--", "/bin/true"], "'10x'"),
    (["--hook-failure", "sometimes", "--", "/bin/true"], "'sometimes'"),
])
def test_bad_run_option(args, fragment):
    p = jvisor("run", *args)
    assert p.returncode == 2, p.stderr
    assert fragment in p.stderr
    # the first line says which command complained (getopt's too)
    assert p.stderr.startswith("jvisor run: "), p.stderr


@pytest.mark.parametrize("args", [[], ["--"], ["--hook-timeout", "100"]])
def test_no_program(args):
    p = jvisor("run", *args)
    assert p.returncode == 2
    assert "no program" in p.stderr


def test_missing_hook_script(tmp_path):
    marker = tmp_path / "ran"
    p = jvisor("run", "-s", str(tmp_path / "none.js"), "--", "/bin/touch", str(marker))
    assert p.returncode == 2
    assert str(tmp_path / "none.js") in p.stderr and "ENOENT" in p.stderr
    assert not marker.exists()


# ---------------------------------------------------------------- exit statuses


def test_exit_status_is_the_programs():
    p = jvisor("run", "--", PYTHON, "-c", "import sys; sys.exit(3)")
    assert p.returncode == 3, p.stderr


def test_exit_status_of_a_signal():
    p = jvisor("run", "--", PYTHON, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert p.returncode == 128 + signal.SIGTERM, p.stderr


def test_program_not_found(tmp_path):
    p = jvisor("run", "--", str(tmp_path / "no-such-program"))
    assert p.returncode == 127
    assert "no-such-program" in p.stderr


def test_program_not_executable(tmp_path):
    f = tmp_path / "data.txt"
    f.write_text("not a program\n")
    p = jvisor("run", "--", str(f))
    assert p.returncode == 126
    assert str(f) in p.stderr


def test_program_found_in_path(tmp_path):
    p = jvisor("run", "--", "true")
    assert p.returncode == 0, p.stderr


def test_program_arguments_untouched():
    # Everything after PROGRAM is the program's, even things that look like options.
    p = jvisor("run", "--", helper("hook_probe"), "write-stdout", "-s --help -V")
    assert p.returncode == 0
    assert p.stdout == "-s --help -V"


def test_options_stop_at_program_without_dashdash():
    p = jvisor("run", helper("hook_probe"), "write-stdout", "--version")
    assert p.returncode == 0
    assert p.stdout == "--version"


# ---------------------------------------------------------------- jvisor check


GOOD = """\
accessors.AddHookBefore("getppid", function () {});
hooks.AddCbAfter(257, (a0) => ({ret: 0}));
function helper() {}
accessors.AddHookAfter("write", helper);
"""


def test_check_good_script_lists_hooks(tmp_path):
    f = js(tmp_path, "good.js", GOOD)
    p = jvisor("check", str(f))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert f"before-hook on getppid (110) registered at {f}:1" in lines
    assert f"after-hook on openat (257) registered at {f}:2" in lines
    assert f"after-hook on write (1) registered at {f}:4" in lines
    assert len(lines) == 3
    assert p.stderr == ""


def test_check_several_files(tmp_path):
    a = js(tmp_path, "a.js", 'accessors.AddHookBefore("close", () => {});\n')
    b = js(tmp_path, "b.js", '\n\naccessors.AddHookBefore("close", () => {});\n')
    p = jvisor("check", str(a), str(b))
    assert p.returncode == 0
    assert p.stdout.splitlines() == [f"before-hook on close (3) registered at {a}:1",
                                     f"before-hook on close (3) registered at {b}:3"]


def test_check_shows_mode_and_filter_and_takes_s(tmp_path):
    f = js(tmp_path, "n.js", 'accessors.AddHookBefore("socket", () => {},'
                             ' {mode: "notify", args: {0: 2}});\n'
                             'accessors.AddHookBefore("write", () => {}, {args: {0: 1}});\n')
    p = jvisor("check", "-s", str(f))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        f"before-hook on write (1), when a0 == 0x1 registered at {f}:2",
        f"before-hook on socket (41), notify mode, when a0 == 0x2 registered at {f}:1"]


def test_check_runs_nothing(tmp_path):
    # A script's top level runs, but no program and no hook.
    marker = tmp_path / "called"
    f = js(tmp_path, "h.js", 'accessors.AddHookBefore("getppid", function () {\n'
                             f'  throw new Error("hook called {marker}");\n}});\n')
    p = jvisor("check", str(f))
    assert p.returncode == 0
    assert "hook called" not in p.stderr


@pytest.mark.parametrize("text,line,fragment", [
    ("var a = 1;\nvar b = (;\n", 2, "SyntaxError"),
    ("var a = 1;\n\nthrow new Error('top level');\n", 3, "top level"),
    ('\naccessors.AddHookBefore("no_such_call", () => {});\n', 2, "unknown syscall name"),
    ("accessors.AddHookBefore(110, 'not a function');\n", 1, "must be a function"),
    ("undefinedFunction();\n", 1, "ReferenceError"),
])
def test_check_bad_script(tmp_path, text, line, fragment):
    f = js(tmp_path, "bad.js", text)
    p = jvisor("check", str(f))
    assert p.returncode == 1, p.stderr
    assert f"{f}:{line}:" in p.stderr
    assert fragment in p.stderr


def test_check_good_and_bad(tmp_path):
    good = js(tmp_path, "good.js", GOOD)
    bad = js(tmp_path, "bad.js", "var b = (;\n")
    p = jvisor("check", str(good), str(bad))
    assert p.returncode == 1
    assert f"{bad}:1:" in p.stderr
    assert f"registered at {good}:1" in p.stdout  # the good one is still listed


def test_check_runaway_script(tmp_path):
    f = js(tmp_path, "loop.js", "var i = 0;\nwhile (true) { i++; }\n")
    p = jvisor("check", str(f), timeout=30)
    assert p.returncode == 1
    assert "time limit" in p.stderr and str(f) in p.stderr


def test_check_missing_file(tmp_path):
    p = jvisor("check", str(tmp_path / "none.js"))
    assert p.returncode == 1
    assert "none.js" in p.stderr and "ENOENT" in p.stderr


def test_check_without_files():
    p = jvisor("check")
    assert p.returncode == 2
    assert "Usage: jvisor check" in p.stderr


# ---------------------------------------------------------------- jvisor syscalls


def test_syscalls_table():
    p = jvisor("syscalls")
    assert p.returncode == 0
    rows = [l.split("\t") for l in p.stdout.splitlines()]
    assert len(rows) > 300
    table = {int(r[0]): r[1] for r in rows}
    assert table[0] == "read" and table[1] == "write" and table[110] == "getppid"
    assert table[257] == "openat" and table[59] == "execve" and table[231] == "exit_group"
    nrs = [int(r[0]) for r in rows]
    assert nrs == sorted(nrs) and len(set(nrs)) == len(nrs)


@pytest.mark.parametrize("query", ["openat", "257"])
def test_syscalls_one_row(query):
    p = jvisor("syscalls", query)
    assert p.returncode == 0
    assert p.stdout.startswith("openat(")
    assert re.search(r"\bnumber: 257\b", p.stdout)
    assert "getppid" not in p.stdout and "\nread" not in p.stdout


@pytest.mark.parametrize("query", ["no_such_call", "99999", "-5", "open at"])
def test_syscalls_unknown(query):
    p = jvisor("syscalls", query)
    assert p.returncode == 1
    assert "unknown syscall" in p.stderr or "syscall" in p.stderr
    assert p.stdout == ""


def test_syscalls_names_match_hook_registration(tmp_path):
    # Every name the table lists is accepted by AddHookBefore (spot check a few).
    names = [l.split("\t")[1] for l in jvisor("syscalls").stdout.splitlines()]
    picks = [n for n in names if n in ("bind", "clone3", "io_uring_setup", "pidfd_open")]
    f = js(tmp_path, "h.js", "".join(f'accessors.AddHookBefore("{n}", () => {{}});\n'
                                     for n in picks))
    p = jvisor("check", str(f))
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == len(picks) == 4


# ---------------------------------------------------------------- options after operands
# view, check, ctl and syscalls take their options before or after their operands,
# as GNU tools do; run stops at the program (the rest is the program's).


def test_view_options_after_the_log(tmp_path):
    from test_web import Server, make_log
    log = tmp_path / "l.jsonl"
    facts = make_log(log, 50)
    # --web after the log: the viewer listens beyond loopback (the default is 127.0.0.1),
    # so the option was taken, and serves that log.
    s = Server(["view", str(log), "--web", "0.0.0.0:0"])
    try:
        assert "0.0.0.0" in s.base and "beyond loopback" in "".join(s.err)
        s.base = s.base.replace("0.0.0.0", "127.0.0.1")
        st, j = s.get("/api/stats", token=s.token)
        assert st == 200 and j["records"] == facts["n"]
    finally:
        s.close()


def test_view_double_dash_and_operand_count(tmp_path):
    from test_web import Server, make_log
    log = tmp_path / "-dash.jsonl"  # after --, a name beginning with '-' is the log
    facts = make_log(log, 20)
    s = Server(["view", "--web=127.0.0.1:0", "--", str(log.name)], cwd=tmp_path)
    try:
        assert s.get("/api/stats", token=s.token)[1]["records"] == facts["n"]
    finally:
        s.close()
    p = jvisor("view", str(log), "--web", "127.0.0.1:0", str(log))
    assert p.returncode == 2 and "expected one log file" in p.stderr
    p = jvisor("view", str(log), "--frob")
    assert p.returncode == 2 and "--frob" in p.stderr
    p = jvisor("view", str(log), "--help")
    assert p.returncode == 0 and p.stdout.startswith("Usage: jvisor view")


def test_check_options_after_files(tmp_path):
    a = js(tmp_path, "a.js", 'accessors.AddHookBefore("getppid", () => {});\n')
    b = js(tmp_path, "b.js", 'accessors.AddHookAfter("getuid", () => {});\n')
    d = js(tmp_path, "-d.js", 'accessors.AddHookBefore("getpid", () => {});\n')
    p = jvisor("check", str(a), "-s", str(b), "--hooks", str(a), "--", d.name, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "before-hook on getppid" in p.stdout and "after-hook on getuid" in p.stdout
    assert "before-hook on getpid" in p.stdout
    p = jvisor("check", str(a), "--help")
    assert p.returncode == 0 and p.stdout.startswith("Usage: jvisor check")
    p = jvisor("check", str(a), "--frob")
    assert p.returncode == 2 and "--frob" in p.stderr and "before-hook" not in p.stdout


def test_syscalls_options_after_the_query():
    p = jvisor("syscalls", "openat", "--help")
    assert p.returncode == 0 and p.stdout.startswith("Usage: jvisor syscalls")
    p = jvisor("syscalls", "--", "--help")
    assert p.returncode == 1 and "unknown syscall '--help'" in p.stderr
    p = jvisor("syscalls", "openat", "read")
    assert p.returncode == 2 and "at most one" in p.stderr


@pytest.mark.parametrize("args", [
    ["-s", "{hooks}", "{probe}", "write-stdout", "--foo -s x"],
    ["-s", "{hooks}", "--", "{probe}", "write-stdout", "--foo -s x"],
    ["--hooks={hooks}", "{probe}", "write-stdout", "--foo -s x", "--isolate"],
])
def test_run_stops_at_the_program(tmp_path, args):
    # Everything after PROGRAM is the program's: --foo, -s and --isolate are not
    # jvisor's (--isolate would give the program a new pid namespace).
    hooks = js(tmp_path, "h.js", 'accessors.AddHookBefore("getppid", () => ({ret: 7, errno: 0}));\n')
    argv = [a.format(hooks=hooks, probe=helper("hook_probe")) for a in args]
    p = jvisor("run", *argv)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "--foo -s x"


def test_ctl_options_anywhere_and_dash_arguments(tmp_path):
    from test_control import Sandbox
    s = Sandbox(["--", helper("ctl_spin"), "2"], tmp_path)
    try:
        def ctl(*args):
            return subprocess.run([JVISOR, "ctl", *args], capture_output=True, text=True,
                                  timeout=30)
        # Options after ADDR and after the command, with a separate or an attached value.
        for args in (["--json", s.addr, "hooks"], [s.addr, "hooks", "--json"],
                     [s.addr, "--timeout", "20", "hooks", "--json"],
                     [s.addr, "hooks", "--timeout=20", "--json"]):
            r = ctl(*args)
            assert r.returncode == 0, (args, r.stderr)
            assert json.loads(r.stdout)["type"] == "ok", args
        r = ctl(s.addr, "hooks", "--timeout", "0")
        assert r.returncode == 2 and "--timeout" in r.stderr
        r = ctl(s.addr, "hooks", "--timeout")
        assert r.returncode == 2 and "requires an argument" in r.stderr
        # A command's own arguments may begin with '-': a negative nice value.
        pid = json.loads(ctl(s.addr, "ps", "--json").stdout)["payload"][0]["pid"]
        r = ctl(s.addr, "nice", str(pid), "-3")
        assert r.returncode == 0, r.stderr
        assert "nice -3" in ctl(s.addr, "nice", str(pid)).stdout
        # JavaScript beginning with '-', and after -- even an option's spelling.
        r = ctl(s.addr, "eval", "-1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["type"] == "ok", r.stderr
        r = ctl(s.addr, "eval", "--", "--json")  # JavaScript: decrement a variable 'json'
        assert r.returncode == 1 and "json" in r.stderr and r.stdout == "", r.stderr
        # Before ADDR, an unknown option is an error; after the command it is an operand.
        r = ctl("--frob", s.addr, "hooks")
        assert r.returncode == 2 and "--frob" in r.stderr
        r = ctl(s.addr, "hooks", "--frob")
        assert r.returncode == 2 and "wrong arguments: hooks" in r.stderr
        r = ctl(s.addr, "hooks", "--help")
        assert r.returncode == 0 and r.stdout.startswith("Usage: jvisor ctl")
    finally:
        s.close()
