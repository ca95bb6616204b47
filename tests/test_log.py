"""Syscall events: the syscall table, -e/--trace, -o/--log JSON lines and text,
process events, hook output in the log, the log socket, and nothing lost."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import JVISOR, PYTHON as PY, helper, jvisor_run


def syscalls(*args):
    return subprocess.run([JVISOR, "syscalls", *args], capture_output=True, text=True,
                          timeout=30)


# ---- the table ----

def test_table_lists_every_header_syscall_with_classes():
    r = syscalls()
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert all(len(row) == 3 for row in rows)
    by_name = {row[1]: row for row in rows}
    hdr = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if hdr.exists():
        names = re.findall(r"#define __NR_(\w+) (\d+)", hdr.read_text())
        for name, nr in names:
            assert name in by_name, name
            assert by_name[name][0] == nr
    assert by_name["openat"][2] == "file,desc"
    assert by_name["getppid"][2] == "pure"
    assert by_name["connect"][2] == "network"


def test_table_one_row_shows_roles_and_abis():
    r = syscalls("openat")
    assert r.returncode == 0
    assert "openat(dirfd, path, flags:open, mode)" in r.stdout
    assert "257" in r.stdout and "i386: 295" in r.stdout
    r = syscalls("110")
    assert "getppid()" in r.stdout
    r = syscalls("nosuchcall")
    assert r.returncode == 1 and "unknown syscall" in r.stderr


def test_table_sets_like_strace():
    net = syscalls("%network").stdout
    assert "\tconnect\t" in net and "\topenat\t" not in net
    notdesc = syscalls("!%desc").stdout
    assert "\tread\t" not in notdesc and "\tgetppid\t" in notdesc
    assert syscalls("%nosuch").returncode == 1


# ---- helpers ----

def run_log(tmp_path, args, prog, hooks=None, timeout=60, **kw):
    """jvisor run -o LOG ARGS -- PROG; returns (CompletedProcess, records)."""
    log = tmp_path / "log.jsonl"
    r = jvisor_run(["-o", str(log), *args, "--", *prog], hooks=hooks, tmp_path=tmp_path,
                   timeout=timeout, **kw)
    return r, records(log)


def records(path):
    out = []
    for line in Path(path).read_text().splitlines():
        out.append(json.loads(line))  # every line is one whole JSON object
    return out


def calls(recs, name):
    return [r for r in recs if r["type"] == "syscall" and r["name"] == name]


# ---- records: every argument role ----

def test_records_decode_every_role(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    r, recs = run_log(tmp_path, [], [helper("log_args"), str(scratch)])
    assert r.returncode == 0, r.stderr
    expected = [json.loads(l[7:]) for l in r.stdout.splitlines() if l.startswith("EXPECT ")]
    assert len(expected) >= 30
    sys_recs = [x for x in recs if x["type"] == "syscall"]
    for want in expected:
        got = [x for x in sys_recs if x["name"] == want["name"] and x["args"] == want["args"]
               and x["ret"] == want["ret"] and x["errno"] == want["errno"]]
        assert got, f"no record {want}; records of {want['name']}: " + json.dumps(
            [[x["args"], x["ret"]] for x in sys_recs if x["name"] == want["name"]][-3:])
    # The fixed fields of a record.
    rec = calls(recs, "openat")[0]
    for key in ("ts", "pid", "tid", "comm", "sysno", "name", "args", "ret", "errno", "errname",
                "dur_us"):
        assert key in rec, key
    assert rec["comm"] == "log_args" and rec["sysno"] == 257
    bad = [x for x in calls(recs, "openat") if x["errno"] == 14]
    assert bad and bad[0]["errname"] == "EFAULT"


def test_text_format_is_strace_like(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    log = tmp_path / "log.txt"
    r = jvisor_run(["-o", str(log), "--format", "text", "--", helper("log_args"), str(scratch)],
                   timeout=60)
    assert r.returncode == 0, r.stderr
    text = log.read_text()
    path = scratch / "file.txt"
    assert re.search(r'openat\(AT_FDCWD, "%s", O_WRONLY\|O_CREAT\|O_TRUNC\|O_CLOEXEC, 0640\) = \d+'
                     % re.escape(str(path)), text)
    assert re.search(r'write\(\d+<%s>, "hi\\n\\"x\\"\\t\\x01", 8\) = 8' % re.escape(str(path)), text)
    assert 'unlinkat(AT_FDCWD, "/nonexistent/jvisor-log", AT_REMOVEDIR) = -1 ENOENT' in text
    assert re.search(r'--- exec "/usr/bin/true" \["true", "a b", "\\"q\\""\] ---', text)
    assert "+++ exited with 0 +++" in text


def test_stderr_text_when_only_trace_is_given(tmp_path):
    r = jvisor_run(["-e", "getppid", "--", helper("log_loop"), "3", "0"])
    assert r.returncode == 0
    # Not a terminal here: JSON lines on stderr.
    lines = [json.loads(l) for l in r.stderr.splitlines() if l.startswith("{")]
    assert len(calls(lines, "getppid")) == 3


# ---- -e / --trace ----

@pytest.mark.parametrize("expr,has,hasnot", [
    ("getppid", {"getppid"}, {"openat", "mmap"}),
    ("110", {"getppid"}, {"openat"}),
    ("trace=%file", {"openat", "execve"}, {"getppid", "mmap"}),
    ("!getppid", {"openat", "mmap"}, {"getppid"}),
    ("/^mm", {"mmap"}, {"openat", "getppid"}),
    ("none", set(), {"getppid", "openat"}),
])
def test_trace_sets(tmp_path, expr, has, hasnot):
    r, recs = run_log(tmp_path, ["-e", expr], [helper("log_loop"), "5", "0"])
    assert r.returncode == 0, r.stderr
    names = {x["name"] for x in recs if x["type"] == "syscall"}
    assert has <= names, names
    assert not (hasnot & names), names
    if "getppid" in has:
        assert len(calls(recs, "getppid")) == 5
    assert [x["type"] for x in recs][:2] == ["spawn", "exec"]


def test_trace_set_errors():
    r = jvisor_run(["-e", "nosuchcall", "--", "/bin/true"])
    assert r.returncode == 2 and "unknown syscall 'nosuchcall'" in r.stderr
    r = jvisor_run(["-e", "%nosuch", "--", "/bin/true"])
    assert r.returncode == 2 and "unknown syscall class" in r.stderr
    r = jvisor_run(["--format", "xml", "-o", "-", "--", "/bin/true"])
    assert r.returncode == 2 and "--format" in r.stderr


def test_config_keys(tmp_path):
    log = tmp_path / "c.jsonl"
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"log": str(log), "trace": ["getppid"], "format": "json",
                               "string-limit": 64}))
    r = jvisor_run(["-c", str(cfg), "--", helper("log_loop"), "4", "0"])
    assert r.returncode == 0, r.stderr
    assert len(calls(records(log), "getppid")) == 4
    cfg.write_text(json.dumps({"trace": "nosuch"}))
    r = jvisor_run(["-c", str(cfg), "--", "/bin/true"])
    assert r.returncode == 2 and "nosuch" in r.stderr


# ---- the i386 ABI ----

def test_int80_calls_are_logged_with_their_abi(tmp_path):
    r, recs = run_log(tmp_path, ["-e", "getppid"], [helper("log_int80")])
    if r.returncode != 0 and "int" in r.stderr:
        pytest.skip("no i386 emulation in this kernel")
    assert r.returncode == 0, r.stderr
    got = calls(recs, "getppid")
    assert [x.get("abi", "x86_64") for x in got] == ["i386", "x86_64", "x86_64"]
    assert got[0]["ret"] == got[1]["ret"] > 0


# ---- process events ----

def test_process_events(tmp_path):
    r, recs = run_log(tmp_path, ["-e", "none"], [helper("log_proc")])
    assert r.returncode == 0, r.stderr
    child, killed = map(int, r.stdout.split())
    types = [x["type"] for x in recs]
    assert types[0] == "spawn" and types[1] == "exec"
    root = recs[0]["pid"]
    threads = [x for x in recs if x["type"] == "clone" and x["thread"]]
    assert threads and "CLONE_THREAD" in threads[0]["flags"] and threads[0]["pid"] == root
    forks = [x for x in recs if x["type"] == "fork"]
    assert [f["child"] for f in forks] == [child, killed]
    execs = [x for x in recs if x["type"] == "exec" and x["pid"] == child]
    assert execs and execs[0]["argv"] == ["true", "from-child"]
    assert execs[0]["path"].endswith("/true") and execs[0]["comm"] == "true"
    sigs = [x for x in recs if x["type"] == "signal"]
    assert any(s["sig"] == "SIGUSR1" and s["code"] == "SI_USER" and s["from_pid"] == root
               for s in sigs)
    assert any(s["sig"] == "SIGTERM" and s["pid"] == killed for s in sigs)
    exits = {x["tid"]: x for x in recs if x["type"] == "exit"}
    assert exits[child]["status"] == 0
    assert exits[killed]["signal"] == "SIGTERM"
    assert exits[root]["status"] == 0 and recs[-1] == exits[root]


def test_unfinished_call_is_recorded(tmp_path):
    r, recs = run_log(tmp_path, ["-e", "read,exit_group"], [helper("log_unfinished")])
    assert r.returncode == 3
    reads = [x for x in calls(recs, "read") if x.get("unfinished")]
    assert len(reads) == 1 and reads[0]["ret"] is None and reads[0]["dur_us"] >= 100000
    assert "pipe:" in reads[0]["args"][0]["path"]
    eg = calls(recs, "exit_group")
    assert len(eg) == 1 and eg[0]["args"] == [3] and eg[0]["ret"] is None


# ---- hooks in the record ----

HOOKS = r"""
accessors.AddHookBefore("getppid", function () {
  accessors.print("before", this.tid);
  accessors.logJson({n: 1, s: "x\n"});
  return {ret: 7, errno: 0};
});
accessors.AddHookBefore("getpid", function () {});
accessors.AddHookAfter("getpid", function () { return {ret: 42}; });
accessors.AddHookBefore("chdir", function (path) {
  return {0: 0};
});
"""


def test_hooks_and_their_output_in_the_log(tmp_path):
    prog = [PY, "-c", "import os\nos.getppid()\nprint(os.getpid())\n"
            "try:\n os.chdir('/tmp')\nexcept OSError as e:\n print(e.errno)"]
    r, recs = run_log(tmp_path, ["-e", "getppid,getpid,chdir"], prog, hooks=HOOKS)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["42", "14"]
    hooks_js = str(tmp_path / "hooks0.js")
    g = calls(recs, "getppid")[0]
    assert g["ret"] == 7 and g["hooks"]["skipped"] is True
    assert g["hooks"]["before"] == [hooks_js + ":2"]
    p = calls(recs, "getpid")[-1]
    assert p["ret"] == 42 and p["hooks"]["result"]["ret"] == p["pid"]
    assert p["hooks"]["after"] == [hooks_js + ":8"]
    c = [x for x in calls(recs, "chdir") if x["args"] == ["/tmp"]][0]
    assert c["hooks"]["args"] == {"0": {"from": "/tmp", "to": None}}
    assert c["errname"] == "EFAULT"
    prints = [x for x in recs if x["type"] == "print"]
    assert prints[0]["text"] == "before %d" % g["tid"] and prints[0]["where"] == hooks_js + ":3"
    assert prints[0]["pid"] == g["pid"]
    logs = [x for x in recs if x["type"] == "log"]
    assert logs[0]["value"] == {"n": 1, "s": "x\n"} and logs[0]["where"] == hooks_js + ":4"
