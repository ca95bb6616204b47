"""The configuration file of `jvisor run -c FILE.json` (docs/config.md).

Hooks and seed callbacks declared in the file, each key's type checks, error
messages that name the file and the key (or line:column), the `command` key, and
command-line options overriding the file.
"""
import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import JVISOR, helper, probe_results

results = probe_results


def rets(p):
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return [(r["ret"], r["errno"]) for r in results(p.stdout)]


def write_config(tmp_path, cfg, name="config.json"):
    p = Path(tmp_path) / name
    p.write_text(cfg if isinstance(cfg, str) else json.dumps(cfg, indent=1))
    return p


def jvisor(args, cwd=None, timeout=30):
    return subprocess.run([JVISOR, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def run_cfg(tmp_path, cfg, *probe, opts=(), cwd="/"):
    """jvisor run -c CONFIG [opts] [-- hook_probe PROBE...], from another directory."""
    path = write_config(tmp_path, cfg)
    args = ["run", "-c", str(path), *opts]
    if probe:
        args += ["--", helper("hook_probe"), *probe]
    return jvisor(args, cwd=cwd), path


def usage_error(p, *fragments):
    assert p.returncode == 2, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert "PROGRAM RAN" not in p.stdout + p.stderr
    for f in fragments:
        assert f in p.stderr, p.stderr


SKIP5 = 'accessors.AddHookBefore("getppid", () => ({ret: 5, errno: 0}));\n'


# ---------------------------------------------------------------- hooks key


@pytest.mark.parametrize("form", ["string", "array"])
def test_hooks_relative_to_config_dir(tmp_path, form):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "h.js").write_text(SKIP5)
    cfg = {"hooks": "sub/h.js" if form == "string" else ["sub/h.js"]}
    p, _ = run_cfg(tmp_path, cfg, "getppid")  # cwd is / : only the config dir resolves it
    assert rets(p) == [(5, 0)]


def test_hooks_absolute_and_several(tmp_path):
    a = tmp_path / "a.js"
    a.write_text('accessors.AddHookBefore("getppid", () => { persistence.glb.s = "a"; });\n')
    b = tmp_path / "b.js"
    b.write_text('accessors.AddHookBefore("getppid", () => '
                 '({ret: persistence.glb.s === "a" ? 2 : 3, errno: 0}));\n')
    p, _ = run_cfg(tmp_path, {"hooks": [str(a), "b.js"]}, "getppid")
    assert rets(p) == [(2, 0)]  # loaded in order: a's hook runs first


def test_missing_hook_file(tmp_path):
    p, _ = run_cfg(tmp_path, {"hooks": ["nope.js"]}, "write-stdout", "PROGRAM RAN")
    usage_error(p, str(tmp_path / "nope.js"))


def test_config_hooks_then_command_line_hooks(tmp_path):
    (tmp_path / "cfg.js").write_text(
        'accessors.AddHookBefore("getppid", () => { persistence.glb.order = ["cfg"]; });\n')
    cli = tmp_path / "cli.js"
    cli.write_text('accessors.AddHookBefore("getppid", () => {\n'
                   '  persistence.glb.order.push("cli");\n'
                   '  return {ret: persistence.glb.order.length, errno: 0};\n'
                   '});\n')
    p, _ = run_cfg(tmp_path, {"hooks": "cfg.js"}, "getppid", opts=["-s", str(cli)])
    assert rets(p) == [(2, 0)]


# ---------------------------------------------------------------- seed callbacks


def test_callback_entry_point_compiled_once(tmp_path):
    # The source runs once: the counter lives on across calls.
    cfg = {"callbacks": [{
        "sysno": 110, "type": "before", "entry-point": "cb",
        "source": "var n = 0;\nfunction cb() { n++; return {ret: n, errno: 0}; }",
    }]}
    p, _ = run_cfg(tmp_path, cfg, "getppid", "3")
    assert rets(p) == [(1, 0), (2, 0), (3, 0)]


def test_callback_source_value_closure(tmp_path):
    # Without entry-point, the value of the source is the hook; a closure counter
    # proves it is not re-evaluated per call.
    cfg = {"callbacks": [{
        "sysno": "getppid", "type": "after",
        "source": "(function () { let n = 10; return function () { return {ret: ++n}; }; })()",
    }]}
    p, _ = run_cfg(tmp_path, cfg, "getppid", "3")
    assert rets(p) == [(11, 0), (12, 0), (13, 0)]


def test_callback_before_and_after_by_number_and_name(tmp_path):
    cfg = {"callbacks": [
        {"sysno": "close", "type": "before", "entry-point": "b",
         "source": "function b(fd) { if (fd === 999) return {'0': 998}; }"},
        {"sysno": 3, "type": "after", "entry-point": "a",
         "source": "function a(fd) {"
                   " if (fd === 998 && this.errno === 9) return {ret: 1000 + fd}; }"},
    ]}
    p, _ = run_cfg(tmp_path, cfg, "close", "999")
    # the before-callback changed fd to 998; the after-callback saw it fail (EBADF)
    assert rets(p) == [(1998, 0)]


def test_callback_seed_example(tmp_path):
    # docs/config.md's example, on a syscall the probe makes.
    # (only the probe's own openat: the dynamic loader opens libraries too)
    cfg = {"callbacks": [{"sysno": 257, "type": "before", "entry-point": "cb",
                          "source": "function cb(dirfd, path, flags) {\n"
                                    "  if (accessors.readString(path, 64) === '/probe')\n"
                                    "    return {ret: -1, errno: 98};\n}"}]}
    p, _ = run_cfg(tmp_path, cfg, "openat", "/probe")
    assert rets(p) == [(-1, 98)]


def test_callbacks_and_hooks_together(tmp_path):
    (tmp_path / "h.js").write_text(
        'accessors.AddHookAfter("getppid", () => ({ret: persistence.glb.x * 2}));\n')
    cfg = {"hooks": ["h.js"], "callbacks": [{
        "sysno": 110, "type": "before", "entry-point": "f",
        "source": "function f() { persistence.glb.x = 21; }"}]}
    p, _ = run_cfg(tmp_path, cfg, "getppid")
    assert rets(p) == [(42, 0)]


def test_callback_runtime_error_names_the_callback(tmp_path):
    cfg = {"callbacks": [{"sysno": 110, "type": "after", "entry-point": "cb",
                          "source": "function cb() {\n  throw new Error('late');\n}"}]}
    p, path = run_cfg(tmp_path, cfg, "getppid", "2")
    rs = results(p.stdout)
    assert p.returncode == 0 and [r["ret"] == r["real"] for r in rs] == [True, True]
    errs = [l for l in p.stderr.splitlines() if l.startswith("jvisor: hook error:")]
    assert len(errs) == 1
    assert f"{path}:callbacks[0]:2: Error: late" in errs[0]


@pytest.mark.parametrize("cb,fragments", [
    ({"sysno": 110, "type": "before", "source": "var x = (;"},
     [":callbacks[0]:1:", "SyntaxError"]),
    ({"sysno": 110, "type": "before", "source": "var x = 1;\nthrow new Error('cb load');"},
     [":callbacks[0]:2:", "cb load"]),
    ({"sysno": 110, "type": "before", "source": "function f() {}", "entry-point": "g"},
     [":callbacks[0]", "entry-point 'g'"]),
    ({"sysno": 110, "type": "before", "source": "42"}, [":callbacks[0]", "not a function"]),
    ({"sysno": 110, "type": "middle", "source": "1"}, ["callbacks[0].type"]),
    ({"sysno": "no_such_call", "type": "before", "source": "1"}, ["callbacks[0].sysno"]),
    ({"sysno": 100000, "type": "before", "source": "1"}, ["callbacks[0].sysno"]),
    ({"sysno": 2**32 + 110, "type": "before", "source": "1"}, ["callbacks[0].sysno"]),
    ({"sysno": -1, "type": "before", "source": "1"}, ["callbacks[0].sysno"]),
    ({"sysno": 110, "type": "before", "source": 5}, ["callbacks[0].source"]),
    ({"sysno": 110, "type": "before", "source": "1", "extra": 2}, ["'extra'"]),
    ({"sysno": 110, "type": "before"}, ["callbacks[0]", "source"]),
    ({"type": "before", "source": "1"}, ["callbacks[0]", "sysno"]),
    ("not an object", ["callbacks[0]"]),
])
def test_bad_callback(tmp_path, cb, fragments):
    p, path = run_cfg(tmp_path, {"callbacks": [cb]}, "write-stdout", "PROGRAM RAN")
    usage_error(p, str(path), *fragments)


# ---------------------------------------------------------------- errors


def test_unknown_key(tmp_path):
    p, path = run_cfg(tmp_path, {"hooks": [], "hook_timeout": 5}, "write-stdout", "PROGRAM RAN")
    usage_error(p, str(path), "unknown key 'hook_timeout'")


@pytest.mark.parametrize("key,value", [
    ("hooks", 5),
    ("hooks", [5]),
    ("hooks", {"a": "b"}),
    ("callbacks", {}),
    ("hook-timeout", "100"),
    ("hook-timeout", 0),
    ("hook-timeout", 1.5),
    ("hook-timeout", 3600001),
    ("hook-failure", "maybe"),
    ("hook-failure", True),
    ("command", "prog"),
    ("command", []),
    ("command", ["prog", 1]),
    ("log", 5),
    ("log-socket", ["unix:x"]),
    ("web", 8080),
    ("web-keep", "yes"),
    ("control-no-token", 1),
    ("isolate", "true"),
    ("clearenv", None),
])
def test_wrong_type_names_the_key(tmp_path, key, value):
    p, path = run_cfg(tmp_path, {key: value}, "write-stdout", "PROGRAM RAN")
    # the message names the key (hooks[0] / command[1] for an element)
    usage_error(p, str(path))
    assert re.search(rf"'{key}'|\b{key}\[\d+\]", p.stderr), p.stderr


@pytest.mark.parametrize("text,line,col", [
    ('{"hooks": "a.js",\n  "x": }', 2, 8),
    ('{\n\n   "hooks": [1 2]}', 3, 16),
    ('{"hooks": "a.js"', 1, 16),
])
def test_malformed_json_line_column(tmp_path, text, line, col):
    p, path = run_cfg(tmp_path, text, "write-stdout", "PROGRAM RAN")
    usage_error(p, f"{path}:{line}:{col}:")


@pytest.mark.parametrize("text", ["[1, 2]", '"hooks"', "", '{"hooks": "a.js", "hooks": "b.js"}'])
def test_not_an_object_or_duplicate(tmp_path, text):
    p, path = run_cfg(tmp_path, text, "write-stdout", "PROGRAM RAN")
    usage_error(p, str(path))


def test_missing_config_file(tmp_path):
    p = jvisor(["run", "-c", str(tmp_path / "none.json"), "--", helper("hook_probe"),
                "write-stdout", "PROGRAM RAN"])
    usage_error(p, str(tmp_path / "none.json"))
    assert ":-1:" not in p.stderr


# ---------------------------------------------------------------- command and overrides


def test_command_key(tmp_path):
    (tmp_path / "h.js").write_text(SKIP5)
    p, _ = run_cfg(tmp_path, {"hooks": "h.js",
                              "command": [helper("hook_probe"), "getppid", "2"]})
    assert rets(p) == [(5, 0), (5, 0)]


def test_command_line_program_wins_over_command_key(tmp_path):
    p, _ = run_cfg(tmp_path, {"command": [helper("hook_probe"), "write-stdout", "FROM CONFIG"]},
                   "write-stdout", "FROM CLI")
    assert p.returncode == 0
    assert p.stdout == "FROM CLI"


def test_hook_failure_from_config_and_override(tmp_path):
    (tmp_path / "t.js").write_text('accessors.AddHookBefore(110, () => { throw 1; });\n')
    cfg = {"hooks": "t.js", "hook-failure": "closed"}
    p, _ = run_cfg(tmp_path, cfg, "getppid")
    assert rets(p) == [(-1, 1)]  # closed: EPERM
    p, _ = run_cfg(tmp_path, cfg, "getppid", opts=["--hook-failure", "open"])
    (r,) = results(p.stdout)
    assert p.returncode == 0 and r["ret"] == r["real"]


# The time limit counts the hook thread's CPU time: on a loaded machine a 400 ms busy
# wait may get less than 100 ms of CPU, so it waits 2 s (at least 100 ms of CPU even
# with a quarter of a core, and well under the 5 s limit of the override).
BUSY = """
accessors.AddHookBefore(110, function () {
  const end = Date.now() + 2000;
  while (Date.now() < end) {}
  return {ret: 7, errno: 0};
});
"""


def test_hook_timeout_from_config_and_override(tmp_path):
    (tmp_path / "busy.js").write_text(BUSY)
    cfg = {"hooks": "busy.js", "hook-timeout": 100}
    p, _ = run_cfg(tmp_path, cfg, "getppid")
    (r,) = results(p.stdout)
    assert p.returncode == 0 and r["ret"] == r["real"]  # stopped at 100 ms
    assert "time limit of 100 ms" in p.stderr
    p, _ = run_cfg(tmp_path, cfg, "getppid", opts=["--hook-timeout", "5000"])
    assert rets(p) == [(7, 0)]  # the command line's 5 s let it finish
    assert "hook error" not in p.stderr


def test_config_option_after_program_is_the_programs(tmp_path):
    # Options after `--` belong to the program, never to jvisor.
    p, _ = run_cfg(tmp_path, {}, "write-stdout", "--hook-failure")
    assert p.returncode == 0 and p.stdout == "--hook-failure"


def test_relative_config_path_and_cli_script_relative_to_cwd(tmp_path):
    # -c config.json from its own directory; -s paths are relative to the cwd,
    # config hook paths to the config's directory.
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "h.js").write_text(
        'accessors.AddHookBefore("getppid", () => { persistence.glb.c = 1; });\n')
    (tmp_path / "cli.js").write_text(
        'accessors.AddHookBefore("getppid", () => ({ret: persistence.glb.c + 40, errno: 0}));\n')
    write_config(tmp_path / "sub", {"hooks": "h.js"}, name="c.json")
    p = jvisor(["run", "-c", "sub/c.json", "-s", "cli.js", "--", helper("hook_probe"),
                "getppid"], cwd=tmp_path)
    assert rets(p) == [(41, 0)]
