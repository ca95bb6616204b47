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


def test_every_hook_error_is_in_the_log(tmp_path):
    """stderr says it once per place; the log has each failure, with the place."""
    hooks = ('accessors.AddHookBefore("getppid", function (a0) {\n'
             '  throw new Error("boom");\n'
             '});\n')
    prog = [PY, "-c", "import os\nfor i in range(3): os.getppid()"]
    r, recs = run_log(tmp_path, ["-e", "getppid"], prog, hooks=hooks)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("boom") == 1, r.stderr
    errs = [x for x in recs if x["type"] == "hook_error"]
    hooks_js = str(tmp_path / "hooks0.js")
    assert len(errs) == 3 and len(calls(recs, "getppid")) == 3, errs
    for e in errs:
        assert e["where"] == hooks_js + ":2", e
        assert "boom" in e["message"] and "before-hook on getppid" in e["message"]
        assert "proceeds unchanged" in e["message"] and e["pid"] > 0


# ---- nothing lost ----

@pytest.mark.parametrize("n,threads", [(3000, 0), (500, 16)])
def test_exact_counts(tmp_path, n, threads):
    r, recs = run_log(tmp_path, ["-e", "getppid"], [helper("log_loop"), str(n), str(threads)])
    assert r.returncode == 0, r.stderr
    got = calls(recs, "getppid")
    assert len(got) == n * max(threads, 1)
    if threads:
        per_tid = {}
        for x in got:
            per_tid[x["tid"]] = per_tid.get(x["tid"], 0) + 1
        assert sorted(per_tid.values()) == [n] * threads
        assert sum(1 for x in recs if x["type"] == "exit") == threads + 1


