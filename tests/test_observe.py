"""Observe-mode hooks (docs/hooks.md, "Observe mode"): JavaScript that gets each
completed call of a syscall from the event stream and never changes it. Each test
checks which path fed the observers through the event's `mode`."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from conftest import JVISOR, ROOT, helper, jvisor_run
from test_bpf import bpf_usable
from test_control import ctl, sandboxes, start  # noqa: F401 (sandboxes: a fixture)


_bpf = []


def skip_without_bpf(opts):
    if "bpf" in opts:
        if not _bpf:
            _bpf.append(bpf_usable())
        ok, why = _bpf[0]
        if not ok:
            pytest.skip(f"BPF unusable here: {why.strip()}")


def run(tmp_path, js, argv, opts=(), timeout=120, env=None):
    skip_without_bpf(opts)
    full = dict(os.environ, **(env or {}))
    return jvisor_run([*opts, "--", *argv], hooks=textwrap.dedent(js), tmp_path=tmp_path,
                      timeout=timeout, env=full)


# The two feeds: the BPF event stream, and the stops (ptrace, notifications) that
# --log-backend ptrace (or an unprivileged jvisor) leaves to the observers.
BPF = ["--log-backend", "bpf"]
PTRACE = ["--log-backend", "ptrace"]


def tagged(out, tag):
    """The rest of each line "TAG rest" printed by the hooks."""
    return re.findall(rf"^{tag} (.*)$", out, re.M)


# An observer that checks per-thread order: thread THREAD's calls carry
# a0 = THREAD << 32 | I with I = 0, 1, 2, ... (tests/helpers/obs_threads.c).
ORDER_JS = """
    const next = {}, tids = {};
    let total = 0, bad = 0, modes = {};
    accessors.%s("getppid", function (a0, a1) {
        if (a1 !== 0xb5) return;
        const t = Number(BigInt(a0) >> 32n), i = Number(BigInt(a0) & 0xffffffffn);
        const key = this.tid + ":" + t;
        if ((next[key] || 0) !== i) bad++;
        next[key] = i + 1;
        tids[this.tid] = true;
        modes[this.mode] = true;
        total++;
    }, {mode: "observe"});
    accessors.AddHookBefore("exit_group", function () {
        accessors.print("OBS total=" + total + " bad=" + bad + " threads=" +
                        Object.keys(tids).length + " modes=" + Object.keys(modes).join(","));
    }, {mode: "observe"});
"""


@pytest.mark.parametrize("api,opts,mode", [("AddHookAfter", PTRACE, "observe-ptrace"),
                                           ("AddHookBefore", PTRACE, "observe-notify"),
                                           ("AddHookAfter", BPF, "observe-bpf"),
                                           ("AddHookBefore", BPF, "observe-bpf")])
def test_every_call_in_per_thread_order(tmp_path, api, opts, mode):
    threads, k = 16, 500
    p = run(tmp_path, ORDER_JS % api, [helper("obs_threads"), str(threads), str(k)],
            opts=opts)
    assert p.returncode == 0, p.stderr
    assert f"calls {threads * k} " in p.stdout
    assert tagged(p.stderr, "OBS") == [f"total={threads * k} bad=0 threads={threads} "
                                       f"modes={mode}"], p.stderr


def test_event_fields_and_persistence(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookAfter("openat", function (a0, a1, a2, a3, a4, a5, ev) {
            if (!String(this.args[1]).endsWith("/nonexistent-obs")) return;
            persistence.local.n = (persistence.local.n || 0) + 1;
            persistence.glb.n = (persistence.glb.n || 0) + 1;
            accessors.print("A " + JSON.stringify({
                same: ev === this, sysno: this.sysno, name: this.name, phase: this.phase,
                abi: this.abi, mode: this.mode, ret: this.ret, errno: this.errno,
                pid: this.pid === this.tid, ts: typeof this.ts, dur: typeof this.dur_us,
                args: this.args, raw: typeof a1, local: persistence.local.n,
                glb: persistence.glb.n}));
        }, {mode: "observe"});
        accessors.AddHookBefore("openat", function () {
            if (!String(this.args[1]).endsWith("/nonexistent-obs")) return;
            accessors.print("B " + this.phase + " " + this.ret + " " + this.errno);
        }, {mode: "observe"});
        """, ["/bin/sh", "-c", "exec cat /nonexistent-obs 2>/dev/null"])
    assert p.returncode == 1
    a = [json.loads(x) for x in tagged(p.stderr, "A")]
    assert a == [{"same": True, "sysno": 257, "name": "openat", "phase": "after",
                  "abi": "x86_64", "mode": "observe-ptrace", "ret": -1, "errno": 2,
                  "pid": True, "ts": "number", "dur": "number",
                  "args": ["AT_FDCWD", "/nonexistent-obs", "O_RDONLY", "0000"],
                  "raw": "number", "local": 1, "glb": 1}], p.stderr
    assert tagged(p.stderr, "B") == ["before undefined undefined"]


