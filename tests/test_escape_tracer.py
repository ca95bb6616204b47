"""Escapes from the tracer (issue 13, findings 1, 2, 3, 7 and 8): a program that
forges seccomp return data, races clone3's flags in memory, stops itself, or
aims scheduling calls at the supervisor. Each test runs in the default mode and
under --isolate where the attack applies there (docs/sandbox.md, "Threat
model"). Attack helpers: tests/helpers/esc_*.c."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import JVISOR, PYTHON, helper, jvisor_run

MODES = [pytest.param([], id="default"), pytest.param(["--isolate"], id="isolate")]

# jvisor's RET_DATA values (src/tracer/internal.h, src/sandbox/policy.h) and one
# of nobody's: with any of them the program's own RET_TRACE must not matter.
FORGED = ["0x4a50", "0x4a56", "0x4a41", "0x1234"]

DENY_HOSTNAME = """
accessors.AddHookBefore("openat", function (dirfd, path) {
    if (accessors.readString(path, 256) === "/etc/hostname")
        return {ret: -1, errno: 13};
});
"""


def result(stdout):
    line = [l for l in stdout.splitlines() if l.startswith("RESULT ")][-1]
    ret, err = line.split()[1:]
    return int(ret), int(err)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("data", FORGED)
def test_forged_seccomp_data_runs_hooks_and_log(tmp_path, mode, data):
    # Finding 1: the program's filter returns RET_TRACE|data for openat. The deny
    # hook must still run (EACCES) and the call must be in the log.
    log = tmp_path / "log.jsonl"
    r = jvisor_run(mode + ["-o", str(log), "--", helper("esc_forge"), "open", data,
                           "/etc/hostname"], hooks=DENY_HOSTNAME, tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert result(r.stdout) == (-1, 13), r.stdout
    records = [json.loads(l) for l in log.read_text().splitlines()]
    assert any(rec.get("name") == "openat" and "/etc/hostname" in json.dumps(rec)
               for rec in records), "no log record of the openat"


@pytest.mark.parametrize("mode", MODES)
def test_program_own_ret_trace_is_enosys(mode):
    # A RET_TRACE of the program's own filter on a call jvisor does not trap
    # fails with ENOSYS, as it does natively with no tracer.
    native = subprocess.run([helper("esc_forge"), "getppid", "0x4a50"], capture_output=True,
                            text=True, timeout=30)
    assert result(native.stdout) == (-1, 38)
    r = jvisor_run(mode + ["--", helper("esc_forge"), "getppid", "0x4a50"])
    assert r.returncode == 0, r.stderr
    assert result(r.stdout) == (-1, 38), r.stdout


def test_forged_data_on_clone3_leaves_nothing_behind(tmp_path):
    # Finding 2: RET_TRACE|JV_POLICY_DATA on clone3 skipped the CLONE_UNTRACED
    # check; the untraced child's grandchild outlived jvisor.
    mark = tmp_path / "grandchild.pid"
    r = jvisor_run(["--", helper("esc_forge"), "clone3", "0x4a50", str(mark)])
    assert r.returncode == 0, r.stderr
    time.sleep(0.5)  # an escaped grandchild writes its pid at once
    if mark.exists():
        pid = int(mark.read_text())
        alive = os.path.exists(f"/proc/{pid}")
        if alive:
            os.kill(pid, signal.SIGKILL)
        assert not alive, f"grandchild {pid} outlived jvisor"
    assert result(r.stdout) == (-1, 38), r.stdout  # clone3: ENOSYS


def clone3_race(args, n):
    r = jvisor_run(args + [str(n)], timeout=120)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip().splitlines()[-1]
    return dict((k, int(v)) for k, v in (f.split("=") for f in line.split()))


@pytest.mark.parametrize("mode", MODES)
def test_clone3_flags_race(mode):
    # Finding 3: a thread flips clone_args.flags between 0 and CLONE_NEWUSER
    # while another calls clone3. No call may create a namespace the policy
    # forbids: clone3 never runs (ENOSYS; libc falls back to clone).
    res = clone3_race(mode + ["--", helper("esc_clone3"), "newuser"], 500)
    assert res["newuser"] == 0, res
    assert res == dict(ok=0, enosys=500, other=0, newuser=0, untraced=0), res
    if not mode:
        # TracerPid is only meaningful outside a pid namespace.
        res = clone3_race(["--", helper("esc_clone3"), "untraced"], 500)
        assert res["untraced"] == 0 and res["ok"] == 0, res


def test_clone3_set_tid_cannot_kill_host_process():
    # Finding 3 under --isolate: with set_tid, a child's pid inside the pid
    # namespace names a host process; jvisor must never use it on the host.
    victim = subprocess.Popen(["sleep", "120"])
    try:
        for _ in range(5):
            r = jvisor_run(["--isolate", "--", helper("esc_clone3"), "untraced", "3000",
                            str(victim.pid)], timeout=120)
            assert r.returncode == 0, r.stderr
            assert victim.poll() is None, "jvisor killed a host process named from inside"
            assert "ok=0 enosys=3000" in r.stdout, r.stdout
    finally:
        victim.kill()
        victim.wait()


def run_stopped(args, *, sig=None, timeout_cmd=None, wait=20):
    """Run esc_stop under jvisor; it stops itself. Either wrap the run in
    timeout(1) or send sig to jvisor once the program has stopped. Returns
    (returncode, seconds) or (None, seconds) when it still runs after wait."""
    cmd = [JVISOR, "run"] + args + ["--", helper("esc_stop")]
    if timeout_cmd:
        cmd = ["timeout", str(timeout_cmd)] + cmd
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "stopping\n"
        if sig:
            time.sleep(0.5)  # let it reach its group-stop
            p.send_signal(sig)
        try:
            return p.wait(timeout=wait), time.monotonic() - start
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - start
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


@pytest.mark.parametrize("mode", MODES)
def test_stopped_program_ends_under_timeout(mode):
    # Finding 7: timeout(1) sends SIGTERM, then SIGCONT.
    rc, secs = run_stopped(mode, timeout_cmd=2)
    assert rc == 124, f"still running after {secs:.1f} s" if rc is None else rc


@pytest.mark.parametrize("mode", MODES)
def test_stopped_program_ends_on_sigterm(mode):
    # Natively SIGTERM ends a stopped process that does not catch it; so does a
    # SIGTERM sent to jvisor (forwarded to the program).
    rc, secs = run_stopped(mode, sig=signal.SIGTERM)
    assert rc == 128 + signal.SIGTERM, f"still running after {secs:.1f} s" if rc is None else rc


SUPERVISOR_CALLS = ["setpriority", "ioprio_set", "sched_setaffinity", "sched_setparam",
                    "prlimit", "kill", "pidfd_open"]


def prio_calls(args):
    r = jvisor_run(args)
    assert r.returncode == 0, r.stderr
    return dict(l.split(" ", 1) for l in r.stdout.splitlines())


@pytest.mark.parametrize("mode", MODES)
def test_calls_aimed_at_supervisor_are_denied(mode):
    # Finding 8: the parent is jvisor (default) or the namespace's init
    # (--isolate); scheduling, limits and signals aimed at it fail with EPERM.
    res = prio_calls(mode + ["--", helper("esc_prio"), "ppid"])
    assert res == {c: "EPERM" for c in SUPERVISOR_CALLS}, res
    # Aimed at the program itself they work.
    res = prio_calls(mode + ["--", helper("esc_prio"), "self"])
    assert res == {c: "ok" for c in SUPERVISOR_CALLS}, res


READ_PARENT_ENVIRON = """
import os
try:
    data = open(f"/proc/{os.getppid()}/environ", "rb").read()
    print("read", len(data.strip(b"\\0")), b"JV_SECRET" in data)
except OSError as e:
    print("denied", e.errno)
"""


def test_supervisor_environment_is_not_readable():
    # Finding 8: a root program read jvisor's /proc/PID/environ, so --clearenv did
    # not keep a secret from it. jvisor clears the strings from its memory.
    env = dict(os.environ, JV_SECRET="do-not-show")
    r = jvisor_run(["--clearenv", "--", PYTHON, "-c", READ_PARENT_ENVIRON], env=env)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split()
    assert out[0] == "denied" or out[1:] == ["0", "False"], r.stdout
    # The program's own environment is what the options make it.
    r = jvisor_run(["--setenv", "A=1", "--", PYTHON, "-c",
                    "import os; print(os.environ['A'], os.environ['JV_SECRET'])"], env=env)
    assert r.stdout.split() == ["1", "do-not-show"], r.stdout + r.stderr
