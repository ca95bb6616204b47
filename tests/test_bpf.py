"""The BPF backend of the log (docs/log.md, "Backends"): the same records as the
ptrace backend, exact counts, process events, bad pointers, unfinished calls."""
import json
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from conftest import JVISOR, helper, jvisor_run


def bpf_usable():
    r = subprocess.run([JVISOR, "run", "--log-backend", "bpf", "-e", "none", "--", "true"],
                       capture_output=True, text=True, timeout=60)
    return r.returncode == 0, r.stderr


@pytest.fixture(scope="module", autouse=True)
def need_bpf():
    ok, why = bpf_usable()
    if not ok:
        pytest.skip(f"BPF unusable here: {why.strip()}")


def run(tmp_path, backend, prog, args=(), name="log.jsonl", timeout=120, norand=True):
    log = tmp_path / name
    cmd = [JVISOR, "run", "--log-backend", backend, "-o", str(log), *args, "--", *prog]
    if norand and shutil.which("setarch"):
        cmd = ["setarch", "-R", *cmd]  # the same addresses in both runs
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    recs = [json.loads(l) for l in log.read_text().splitlines()]
    return r, recs


# What differs between two runs of the same program whatever the backend.
VOLATILE = {"getrandom", "clock_gettime", "clock_nanosleep", "nanosleep"}


# A pid as a number of its own: not part of a longer number, a decimal or a hex
# address ("0x7fffffffe750" holds no pid 750).
PID_RE = r"(?<![\w.])%d(?![\w.])"


def normalize(recs):
    """Records without timestamps and durations, pids renumbered in order; the
    records of each thread in order, threads one after the other (the order
    between threads is the scheduler's)."""
    ids = {}
    out = []
    chld = []
    # jvisor's pid (the program's parent) differs between runs too.
    jv = {x["ret"] for x in recs if x.get("name") == "getppid" and x["pid"] == recs[0]["pid"]
          and isinstance(x.get("ret"), int) and x["ret"] > 0}
    for r in recs:
        if r.get("type") == "syscall" and r["name"] == "futex":
            continue  # whether a thread waits is the scheduler's choice
        r = dict(r)
        for k in ("ts", "dur_us", "backend"):
            r.pop(k, None)
        for k in ("pid", "tid", "child", "old_tid"):
            if k in r:
                r[k] = "P%d" % ids.setdefault(r[k], len(ids))
        if r.get("type") == "syscall" and r["name"] in VOLATILE:
            r["args"] = "..."
        if r.get("type") == "syscall" and r["name"] == "getppid" and r["tid"] == "P0":
            r["ret"] = "jvisor's pid"
        if r.get("name") == "write" and any(
                re.search(r"(?<!\d)%d(?!\d)" % pid, json.dumps(r["args"])) for pid in
                list(ids) + list(jv)):
            r["ret"] = r["args"][2] = "its length"  # a pid's digits: the run's
        # jvisor's pid is replaced everywhere but in a return value: a call may
        # return a number that happens to equal it (a size, a count).
        ret = r.pop("ret", None)
        line = json.dumps(r, sort_keys=True)
        line = re.sub(r"(socket|pipe):\[\d+\]", r"\1:[N]", line)
        if "gettimeofday" in line or "clock_gettime" in line:  # the time now
            continue
        for pid in jv:
            line = re.sub(PID_RE % pid, "JV", line)
        line = line[:-1] + ', "ret": %s}' % json.dumps(ret)
        for pid, n in ids.items():
            line = re.sub(PID_RE % pid, "P%d" % n, line)
        if r.get("type") == "signal" and r.get("sig") == "SIGCHLD":
            # Where a child's exit interrupts its parent depends on which runs first:
            # the same SIGCHLD records, in any position.
            chld.append(line)
            continue
        out.append((r.get("tid", ""), line))
    order = {}
    for tid, _ in out:
        order.setdefault(tid, len(order))
    return [line for _, line in sorted(out, key=lambda x: order[x[0]])] + sorted(chld)


def both(tmp_path, prog_of, args=()):
    """Run prog under both backends (same scratch path, recreated)."""
    res = {}
    for b in ("ptrace", "bpf"):
        scratch = tmp_path / "scratch"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        r, recs = run(tmp_path, b, prog_of(scratch), args, name=f"{b}.jsonl")
        assert r.returncode == 0, r.stderr
        res[b] = (r, recs)
    return res


