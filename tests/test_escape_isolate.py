"""Issue 13, finding 6: under --isolate the namespace's init must be out of the
program's reach, read-only mounts must stay read-only for a program that holds
every capability of the sandbox's user namespace, and the sandbox must die with
jvisor whatever runs inside. Attack helpers: tests/helpers/esc_init*.c."""
import json
import os
import signal
import subprocess
import time

from conftest import JVISOR, PYTHON, helper, jvisor_run


def isolate(args, cmd, **kw):
    # The helpers may live under /tmp, which is private inside: bind them.
    helpers = os.path.dirname(helper("esc_init"))
    return jvisor_run(["--isolate", "--ro-bind", helpers] + list(args) + ["--"] + list(cmd),
                      **kw)


def test_init_memory_and_proc_files_unreachable():
    r = isolate([], [helper("esc_init"), "mem"], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ESCAPED" not in r.stdout and r.stdout.count("BLOCKED") == 4, r.stdout


def test_read_only_mounts_locked(tmp_path):
    """The policy is opened up for the mount syscalls, so that only the kernel
    decides: the mount flags must be locked."""
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "f").write_text("host data\n")
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps({"allow": ["mount", "umount2", "mount_setattr", "open_tree",
                                         "move_mount", "fsopen", "fsmount", "fspick"]}))
    r = isolate(["--policy", str(pol), "--ro-bind", f"{ro}:{ro}"],
                [helper("esc_init_mount"), "/", str(ro), "/proc/sys"], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ESCAPED" not in r.stdout and r.stdout.count("BLOCKED") == 3, r.stdout
    assert (ro / "f").read_text() == "host data\n"


def sandbox_pids(root):
    """jvisor's descendants (host pids), from /proc/PID/task/*/children."""
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for t in tasks:
            try:
                kids = open(f"/proc/{p}/task/{t}/children").read().split()
            except FileNotFoundError:
                continue
            for k in kids:
                out.append(int(k))
                todo.append(int(k))
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            state = [x for x in f if x.startswith("State:")][0]
    except (FileNotFoundError, IndexError):
        return False
    return "Z" not in state.split()[1]


def test_sandbox_dies_with_jvisor_after_init_injection():
    """The helper tries to clear init's PR_SET_PDEATHSIG by writing code into
    it; then jvisor is killed with SIGKILL: nothing of the sandbox may stay."""
    helpers = os.path.dirname(helper("esc_init"))
    p = subprocess.Popen([JVISOR, "run", "--isolate", "--ro-bind", helpers, "--",
                          helper("esc_init"), "inject"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids = []
    try:
        line = p.stdout.readline()
        assert "BLOCKED" in line or "INJECTED" in line, line
        pids = sandbox_pids(p.pid)
        assert len(pids) >= 2, pids  # the init and the program
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(x) for x in pids):
            time.sleep(0.1)
        left = [x for x in pids if alive(x)]
        assert not left, f"survived jvisor: {left}; the helper said: {line.strip()}"
        assert "BLOCKED" in line, line
    finally:
        for x in pids:
            try:
                os.kill(x, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if p.poll() is None:
            p.kill()
            p.wait()


def test_init_cannot_be_signalled():
    """The program's Landlock domain is scoped for signals: the init is outside
    it (before, a signal to pid 1 came back to the program as a forwarded one)."""
    code = ("import os, signal\n"
            "for sig in (signal.SIGUSR2, signal.SIGTERM, signal.SIGSTOP):\n"
            "    try:\n"
            "        os.kill(1, sig)\n"
            "        print('sent', sig.name)\n"
            "    except PermissionError:\n"
            "        print('refused', sig.name)\n")
    r = isolate([], [PYTHON, "-c", code], timeout=60)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert r.stdout.split("\n")[:3] == ["refused SIGUSR2", "refused SIGTERM",
                                        "refused SIGSTOP"], r.stdout