def test_exact_count_when_killed_by_a_signal(tmp_path):
    r, recs = run_log(tmp_path, ["-e", "getppid"], [helper("log_loop"), "400", "4", "kill"])
    assert r.returncode == 128 + signal.SIGKILL
    assert len(calls(recs, "getppid")) == 1600
    leader = [x for x in recs if x["type"] == "exit" and not x["thread"]]
    assert leader and leader[0]["signal"] == "SIGKILL"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_jvisor_terminated_flushes_everything(tmp_path, sig):
    log = tmp_path / "log.jsonl"
    p = subprocess.Popen([JVISOR, "run", "-e", "getppid", "-o", str(log), "--",
                          helper("log_loop"), "term"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        time.sleep(0.3)
        p.send_signal(sig)  # jvisor passes it on to the program, then flushes
        out, _ = p.communicate(timeout=30)
    finally:
        p.kill()
    recs = records(log)
    if sig == signal.SIGTERM:  # the program counts until SIGTERM
        assert p.returncode == 0
        count = int(out.split()[-1])
        assert count > 0 and len(calls(recs, "getppid")) == count
    else:  # SIGINT kills it
        assert p.returncode == 128 + signal.SIGINT
        assert len(calls(recs, "getppid")) > 0
        assert recs[-1]["type"] == "exit" and recs[-1]["signal"] == "SIGINT"


def test_full_disk_is_a_clear_error(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    r = jvisor_run(["-e", "getppid", "-o", "/dev/full", "--", helper("log_loop"), "10", "0"])
    assert r.returncode == 0
    assert "cannot write the log /dev/full: No space left on device (ENOSPC)" in r.stderr
    assert re.search(r"lost \d+ records", r.stderr)


# ---- the log socket ----

class Listener:
    """A log-socket listener on a unix socket (or TCP 127.0.0.1, any port) that
    keeps each connection's lines; it can stop reading for a while, or hang up
    after a number of getppid records."""

    def __init__(self, tmp_path, tcp=False, pause=0.0, hang_up_after=None):
        if tcp:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", 0))
            self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        else:
            path = str(tmp_path / "log.sock")
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            self.addr = "unix:" + path
        self.sock.listen(4)
        self.sock.settimeout(0.1)
        self.stopping = False
        self.pause, self.hang_up_after = pause, hang_up_after
        self.conns = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            while True:
                try:
                    c, _ = self.sock.accept()
                except socket.timeout:
                    if self.stopping:
                        return
                    continue
                data = bytearray()
                self.conns.append(data)
                if self.pause:
                    time.sleep(self.pause)
                    self.pause = 0
                c.settimeout(60)
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    data += b
                    if (self.hang_up_after is not None
                            and data.count(b'"getppid"') >= self.hang_up_after):
                        self.hang_up_after = None
                        break
                c.close()
        except OSError:
            pass

    def records(self):
        self.close()
        self.thread.join(timeout=60)
        self.sock.close()
        out = []
        for data in self.conns:
            text = data.decode()
            assert text == "" or text.endswith("\n"), "a partial line"
            out.append([json.loads(l) for l in text.splitlines()])
        return out

    def close(self):
        """Stop accepting once the current connection is over."""
        self.stopping = True


def test_log_socket_nobody_listening_stops_before_the_program_runs(tmp_path):
    marker = tmp_path / "ran"
    r = jvisor_run(["--log-socket", "unix:" + str(tmp_path / "none.sock"), "--",
                    "/bin/touch", str(marker)])
    assert r.returncode == 2 and "cannot connect the log socket" in r.stderr
    assert not marker.exists()
    r = jvisor_run(["--log-socket", "nohostport", "--", "/bin/true"])
    assert r.returncode == 2 and "HOST:PORT or unix:PATH" in r.stderr


@pytest.mark.parametrize("tcp", [False, True])
def test_log_socket_streams_the_same_records(tmp_path, tcp):
    lst = Listener(tmp_path, tcp=tcp)
    r, recs = run_log(tmp_path, ["-e", "getppid", "--log-socket", lst.addr],
                      [helper("log_loop"), "200", "2"])
    assert r.returncode == 0, r.stderr
    lst.close()
    (streamed,) = lst.records()
    strip = lambda rs: [(x["type"], x["tid"], x.get("name")) for x in rs]
    assert strip(streamed) == strip(recs)
    assert len(calls(streamed, "getppid")) == 400


def test_log_socket_slow_listener_block_loses_nothing(tmp_path):
    lst = Listener(tmp_path, pause=1.5)
    t0 = time.monotonic()
    r = jvisor_run(["-e", "getppid", "--log-socket", lst.addr, "--log-socket-buffer", "65536",
                    "--", helper("log_loop"), "4000", "0"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 >= 1.4  # the program waited for the listener
    lst.close()
    (streamed,) = lst.records()
    assert len(calls(streamed, "getppid")) == 4000
    assert not [x for x in streamed if x["type"] == "dropped"]
    assert "dropped" not in r.stderr


def test_log_socket_slow_listener_drop_is_counted(tmp_path):
    lst = Listener(tmp_path, pause=1.5)
    r = jvisor_run(["-e", "getppid", "--log-socket", lst.addr, "--log-socket-buffer", "65536",
                    "--log-socket-full", "drop", "--", helper("log_loop"), "4000", "0"],
                   timeout=60)
    assert r.returncode == 0, r.stderr
    lst.close()
    (streamed,) = lst.records()
    got = len(calls(streamed, "getppid"))
    drops = [x for x in streamed if x["type"] == "dropped"]
    dropped = sum(x["count"] for x in drops)
    assert got < 4000 and dropped > 0
    # Every record is either delivered or counted (process events included).
    m = re.search(r"(\d+) records? dropped", r.stderr)
    assert m and int(m.group(1)) == dropped
    assert got + sum(1 for x in streamed if x["type"] not in ("syscall", "dropped")) + dropped \
        == 4000 + 3  # spawn, exec, exit


def test_log_socket_listener_gone_reconnects(tmp_path):
    lst = Listener(tmp_path, hang_up_after=300)
    r = jvisor_run(["-e", "getppid", "--log-socket", lst.addr, "--",
                    helper("log_loop"), "pause", "300", "1000"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert "reconnected" in r.stderr
    lst.close()
    conns = lst.records()
    assert len(conns) == 2
    assert [len(calls(c, "getppid")) for c in conns] == [300, 300]


def test_log_socket_block_ends_on_sigterm(tmp_path):
    # A listener that accepts and never reads: with the block policy the program
    # waits; SIGTERM to jvisor ends that wait within seconds, and says what was lost.
    lst = Listener(tmp_path, pause=20)
    p = subprocess.Popen([JVISOR, "run", "-e", "getppid", "--log-socket", lst.addr,
                          "--log-socket-buffer", "65536", "--", helper("log_loop"), "100000", "0"],
                         stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        assert p.poll() is None  # blocked on the listener
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        assert time.monotonic() - t0 < 8
    finally:
        p.kill()
    assert p.returncode == 128 + signal.SIGTERM
    assert re.search(r"\d+ records? dropped \(jvisor was told to end", err)