def assert_same(a, b):
    na, nb = normalize(a), normalize(b)
    if na != nb:
        import difflib
        diff = "\n".join(list(difflib.unified_diff(na, nb, "ptrace", "bpf", lineterm="",
                                                   n=1))[:60])
        pytest.fail("the backends' records differ:\n" + diff)


def test_same_records_every_role(tmp_path):
    res = both(tmp_path, lambda s: [helper("log_args"), str(s)])
    (rp, p), (rb, b) = res["ptrace"], res["bpf"]
    assert p[0]["backend"] == "ptrace" and b[0]["backend"] == "bpf"
    assert sum(1 for x in b if x["type"] == "syscall") > 100
    assert_same(p, b)


def test_same_records_process_events(tmp_path):
    res = both(tmp_path, lambda s: [helper("log_proc")])

    def steady(recs):
        # The child killed by SIGTERM may die before or after its first calls
        # (a race of the helper's own): its calls are left out.
        killed = {x["pid"] for x in recs if x["type"] == "exit" and "signal" in x}
        return [x for x in recs if not (x["type"] == "syscall" and x["pid"] in killed)]
    assert len([x for x in res["bpf"][1] if x["type"] in ("fork", "clone", "exec")]) >= 3
    assert_same(steady(res["ptrace"][1]), steady(res["bpf"][1]))


def test_same_records_other_abis(tmp_path):
    """i386 calls: logged from the stop in both backends, never denied."""
    res = both(tmp_path, lambda s: [helper("log_int80")])
    assert any(x.get("abi") == "i386" and x["errno"] == 0 for x in res["bpf"][1]
               if x["type"] == "syscall")
    assert_same(res["ptrace"][1], res["bpf"][1])


def test_same_records_shell(tmp_path):
    res = both(tmp_path, lambda s: ["/bin/sh", "-c", f"echo hi > {s}/f; cat {s}/f; ls {s}"])

    def steady(recs):
        # Whether a child's SIGCHLD comes before or after the shell's wait4 is
        # the scheduler's choice: signals and their handlers' returns left out.
        return [x for x in recs if x["type"] != "signal" and x.get("name") != "rt_sigreturn"]
    assert_same(steady(res["ptrace"][1]), steady(res["bpf"][1]))


def test_exact_count_16_threads(tmp_path):
    r, recs = run(tmp_path, "bpf", [helper("proc_threads"), "16", "2000"], ["-e", "getppid"])
    assert r.returncode == 0, r.stderr
    calls = [x for x in recs if x["type"] == "syscall" and x["name"] == "getppid"
             and x["tid"] != x["pid"]]  # the main thread calls it once too
    assert len(calls) == 16 * 2000
    tids = {x["tid"] for x in calls}
    assert len(tids) == 16
    for t in tids:
        assert sum(1 for x in calls if x["tid"] == t) == 2000
    assert "lost" not in r.stderr


def test_only_the_programs_processes(tmp_path):
    """A getppid loop outside jvisor does not show in the log."""
    outside = subprocess.Popen([helper("proc_threads"), "1", "200000"])
    try:
        r, recs = run(tmp_path, "bpf", [helper("proc_threads"), "1", "100"], ["-e", "getppid"])
    finally:
        outside.wait(timeout=60)
    assert r.returncode == 0, r.stderr
    calls = [x for x in recs if x["type"] == "syscall"]
    assert len(calls) == 100 + 1  # and the main thread's
    assert {x["pid"] for x in calls} == {recs[0]["pid"]}


def test_children_tracked_from_their_first_call(tmp_path):
    r, recs = run(tmp_path, "bpf", ["/bin/sh", "-c", "/bin/true; /bin/true"], ["-e", "all"])
    assert r.returncode == 0, r.stderr
    forks = [x["child"] for x in recs if x["type"] in ("fork", "vfork", "clone")]
    assert len(forks) >= 2
    for child in forks:
        mine = [x for x in recs if x["type"] == "syscall" and x["tid"] == child]
        assert mine, f"no record of child {child}"
        assert mine[-1]["name"] == "exit_group"


def test_unfinished_call_of_a_killed_program(tmp_path):
    r, recs = run(tmp_path, "bpf", [helper("log_unfinished")], ["-e", "all"])
    unfinished = [x for x in recs if x.get("unfinished")]
    assert unfinished, [x.get("name") for x in recs][-10:]
    for x in unfinished:
        assert x["ret"] is None and x["errno"] is None