SET = ("openat,read,write,pwrite64,readv,writev,lseek,newfstatat,pipe2,socket,bind,connect,"
       "getsockname,sendto,recvfrom,socketpair,mmap,mprotect,nanosleep,getcwd,chdir,access,"
       "unlinkat,memfd_create,ioctl,kill,rt_sigprocmask,setresuid,setresgid,sysfs")


@pytest.mark.parametrize("opts,mode", [(PTRACE, "observe-ptrace"), (BPF, "observe-bpf")])
def test_decoded_args_equal_the_log(tmp_path, opts, mode):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    log = tmp_path / "log.jsonl"
    js = "".join(
        f'accessors.AddHookAfter("{n}", function () {{ accessors.logJson({{obs: this.name, '
        f'tid: this.tid, args: this.args, ret: this.ret, errno: this.errno, '
        f'mode: this.mode}}); }}, {{mode: "observe"}});\n' for n in SET.split(","))
    p = run(tmp_path, js, [helper("log_args"), str(scratch)],
            opts=[*opts, "-e", SET, "-o", str(log)])
    assert p.returncode == 0, p.stderr
    recs = [json.loads(l) for l in log.read_text().splitlines()]
    logged = [{"obs": r["name"], "tid": r["tid"], "args": r["args"], "ret": r["ret"],
               "errno": r["errno"]} for r in recs if r["type"] == "syscall"]
    observed = [r["value"] for r in recs if r["type"] == "log"]
    assert {o.pop("mode") for o in observed} == {mode}
    assert len(logged) > 40
    assert observed == logged


