"""Shared pytest fixtures: the jvisor binary under test and the helper programs.

Environment (set by `make test`):
  JVISOR   path of the jvisor binary (build/jvisor or build-asan/jvisor)
  HELPERS  directory of the compiled helpers of tests/helpers/
"""
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JVISOR = os.environ.get("JVISOR", str(ROOT / "build" / "jvisor"))
HELPERS = Path(os.environ.get("HELPERS", str(ROOT / "build" / "helpers")))
# Debian's interpreter: the first python3 in PATH may be a wrapper script.
PYTHON = "/usr/bin/python3"


def helper(name):
    """Path of a compiled test helper; fails the test if it was not built."""
    p = HELPERS / name
    if not p.exists():
        pytest.fail(f"helper {name} not built (run make helpers)")
    return str(p)


def jvisor_run(args, hooks=None, tmp_path=None, timeout=60, **kw):
    """Run `jvisor run [--hooks FILE] ARGS` and return the CompletedProcess.

    hooks: JS source text; written to tmp_path/hooks.js and passed with -s.
    args: everything after `run` (options, then "--", then the program).
    """
    cmd = [JVISOR, "run"]
    if hooks is not None:
        assert tmp_path is not None, "hooks= needs tmp_path="
        f = Path(tmp_path) / f"hooks{len(list(Path(tmp_path).glob('hooks*.js')))}.js"
        f.write_text(hooks)
        cmd += ["-s", str(f)]
    cmd += list(args)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, timeout=timeout, **kw)


def need(tool):
    """Skip the test when a tool is missing from this machine."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")


# A line "[WHO: ]NAME ret=R errno=E [K=V ...]" of tests/helpers/hook_probe.c.
PROBE_RESULT_RE = re.compile(r"^(?:([\w-]+): )?(\w+) ret=(-?\d+) errno=(\d+)(.*)$")


def probe_results(text):
    """hook_probe's report lines as dicts: who (prefix), name, ret, errno, extras."""
    out = []
    for line in text.splitlines():
        m = PROBE_RESULT_RE.match(line)
        if not m:
            continue
        d = {"who": m[1], "name": m[2], "ret": int(m[3]), "errno": int(m[4])}
        for kv in m[5].split():
            k, _, v = kv.partition("=")
            d[k] = int(v)
        out.append(d)
    return out


def task_states(pid):
    """State letter of every thread of pid."""
    states = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except FileNotFoundError:
            continue
        states[int(tid)] = stat.rsplit(")", 1)[1].split()[0]
    return states


def wait_stopped(pid, jvisor_pid, timeout=10.0):
    """Wait until every thread of pid is stopped. Under ptrace a group-stopped task
    shows 't' (tracing stop) where natively it shows 'T'; but 't' also shows during
    the tracer's short stops (hooks, signal delivery), so it must last while jvisor
    sleeps."""
    def stopped():
        states = task_states(pid)
        return (bool(states) and set(states.values()) <= {"t", "T"} and
                set(task_states(jvisor_pid).values()) <= {"S"})
    end = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < end:
        streak = streak + 1 if stopped() else 0
        if streak >= 10:
            return True
        time.sleep(0.02)
    return False
