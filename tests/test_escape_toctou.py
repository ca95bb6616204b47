"""Issue 13, finding 4: a deny hook's path check against racing writers.

tests/helpers/esc_toctou.c flips the path passed to openat between an allowed
and a denied name from a sibling thread, a forked child writing through a
MAP_SHARED page, or a clone(CLONE_VM) process. The documented pattern,
accessors.pinString (docs/api.md), must hold against all three, in default mode
and under --isolate; the old pattern (stopThreads + readString) does not.
"""
import os
import re

import pytest

from conftest import helper, jvisor_run

# The documented pattern (docs/hooks.md, "Deciding on pointer arguments").
PINNED = """
accessors.AddHookBefore("openat", function () {
  let path;
  try {
    path = accessors.pinString(1);
  } catch (e) {
    return {ret: -1, errno: 1}; // not pinned: deny
  }
  if (path.includes("deny")) return {ret: -1, errno: 13};
});
"""

# What docs/hooks.md and docs/api.md presented before: racy.
OLD = """
accessors.AddHookBefore("openat", function (dfd, path) {
  accessors.stopThreads();
  if (accessors.readString(path).includes("deny")) return {ret: -1, errno: 13};
});
"""

RACERS = ["thread", "shared", "clonevm"]


def run(args, hooks, tmp_path, iso=False, timeout=120):
    pre = []
    if iso:
        # The helpers may live under /tmp, which is private inside: bind them.
        pre = ["--isolate", "--ro-bind", os.path.dirname(helper("esc_toctou"))]
    return jvisor_run(pre + ["--", helper("esc_toctou")] + args, hooks=hooks,
                      tmp_path=tmp_path, timeout=timeout)


def counts(r):
    assert r.returncode == 0, r.stderr
    m = re.search(r"tries=(\d+) allowed=(\d+) denied=(\d+) leaks=(\d+)"
                  r"(?: tamper=(\d+) attempts=(\d+))?", r.stdout)
    assert m, r.stdout + r.stderr
    return {k: int(v) for k, v in zip(
        ["tries", "allowed", "denied", "leaks", "tamper", "attempts"], m.groups()) if v}


@pytest.mark.parametrize("iso", [False, True], ids=["default", "isolate"])
@pytest.mark.parametrize("racer", RACERS)
def test_pinned_path_check_holds(tmp_path, racer, iso):
    # 2,000 tries, bounded at 40 s on a loaded machine.
    c = counts(run([racer, "2000", "40"], PINNED, tmp_path, iso))
    assert c["leaks"] == 0, c
    # The racer did race: both names reached the hook.
    assert c["tries"] >= 200 and c["allowed"] > 0 and c["denied"] > 0, c


@pytest.mark.parametrize("racer", RACERS)
def test_old_pattern_leaks(tmp_path, racer):
    """The racers are real: stopThreads + readString lets the denied file be
    opened (issue 13 measured 148 to 1,178 leaks in 5,000 tries). On a loaded
    machine the racer may rarely run while the hook reads: up to a million tries
    or 60 s, until the first leak."""
    c = counts(run([racer, "1000000", "60", "until-leak"], OLD, tmp_path))
    assert c["leaks"] > 0, c


@pytest.mark.parametrize("iso", [False, True], ids=["default", "isolate"])
def test_pinned_copy_cannot_be_changed(tmp_path, iso):
    # A sibling finds the region in /proc/self/maps and tries mmap(MAP_FIXED)
    # over it, mprotect(PROT_WRITE), mremap, munmap and /proc/self/mem writes.
    c = counts(run(["remap", "1500", "20"], PINNED, tmp_path, iso))
    assert c["attempts"] > 0, c
    assert c["tamper"] == 0 and c["leaks"] == 0, c