def test_bad_pointers(tmp_path):
    scratch = tmp_path / "s"
    scratch.mkdir()
    r, recs = run(tmp_path, "bpf", [helper("log_args"), str(scratch)])
    bad = [x for x in recs if x["type"] == "syscall" and x["name"] == "openat"
           and x["errno"] == 14]
    assert bad and bad[0]["args"][1] == {"addr": "0x1", "error": "EFAULT"}
    chdir = [x for x in recs if x["type"] == "syscall" and x["name"] == "chdir"]
    assert chdir and chdir[-1]["args"] == ["abc"]


def test_exec_from_a_non_leader_thread(tmp_path):
    res = both(tmp_path, lambda s: [helper("thread_exec")])

    def steady(recs):
        # The thread polls for the leader's sleep (how often: the scheduler's).
        leader = recs[0]["pid"]
        return [x for x in recs if not (x["type"] == "syscall" and x["tid"] != leader
                                         and x["name"] != "execve")]
    assert_same(steady(res["ptrace"][1]), steady(res["bpf"][1]))
    b = res["bpf"][1]
    ex = [x for x in b if x["type"] == "syscall" and x["name"] == "execve" and x["ret"] == 0]
    assert len(ex) == 2
    assert ex[1]["tid"] == ex[1]["pid"]  # the thread took the leader's tid
    assert any(x["type"] == "exec" and "old_tid" in x for x in b)


def test_backend_bpf_is_said_in_spawn_and_unusable_fails(tmp_path):
    r, recs = run(tmp_path, "bpf", ["/bin/true"])
    assert recs[0]["type"] == "spawn" and recs[0]["backend"] == "bpf"
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    base = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", JVISOR, "run"]
    r = subprocess.run(base + ["--log-backend", "bpf", "-o", "-", "--", "/bin/true"],
                       capture_output=True, text=True, timeout=60, cwd="/")
    assert r.returncode == 2 and "bpf" in r.stderr and "CAP_BPF" in r.stderr, r.stderr
    r = subprocess.run(base + ["-o", "-", "--", "/bin/true"],
                       capture_output=True, text=True, timeout=60, cwd="/")
    assert r.returncode == 0, r.stderr
    assert "log backend ptrace" in r.stderr and "CAP_BPF" in r.stderr
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    assert recs[0]["backend"] == "ptrace"
    assert any(x["type"] == "syscall" for x in recs)


def test_hooked_calls_still_stop_and_carry_hooks(tmp_path):
    hooks = tmp_path / "h.js"
    hooks.write_text("accessors.AddHookBefore('getppid', () => ({ret: 7, errno: 0}));\n")
    r, recs = run(tmp_path, "bpf", [helper("proc_threads"), "2", "50"],
                  ["-s", str(hooks), "-e", "getppid,gettid"])
    assert r.returncode == 0, r.stderr
    calls = [x for x in recs if x["type"] == "syscall" and x["name"] == "getppid"]
    assert len(calls) == 100 + 1
    assert all(x["ret"] == 7 and x["hooks"]["skipped"] for x in calls)


def tiny_ring(tmp_path, full, stall=0.0):
    """80,001 getppid records through a 64 KiB ring. With stall, the log is a FIFO
    that nobody reads for that many seconds: jvisor's writer blocks, the ring is not
    drained, and it must fill however fast the reader would otherwise be."""
    env = dict(os.environ, JVISOR_BPF_RING="65536")
    log = tmp_path / f"{full}.jsonl"
    chunks = []
    reader = None
    if stall:
        os.mkfifo(log)

        def read_late():
            with open(log, "rb") as f:
                time.sleep(stall)
                chunks.append(f.read())

        reader = threading.Thread(target=read_late)
        reader.start()
    r = subprocess.run([JVISOR, "run", "--log-backend", "bpf", "--log-full", full, "-e",
                        "getppid", "-o", str(log), "--", helper("proc_threads"), "4", "20000"],
                       capture_output=True, text=True, timeout=300, env=env)
    if reader:
        reader.join(60)
        text = b"".join(chunks).decode()
    else:
        text = log.read_text()
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in text.split("\n") if l]
    return r, recs


def test_tiny_ring_block_holds_the_program_nothing_lost(tmp_path):
    r, recs = tiny_ring(tmp_path, "block", stall=1.5)
    assert sum(1 for x in recs if x["type"] == "syscall") == 4 * 20000 + 1
    assert not any(x["type"] == "lost" for x in recs)
    assert "lost" not in r.stderr
    # The holds are invisible to the program: no signal record, no SIGSTOP.
    assert not any(x["type"] == "signal" for x in recs)