def test_accessors_that_need_a_stopped_thread_throw(tmp_path):
    stopped = ["readBytes", "readString", "writeBytes", "writeString", "pinString", "pinBytes",
               "anonMmap", "munmap", "stopThreads", "resumeThreads", "setUmask"]
    live = ["getPidInfo", "getFdsInfo", "getMmaps", "getThreadInfo", "getArgv", "getCwd",
            "getExeInfo"]
    hooks = tmp_path / "h.js"
    hooks.write_text(textwrap.dedent("""
        accessors.AddHookAfter("getppid", function (a0, a1) {
            if (a1 !== 0xb5) return;
            for (const f of %s) {
                try {
                    accessors[f](a0, 8, 0o22);
                    accessors.print("T " + f + " did not throw");
                } catch (e) {
                    const ok = /not available in an observe-mode hook/.test(e.message) &&
                               e.errno === 95;
                    accessors.print("T " + f + " " + (ok ? "throws" : e.message));
                }
            }
            // Read now, while the program waits (the call is over).
            for (const f of %s) {
                try {
                    const v = accessors[f](this.pid);  // the thread is gone: its process
                    accessors.print("T " + f + " " + (v ? "ok" : "empty"));
                } catch (e) {
                    accessors.print("T " + f + " " + e.message);
                }
            }
        }, {mode: "observe"});
        """ % (json.dumps(stopped), json.dumps(live))))
    flag = tmp_path / "go"
    p = subprocess.Popen([JVISOR, "run", "-s", str(hooks), "--", helper("obs_threads"), "1",
                          "1", str(flag)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    got = []
    for line in p.stderr:
        if line.startswith("T "):
            got.append(line[2:].strip())
        if line.startswith("T getExeInfo"):
            flag.write_text("")
    assert p.wait(30) == 0
    assert got == [f"{f} throws" for f in stopped] + [f"{f} ok" for f in live]


def test_returned_change_is_reported_once_and_ignored(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookAfter("getppid", function () { return {ret: 4242}; },
                               {mode: "observe"});
        accessors.AddHookBefore("getppid", function () { return {0: 7}; },
                                {mode: "observe"});
        """, [helper("fast_calls"), "g:1", "g:2", "g:3"])
    assert p.returncode == 0, p.stderr
    rets = [int(x) for x in re.findall(r"^getppid ret=(-?\d+)$", p.stdout, re.M)]
    assert len(rets) == 3 and 4242 not in rets and rets[0] == rets[1] == rets[2] > 1
    errs = [l for l in p.stderr.splitlines() if "hook error" in l]
    assert len(errs) == 2, p.stderr
    assert any("cannot change the call (it returned the result" in l for l in errs)
    assert any("cannot change the call (it returned argument 0" in l for l in errs)
    assert "6 hook calls failed" in p.stderr


@pytest.mark.parametrize("opts,mode", [(PTRACE, "observe-ptrace"), (BPF, "observe-bpf")])
def test_argument_filter(tmp_path, opts, mode):
    p = run(tmp_path, """
        accessors.AddHookAfter("getppid", function (a0) {
            accessors.print("F " + a0 + " " + this.mode);
        }, {mode: "observe", args: {0: {value: 0x100, op: ">="}}});
        """, [helper("fast_calls"), "g:1", "g:0x100", "g:5", "g:0x200"], opts=opts)
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "F") == [f"256 {mode}", f"512 {mode}"]


def test_config_file_and_control_socket(tmp_path, sandboxes):  # noqa: F811
    cfg = tmp_path / "c.json"
    src = 'function h(a0) { accessors.print("C " + this.mode + " " + a0); }'
    cfg.write_text(json.dumps({"callbacks": [
        {"sysno": 110, "type": "after", "source": src, "entry-point": "h",
         "mode": "observe"}]}))
    p = jvisor_run(["-c", str(cfg), "--", helper("fast_calls"), "g:9"], timeout=60)
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "C") == ["observe-ptrace 9"], p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"callbacks": [
        {"sysno": 110, "type": "after", "source": src, "entry-point": "h", "mode": "watch"}]}))
    p = jvisor_run(["-c", str(bad), "--", "/bin/true"], timeout=60)
    assert p.returncode != 0 and '"observe"' in p.stderr and "mode" in p.stderr

    # Loaded while the program runs (change-state), then listed with its mode.
    flag = tmp_path / "go"
    s = start(sandboxes, tmp_path, ["--", helper("fast_calls"), f"wait:{flag}", "g:77"])
    assert s.wait_stdout("waiting")
    ctl(s, "eval", 'accessors.AddHookAfter("getppid", function (a0) {'
        ' accessors.print("R " + this.mode + " " + a0); }, {mode: "observe"})')
    hooks = json.loads(ctl(s, "--json", "hooks").stdout)["payload"]
    assert [h["mode"] for h in hooks] == ["observe"]
    assert "after/observe" in ctl(s, "hooks").stdout
    flag.write_text("")
    assert s.wait(20) == 0
    assert any(l.startswith("R observe-ptrace 77") for l in s.err_lines), s.err_lines


SLOW_JS = """
    let total = 0;
    accessors.AddHookAfter("getppid", function (a0, a1) {
        if (a1 !== 0xb5) return;
        const end = Date.now() + 1;
        while (Date.now() < end) {}
        total++;
    }, {mode: "observe"});
    accessors.AddHookBefore("exit_group", function () {
        accessors.print("OBS total=" + total);
    }, {mode: "observe"});
"""


@pytest.mark.parametrize("opts", [PTRACE, BPF], ids=["ptrace", "bpf"])
def test_slow_observer_holds_the_program_and_loses_nothing(tmp_path, sandboxes,  # noqa: F811
                                                           opts):
    skip_without_bpf(opts)
    hooks = tmp_path / "slow.js"
    hooks.write_text(textwrap.dedent(SLOW_JS))
    flag = tmp_path / "go"
    env = dict(os.environ, JVISOR_OBSERVE_QUEUE="2")
    s = start(sandboxes, tmp_path, [*opts, "-s", str(hooks), "--", helper("obs_threads"), "8",
                                    "40", str(flag)], env=env)
    assert s.wait_stdout("waiting", timeout=60)
    st = json.loads(ctl(s, "--json", "stats").stdout)["payload"]["observed"]
    flag.write_text("")
    assert s.wait(30) == 0
    assert "calls 320 " in s.stdout()
    assert any(l.startswith("OBS total=320") for l in s.err_lines), s.err_lines
    assert st["dropped"] == 0 and st["max_queued"] <= 2 and st["delivered"] >= 320, st
    assert st["held"] > 0, st  # eight threads outran a 1 ms observer


@pytest.mark.parametrize("opts,env", [(PTRACE, {"JVISOR_OBSERVE_QUEUE": "1,drop"}),
                                      (BPF, {"JVISOR_OBSERVE_QUEUE": "1,drop"}),
                                      (BPF + ["--log-full", "drop"], {})],
                         ids=["ptrace", "bpf", "bpf-log-full-drop"])
def test_drop_policy_counts(tmp_path, opts, env):
    if not env:  # --log-full drop alone: the default queue of 4096 must overflow
        env = {}
        argv = [helper("obs_threads"), "8", "1000"]
    else:
        argv = [helper("obs_threads"), "8", "40"]
    p = run(tmp_path, SLOW_JS, argv, opts=opts, env=env)
    n = int(argv[1]) * int(argv[2])
    assert p.returncode == 0, p.stderr
    m = re.search(r"observe-mode hooks: (\d+) calls? dropped .*; (\d+) delivered", p.stderr)
    assert m, p.stderr  # eight threads outran a 1 ms observer and the queue
    dropped, delivered = int(m.group(1)), int(m.group(2))
    # Every observed call delivered or counted: n getppid, the helper's own getppid
    # (tests/helpers/obs_threads.c) and exit_group.
    assert dropped > 0 and dropped + delivered == n + 2, p.stderr
    obs = tagged(p.stderr, "OBS")  # exit_group's observer ran, unless it was dropped
    assert len(obs) <= 1 and (not obs or int(obs[0].split("=")[1]) <= delivered - 1)


def test_bad_queue_setting(tmp_path):
    p = run(tmp_path, "", ["/bin/true"], env={"JVISOR_OBSERVE_QUEUE": "lots"})
    assert p.returncode != 0 and "JVISOR_OBSERVE_QUEUE" in p.stderr


def test_unprivileged_fallback(tmp_path):
    """jvisor run by an unprivileged user (setpriv to nobody): observers still run."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to switch to an unprivileged user")
    if not os.access(JVISOR, os.X_OK) or any(
            not (os.stat(d).st_mode & 0o001) for d in Path(JVISOR).resolve().parents):
        pytest.skip("the build directory is not reachable by other users")
    shared = Path(tempfile.mkdtemp(prefix="jvisor-observe-"))  # /tmp/pytest-of-root is 0700
    shared.chmod(0o755)
    hooks = shared / "h.js"
    hooks.write_text(textwrap.dedent(ORDER_JS % "AddHookAfter"))
    hooks.chmod(0o644)
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
           JVISOR, "run", "-s", str(hooks), "--", helper("obs_threads"), "4", "100"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(shared)
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "OBS") == ["total=400 bad=0 threads=4 modes=observe-ptrace"]


def test_time_limit_applies(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookAfter("getppid", function (a0) {
            if (a0 === 2) for (;;) {}
            accessors.print("L " + a0);
        }, {mode: "observe"});
        """, [helper("fast_calls"), "g:1", "g:2", "g:3"], opts=["--hook-timeout", "100"])
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "L") == ["1", "3"]
    assert "ran past its time limit of 100 ms" in p.stderr


def test_calls_the_sandbox_policy_denies_are_observed(tmp_path):
    """A call the policy refuses reaches the observers as a failed call."""
    p = run(tmp_path, """
        accessors.AddHookAfter("unshare", function () {
            accessors.print("U " + this.mode + " " + this.ret + " " + this.errno);
        }, {mode: "observe"});
        """, ["/bin/sh", "-c", "exec /usr/bin/unshare -U /bin/true 2>/dev/null"])
    assert p.returncode != 0
    assert tagged(p.stderr, "U") == ["observe-ptrace -1 1"], p.stderr


def test_observed_but_not_logged(tmp_path):
    """A syscall outside the -e set reaches its observers and stays out of the log."""
    log = tmp_path / "log.jsonl"
    p = run(tmp_path, """
        accessors.AddHookAfter("openat", function () {
            if (this.args[1] === "/etc/hostname") accessors.print("O " + this.ret);
        }, {mode: "observe"});
        """, ["/bin/cat", "/etc/hostname"], opts=["-e", "read", "-o", str(log)])
    assert p.returncode == 0, p.stderr
    recs = [json.loads(l) for l in log.read_text().splitlines()]
    names = {r["name"] for r in recs if r["type"] == "syscall"}
    assert names == {"read"}
    assert [r["text"] for r in recs if r["type"] == "print"] == ["O 3"]


def test_check_lists_the_mode(tmp_path):
    f = tmp_path / "h.js"
    f.write_text('accessors.AddHookAfter("openat", function () {}, {mode: "observe"});\n')
    p = subprocess.run([JVISOR, "check", str(f)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "after-hook on openat (257), observe mode registered at" in p.stdout


@pytest.mark.parametrize("opts,stops", [(BPF, 0), (PTRACE, 3)], ids=["bpf", "ptrace"])
def test_observed_call_does_not_stop_under_bpf(tmp_path, sandboxes, opts, stops):  # noqa: F811
    """Under BPF an observed getppid never stops the program: the control socket's count
    of seccomp stops and notifications stays 0 for it, while the observer still gets
    every call. With the stops feeding the observers (ptrace) each call stops."""
    skip_without_bpf(opts)
    hooks = tmp_path / "h.js"
    hooks.write_text('accessors.AddHookAfter("getppid", function (a0) {'
                     ' accessors.print("G " + this.mode + " " + a0); }, {mode: "observe"});\n')
    flag = tmp_path / "go"
    s = start(sandboxes, tmp_path, [*opts, "-s", str(hooks), "--", helper("fast_calls"), "g:1",
                                    "g:2", "g:3", f"wait:{flag}"])
    assert s.wait_stdout("waiting", timeout=60)
    deadline = time.time() + 20
    while True:  # the observers run soon after the calls, not at them
        st = json.loads(ctl(s, "--json", "stats").stdout)["payload"]
        if st["observed"]["delivered"] >= 3 or time.time() > deadline:
            break
        time.sleep(0.05)
    flag.write_text("")
    assert s.proc.wait(30) == 0
    assert st["observed"]["delivered"] == 3, st
    assert st["syscalls"].get("getppid", 0) == stops, st
    assert st["log_backend"] == ("bpf" if opts == BPF else "ptrace"), st
    mode = "observe-bpf" if opts == BPF else "observe-ptrace"
    assert [l.strip() for l in s.err_lines if l.startswith("G ")] == [f"G {mode} {i}" for i in (1, 2, 3)]


@pytest.mark.parametrize("hook,api,wmode", [("ptrace", "AddHookAfter", "observe-ptrace"),
                                            ("notify", "AddHookBefore", "observe-notify")])
def test_order_across_the_two_feeds(tmp_path, hook, api, wmode):
    """A thread's calls fed by BPF (getppid) and by its stops (write: a hook makes it stop,
    at a ptrace stop or a notification) reach the observers in the thread's order."""
    p = run(tmp_path, """
        const seen = [];
        accessors.AddHookBefore("write", function () {}, {mode: "%s"});
        accessors.AddHookAfter("getppid", function () { seen.push("g"); }, {mode: "observe"});
        accessors.%s("write", function (a0) {
            if (a0 === 1) seen.push(this.mode === "%s" ? "w" : "?");
        }, {mode: "observe"});
        accessors.AddHookBefore("exit_group", function () {
            accessors.print("SEQ " + seen.join(""));
        }, {mode: "observe"});
        """ % (hook, api, wmode), [helper("fast_calls"), *["g:1", "w:1:x"] * 50], opts=BPF)
    assert p.returncode == 0, p.stderr
    # each op prints its result with one write to stdout: g -> g w, w -> w w
    assert tagged(p.stderr, "SEQ") == ["gwww" * 50], p.stderr


def test_other_abi_calls_are_observed_under_bpf(tmp_path):
    """BPF sees native calls only: an int 0x80 getppid of an observed syscall still
    stops (it is neither denied by the foreign-ABI policy nor missed)."""
    p = run(tmp_path, """
        accessors.AddHookAfter("getppid", function (a0) {
            accessors.print("G " + this.mode + " " + this.abi + " " + a0);
        }, {mode: "observe"});
        """, [helper("fast_calls"), "g:1", "i:2", "g:3"], opts=BPF)
    assert p.returncode == 0, p.stderr
    assert "getppid32 ret=-" not in p.stdout, p.stdout
    assert tagged(p.stderr, "G") == ["observe-bpf x86_64 1", "observe-ptrace i386 2",
                                     "observe-bpf x86_64 3"], p.stderr


def test_observer_added_at_run_time_under_bpf(tmp_path, sandboxes):  # noqa: F811
    """An observer loaded through the control socket while the program runs is fed by
    BPF at once: the kernel's table is updated, nothing stops."""
    skip_without_bpf(BPF)
    flag = tmp_path / "go"
    s = start(sandboxes, tmp_path, [*BPF, "--", helper("fast_calls"), "g:1", f"wait:{flag}",
                                    "g:77", "g:78"])
    assert s.wait_stdout("waiting", timeout=60)
    ctl(s, "eval", 'accessors.AddHookAfter("getppid", function (a0) {'
        ' accessors.print("R " + this.mode + " " + a0); }, {mode: "observe"})')
    flag.write_text("")
    assert s.proc.wait(20) == 0
    assert [l.strip() for l in s.err_lines if l.startswith("R ")] == [
        "R observe-bpf 77", "R observe-bpf 78"], s.err_lines


def stats_when(s, done, timeout=20):
    """`ctl stats` once done(stats) holds (the observers run soon after the calls)."""
    deadline = time.time() + timeout
    while True:
        st = json.loads(ctl(s, "--json", "stats").stdout)["payload"]
        if done(st) or time.time() > deadline:
            return st
        time.sleep(0.05)


def test_argument_filter_in_the_kernel_under_bpf(tmp_path, sandboxes):  # noqa: F811
    """Under BPF a call that no observer's filter takes makes no ring-buffer record
    (`bpf_records` counts the records read, per syscall); the observers still see
    exactly the calls their own filters take (a disjunction: one takes a0 >= 0x100,
    the other a1 & 0xff == 3). An observer without a filter, added at run time,
    brings every call back into the ring."""
    skip_without_bpf(BPF)
    hooks = tmp_path / "h.js"
    hooks.write_text(textwrap.dedent("""
        accessors.AddHookAfter("getppid", function (a0, a1) {
            accessors.print("A " + a0 + " " + this.mode);
        }, {mode: "observe", args: {0: {value: 0x100, op: ">="}}});
        accessors.AddHookBefore("getppid", function (a0, a1) {
            accessors.print("B " + a0 + " " + a1);
        }, {mode: "observe", args: {1: {value: 3, mask: 0xff}}});
        """))
    flag = tmp_path / "go"
    calls = ["g:1,0x103", "g:0x100", "g:5", "g:2,4", "g:0xff,0x203", "g:0x200"]
    s = start(sandboxes, tmp_path, [*BPF, "-s", str(hooks), "--", helper("fast_calls"), *calls,
                                    f"wait:{flag}", "g:7", "g:0x300"])
    assert s.wait_stdout("waiting", timeout=60)
    # 4 of the 6 calls match a filter, 5 observer runs; the last (0x200) comes after
    # the others in the ring, so its delivery means the others were read too.
    st = stats_when(s, lambda st: st["observed"]["delivered"] >= 4)
    assert st["log_backend"] == "bpf", st
    assert st["observed"]["delivered"] == 4, st
    assert st["bpf_records"].get("getppid", 0) == 4, st
    assert st["bpf_events_lost"] == 0, st
    assert st["syscalls"].get("getppid", 0) == 0, st  # never stopped
    ctl(s, "eval", 'accessors.AddHookAfter("getppid", function (a0) {'
        ' accessors.print("C " + a0); }, {mode: "observe"})')
    flag.write_text("")
    assert s.proc.wait(30) == 0
    lines = [l.strip() for l in s.err_lines]
    assert [l for l in lines if l.startswith("A ")] == [
        "A 256 observe-bpf", "A 512 observe-bpf", "A 768 observe-bpf"], lines
    assert [l for l in lines if l.startswith("B ")] == ["B 1 259", "B 255 515"], lines
    assert [l for l in lines if l.startswith("C ")] == ["C 7", "C 768"], lines


@pytest.mark.parametrize("log,records", [([], 2), (["-e", "getppid", "-o", "LOG"], 5),
                                         (["--summary"], 5)],
                         ids=["observers-only", "logged", "summary"])
def test_argument_filter_leaves_the_log_whole_under_bpf(tmp_path, sandboxes, log,  # noqa: F811
                                                        records):
    """Calls are passed over in the kernel only when nothing but filtered observers
    wants them: with getppid in the log's set (or counted by --summary) every call
    is still recorded, logged and counted, and the observer sees its own calls."""
    skip_without_bpf(BPF)
    hooks = tmp_path / "h.js"
    hooks.write_text('accessors.AddHookAfter("getppid", function (a0) {'
                     ' accessors.print("F " + a0); },'
                     ' {mode: "observe", args: {0: {value: 0x100, op: ">="}}});\n')
    flag = tmp_path / "go"
    out = tmp_path / "log.jsonl"
    log = [str(out) if a == "LOG" else a for a in log]
    s = start(sandboxes, tmp_path, [*BPF, *log, "-s", str(hooks), "--", helper("fast_calls"),
                                    "g:1", "g:0x100", "g:5", "g:2", "g:0x200", f"wait:{flag}"])
    assert s.wait_stdout("waiting", timeout=60)
    st = stats_when(s, lambda st: st["observed"]["delivered"] >= 2)
    flag.write_text("")
    assert s.proc.wait(30) == 0
    assert st["observed"]["delivered"] == 2, st
    assert st["bpf_records"].get("getppid", 0) == records, st
    if "-o" in log:  # print goes to the log when there is one
        recs = [json.loads(l) for l in out.read_text().splitlines()]
        assert sum(r.get("name") == "getppid" for r in recs) == 5, recs
        assert [r["text"] for r in recs if r["type"] == "print"] == ["F 256", "F 512"], recs
    elif "--summary" in log:  # and nowhere with --summary alone
        rows = [l.split() for l in s.err_lines if l.split()[-1:] == ["getppid"]]
        assert len(rows) == 1 and rows[0][3] == "5", s.err_lines
    else:
        assert [l.strip() for l in s.err_lines if l.startswith("F ")] == ["F 256", "F 512"]