@pytest.mark.parametrize("err", [0, 38], ids=["forged-success", "ENOSYS"])
def test_pin_refused_when_program_answers_mseal(tmp_path, err):
    """The program's own seccomp filter answers jvisor's injected mseal (a
    forged success, or ENOSYS): the region is not used, pinning throws and the
    documented pattern denies."""
    hooks = """
accessors.AddHookBefore("openat", function (dfd, path) {
  if (!accessors.readString(path).endsWith("/hostname")) return; // the loader's opens
  try {
    accessors.pinString(1);
  } catch (e) {
    accessors.print("pin", e.code);
    return {ret: -1, errno: 1};
  }
});
"""
    r = run(["forge", str(err), "/etc/hostname"], hooks, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "forge ret Operation not permitted", r.stdout + r.stderr
    assert ("pin EBUSY" if err == 0 else "pin ENOSYS") in r.stderr, r.stderr


def test_pinned_copies_of_many_blocked_calls(tmp_path):
    """80 threads blocked in pinned opens at once (FIFOs): more copies in flight
    than one region holds, so a second region is added; every open completes."""
    script = """
import os, threading, time
paths = [f"fifo{i}" for i in range(80)]
for p in paths: os.mkfifo(p)
got = []
def reader(p):
    fd = os.open(p, os.O_RDONLY); got.append(os.read(fd, 1)); os.close(fd)
ts = [threading.Thread(target=reader, args=(p,)) for p in paths]
for t in ts: t.start()
def in_open(t):
    with open(f"/proc/self/task/{t.native_id}/syscall") as f:
        return f.read().split()[0] == "257"
while not all(in_open(t) for t in ts): time.sleep(0.05)
time.sleep(0.5)
for p in paths:
    fd = os.open(p, os.O_WRONLY); os.write(fd, b"x"); os.close(fd)
for t in ts: t.join()
print(sum("jvisor-pin" in l for l in open("/proc/self/maps")), len(got), set(got))
"""
    r = jvisor_run(["--", "/usr/bin/python3", "-c", script], hooks=PINNED, tmp_path=tmp_path,
                   cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    regions, rest = r.stdout.split(None, 1)
    assert int(regions) >= 2 and rest.strip() == "80 {b'x'}", r.stdout


def test_pinned_registers_restored(tmp_path):
    """The program's argument registers come back after the call, allowed or
    denied (the ABI preserves them); a denial has the hook's errno."""
    deny = tmp_path / "deny"
    deny.write_text("x")
    for path, ret in [("/etc/hostname", "fd"), (str(deny), "Permission denied")]:
        r = run(["regs", path], PINNED, tmp_path)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"regs ok ret {ret}", r.stdout


def test_pinned_call_restarted_after_signal(tmp_path):
    """A pinned open interrupted by a signal (SA_RESTART) is restarted with the
    program's own pointer, and the hook sees it again."""
    hooks = """
accessors.AddHookBefore("openat", function () {
  const p = accessors.pinString(1);
  if (p.endsWith("/fifo")) accessors.print("pinned", p, this.pid);
});
"""
    fifo = tmp_path / "fifo"
    r = run(["restart", str(fifo)], hooks, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "restart ok handled=1"
    seen = [l.split()[2] for l in r.stderr.splitlines() if l.startswith("pinned")]
    # The reader's open twice (first try, restart), the writer's once.
    assert len(seen) == 3 and len(set(seen)) == 2, r.stderr


def test_pinned_execve(tmp_path):
    hooks = """
accessors.AddHookBefore("execve", function () {
  if (accessors.pinString(0).endsWith("/ls")) return {ret: -1, errno: 13};
});
accessors.AddHookBefore("openat", function () { accessors.pinString(1); });
"""
    r = jvisor_run(["--", "sh", "-c", "ls /; echo ls=$?; exec cat /etc/hostname"],
                   hooks=hooks, tmp_path=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "ls=126" in r.stdout and "Permission denied" in r.stderr
    assert r.stdout.splitlines()[-1] == open("/etc/hostname").read().strip()


def test_pin_errors(tmp_path):
    hooks = """
function err(f) { try { f(); return "none"; } catch (e) { return e.code || e.message; } }
accessors.AddHookBefore("openat", function (dfd, path) {
  if (!accessors.readString(path).endsWith("/hostname")) return;
  accessors.print("bad-index", err(() => accessors.pinString(6)));
  accessors.print("zero-max", err(() => accessors.pinString(1, 0)));
  accessors.print("too-long", err(() => accessors.pinString(1, 4)));
  accessors.print("not-a-pointer", err(() => accessors.pinString(0)));
  accessors.print("no-length", err(() => accessors.pinBytes(1)));
  accessors.print("bytes", new Uint8Array(accessors.pinBytes(1, 4)).join(","));
  accessors.print("string", accessors.pinString(1));
});
accessors.AddHookAfter("openat", function () {
  accessors.print("after", err(() => accessors.pinString(1)));
});
accessors.AddHookBefore("getppid", function () {
  accessors.print("notify", err(() => accessors.pinString(0)));
}, {mode: "notify"});
"""
    r = jvisor_run(["--", "sh", "-c", "cat /etc/hostname; cat /proc/self/stat >/dev/null"],
                   hooks=hooks, tmp_path=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(" ", 1) for l in r.stderr.splitlines()
                 if l.split(" ", 1)[0] in ("bad-index", "zero-max", "too-long",
                                           "not-a-pointer", "no-length", "bytes", "string"))
    assert lines == {"bad-index": "EINVAL", "zero-max": "EINVAL", "too-long": "ENAMETOOLONG",
                     "not-a-pointer": "EFAULT", "no-length": "EINVAL",
                     "bytes": "47,101,116,99", "string": "/etc"}, r.stderr
    assert "after EINVAL" in r.stderr


def test_pin_in_notify_hook(tmp_path):
    hooks = """
accessors.AddHookBefore("openat", function () {
  try { accessors.pinString(1); } catch (e) { accessors.print("notify", e.code); }
}, {mode: "notify"});
"""
    r = jvisor_run(["--", "cat", "/etc/hostname"], hooks=hooks, tmp_path=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "notify ENOTSUP" in r.stderr or "notify EOPNOTSUPP" in r.stderr, r.stderr


def test_skip_after_injection(tmp_path):
    """A before-hook that injects a syscall (anonMmap) and then skips the call:
    the program sees the hook's result, not ENOSYS."""
    hooks = """
accessors.AddHookBefore("getppid", function () {
  accessors.anonMmap(4096);
  return {ret: 4242, errno: 0};
});
"""
    r = jvisor_run(["--", "/usr/bin/python3", "-c", "import os; print(os.getppid())"],
                   hooks=hooks, tmp_path=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "4242"