def test_tiny_ring_drop_counts_and_reports(tmp_path):
    r, recs = tiny_ring(tmp_path, "drop", stall=1.5)
    got = sum(1 for x in recs if x["type"] == "syscall")
    lost = [x for x in recs if x["type"] == "lost"]  # one per thread that lost some
    assert lost and all(x["count"] > 0 for x in lost)
    # A thread may lose every record it made: its tid comes from the clone records.
    threads = {x["child"] for x in recs if x["type"] == "clone" and x.get("thread")}
    assert len(threads) == 4
    assert {x["tid"] for x in lost} <= threads | {recs[0]["pid"]}
    total = sum(x["count"] for x in lost)
    assert got + total == 4 * 20000 + 1  # every call delivered or counted
    m = re.search(r"(\d+) records lost", r.stderr)
    assert m and int(m.group(1)) == total


def summary_table(stderr):
    rows = {}
    for line in stderr.splitlines():
        m = re.match(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d*)\s+(\w+)$", line)
        if m and m[3] != "total":
            rows[m[3]] = (int(m[1]), int(m[2] or 0))
    return rows


@pytest.mark.parametrize("backend", ["bpf", "ptrace"])
@pytest.mark.parametrize("with_log", [False, True])
def test_summary_counts(tmp_path, backend, with_log):
    log = tmp_path / "log.jsonl"
    args = ["-o", str(log)] if with_log else []
    r = jvisor_run(["--log-backend", backend, "--summary", *args, "--",
                    helper("proc_threads"), "4", "1000"], timeout=120)
    assert r.returncode == 0, r.stderr
    rows = summary_table(r.stderr)
    assert rows["getppid"] == (4 * 1000 + 1, 0)
    assert rows["clone3"][0] == 4
    assert rows["exit_group"][0] == 1
    assert rows["access"] == (1, 1)  # ld.so's /etc/ld.so.preload: ENOENT
    if with_log:
        recs = [json.loads(l) for l in log.read_text().splitlines()]
        assert recs[-1]["type"] == "summary"
        by = {x["name"]: x for x in recs[-1]["syscalls"]}
        assert by["getppid"]["calls"] == 4001 and by["getppid"]["errors"] == 0
        assert by["access"]["errors"] == 1
        assert recs[-1]["calls"] == sum(x["calls"] for x in recs[-1]["syscalls"])
        assert sum(1 for x in recs if x["type"] == "syscall") == recs[-1]["calls"]


@pytest.mark.parametrize("backend", ["bpf", "ptrace"])
def test_summary_alone_keeps_hook_output(tmp_path, backend):
    # --summary without a log has nowhere to put records: print and logJson go to
    # stderr, as they do without --summary (they once went nowhere).
    hooks = tmp_path / "h.js"
    hooks.write_text('accessors.AddHookBefore("getppid", function () {\n'
                     '  accessors.print("PRINTED"); accessors.logJson({k: "LOGGED"});\n});\n')
    r = jvisor_run(["--log-backend", backend, "--summary", "-s", str(hooks), "--",
                    helper("hook_probe"), "getppid"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert "PRINTED" in r.stderr and "LOGGED" in r.stderr, r.stderr
    assert summary_table(r.stderr)["getppid"][0] >= 1


@pytest.mark.parametrize("backend", ["bpf", "ptrace"])
def test_ctl_stats_say_the_backend(tmp_path, backend):
    from test_control import Sandbox, ctl
    log = tmp_path / "log.jsonl"
    s = Sandbox(["--log-backend", backend, "-o", str(log), "--", "sleep", "30"], tmp_path)
    try:
        st = json.loads(ctl(s, "--json", "stats").stdout)["payload"]
        assert st["log_backend"] == backend
        assert st["bpf_events_lost"] == 0
    finally:
        s.close()


def test_same_records_with_a_set_and_trace_args(tmp_path):
    res = both(tmp_path, lambda s: [helper("log_args"), str(s)],
               ["-e", "write,openat,read", "--trace-args", "0=1"])
    b = [x for x in res["bpf"][1] if x["type"] == "syscall"]
    assert b and all(x["name"] == "write" and x["args"][0]["fd"] == 1 for x in b)
    assert_same(res["ptrace"][1], res["bpf"][1])
