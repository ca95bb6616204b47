"""The sandbox: the default policy (try-syscall probes and escape attempts),
--policy files, --isolate and its finer flags, limits (docs/sandbox.md)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import JVISOR, PYTHON, helper, jvisor_run

# Calls the default policy denies; sb_try's arguments make each one fail
# natively with an error other than EPERM (or succeed harmlessly).
DENIED = [
    "io_uring_setup", "bpf", "perf_event_open", "kexec_load", "init_module", "finit_module",
    "delete_module", "userfaultfd", "keyctl", "add_key", "request_key", "open_by_handle_at",
    "mount", "umount2", "pivot_root", "unshare", "setns", "clone_ns",
    "personality:0x0400000",
]
# Aimed at jvisor itself (the helper's parent when not isolated).
AT_SUPERVISOR = [
    "ptrace_attach:ppid", "kill:ppid", "kill_term:ppid", "kill_kill:ppid", "tkill:ppid",
    "tgkill:ppid", "pidfd_open:ppid", "pidfd_signal:ppid", "process_vm_readv:ppid",
    "proc_mem:ppid", "kill:-1", "fsetown:ppid", "fsetown_hi:ppid", "fsetown_ex:ppid",
    "fiosetown:ppid", "tgkill_hi:ppid", "prlimit:ppid",
]
ALLOWED = ["getpid", "fork", "personality:0", "personality:0x0040000"]


def try_calls(calls, args=(), **kw):
    r = jvisor_run(list(args) + ["--", helper("sb_try")] + list(calls), **kw)
    res = {}
    for line in r.stdout.splitlines():
        name, _, rest = line.partition(" ")
        res.setdefault(name, []).append(rest)
    return r, res


def native(calls):
    out = subprocess.run([helper("sb_try")] + list(calls), capture_output=True, text=True,
                         timeout=30).stdout
    return [line.split(" ", 1)[1] for line in out.splitlines()]


def test_native_probes_are_not_eperm():
    # The probes must be able to fail: natively none of them says EPERM.
    for call, res in zip(DENIED, native(DENIED)):
        assert not res.startswith("EPERM"), (call, res)


def test_clone3_fails_with_enosys():
    # clone3 never runs: its flags are in memory (src/tracer/filter.c).
    r, res = try_calls(["clone3_ns"])
    assert r.returncode == 0, r.stderr
    assert res["clone3_ns"][0].startswith("ENOSYS"), res


def test_default_policy_denies():
    r, res = try_calls(DENIED)
    assert r.returncode == 0, r.stderr
    for call in DENIED:
        name = call.split(":")[0]
        assert res[name][0].startswith("EPERM"), (call, res[name])
    # Each denial is reported; the first few of each syscall on stderr.
    assert "policy: denied bpf (EPERM)" in r.stderr
    assert "policy: denied io_uring_setup" in r.stderr


def test_default_policy_allows():
    r, res = try_calls(ALLOWED)
    assert r.returncode == 0, r.stderr
    for call in ALLOWED:
        name = call.split(":")[0]
        assert all(x.startswith("ok") for x in res[name]), (call, res[name])
    assert "policy: denied" not in r.stderr


def test_supervisor_out_of_reach():
    r, res = try_calls(AT_SUPERVISOR)
    assert r.returncode == 0, (r.returncode, r.stderr)
    for call in AT_SUPERVISOR:
        name = call.split(":")[0]
        assert res[name][0] != "ok", (call, res[name])
    # The same calls aimed at the program itself or its own children work.
    own = ["fsetown:0", "fiosetown:0", "kill:0", "prlimit:0"]
    r, res = try_calls(["setpgid"] + own)
    assert all(res[c.split(":")[0]][0] == "ok" for c in own), res


def test_probes_reach_a_process_natively():
    # The probes can fail: aimed at a plain process they succeed.
    p = subprocess.Popen(["sleep", "30"])
    try:
        calls = [c.replace("ppid", str(p.pid)) for c in AT_SUPERVISOR
                 if not c.startswith(("kill_", "kill:-1"))]
        for call, res in zip(calls, native(calls)):
            assert res.startswith(("ok", "EFAULT")), (call, res)
    finally:
        p.kill()
        p.wait()


def test_seccomp_listener_cannot_take_calls_away(tmp_path):
    # Natively the notifier lets bpf() through (EINVAL: the probe's bad command);
    # USER_NOTIF outranks RET_TRACE, so under jvisor the listener must not exist.
    assert native(["notif_bypass"]) == ["bpf EINVAL", "ok"]
    r, res = try_calls(["notif_bypass", "bpf"])
    assert res["notif_bypass"] == ["EPERM"] and res["bpf"] == ["EPERM"], (res, r.stderr)
    # A filter without a listener is the program's business.
    pol = tmp_path / "p.json"
    pol.write_text(json.dumps({"allow": ["seccomp"]}))
    r, res = try_calls(["notif_bypass"], args=["--policy", str(pol)])
    assert res["notif_bypass"][0] == "bpf EINVAL"  # what the default policy prevents


@pytest.mark.parametrize("iso", [False, True])
def test_tiocsti_denied(iso):
    if native(["tiocsti"])[0] != "ok":
        pytest.skip("TIOCSTI is disabled on this kernel (dev.tty.legacy_tiocsti=0)")
    r = (isolate([], [helper("sb_try"), "tiocsti"]) if iso
         else jvisor_run(["--", helper("sb_try"), "tiocsti"]))
    assert r.stdout.strip() == "tiocsti EPERM", (r.stdout, r.stderr)


def test_kill_of_own_process_group():
    # In jvisor's process group kill(0) would reach jvisor; in its own it is allowed.
    r, res = try_calls(["kill:0", "setpgid", "kill:0", "kill:-1"])
    assert res["kill"] == ["EPERM", "ok", "EPERM"], (res, r.stderr)


def test_io_uring_cannot_read_a_file_the_hooks_deny(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n")
    calls = [f"io_uring_read:{secret}"]
    res = native(calls)
    if not res[0].startswith("ok"):
        pytest.skip(f"io_uring does not work natively here ({res[0]})")
    assert res[0] == "ok top secret"
    hooks = f"""
accessors.AddHookBefore("openat", function (dfd, path) {{
    if (accessors.readString(path, 4096) === {json.dumps(str(secret))})
        return {{ret: -1, errno: 13}};
}});
"""
    r, res = try_calls(calls, hooks=hooks, tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert res["io_uring_read"] == ["EPERM"]


def test_denials_are_logged(tmp_path):
    log = tmp_path / "log.jsonl"
    r, res = try_calls(["bpf", "getpid"], args=["-o", str(log)])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    pol = [x for x in recs if x.get("where") == "policy"]
    assert len(pol) == 1 and pol[0]["value"]["syscall"] == "bpf", recs[-5:]
    assert pol[0]["value"]["errno"] == "EPERM" and pol[0]["value"]["reason"]
    # A traced syscall that is denied still has its syscall record.
    sc = [x for x in recs if x.get("type") == "syscall" and x.get("name") == "bpf"]
    assert len(sc) == 1 and sc[0]["errname"] == "EPERM", sc


def test_policy_file_allows_and_denies(tmp_path):
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps({"allow": ["bpf"],
                               "deny": [{"syscall": "getppid", "errno": "EACCES"}]}))
    hooks = ""
    r = jvisor_run(["--policy", str(pol), "--", helper("sb_try"), "bpf", "userfaultfd"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] != "bpf EPERM"
    assert r.stdout.splitlines()[1] == "userfaultfd EPERM"
    r = jvisor_run(["--policy", str(pol), "--", PYTHON, "-c",
                    "import os\ntry:\n os.getppid(); print('ok')\nexcept OSError as e: print(e.errno)"])
    # getppid never fails in libc's eyes: the raw result shows through ctypes instead.
    r = jvisor_run(["--policy", str(pol), "--", PYTHON, "-c",
                    "import ctypes; l = ctypes.CDLL(None, use_errno=True); "
                    "print(l.syscall(110), ctypes.get_errno())"])
    assert r.stdout.split() == ["-1", "13"], (r.stdout, r.stderr)
    del hooks


def test_policy_file_errors(tmp_path):
    pol = tmp_path / "bad.json"
    pol.write_text(json.dumps({"deny": ["no_such_syscall"]}))
    r = jvisor_run(["--policy", str(pol), "--", "true"])
    assert r.returncode == 2
    assert "unknown syscall 'no_such_syscall'" in r.stderr
    pol.write_text(json.dumps({"base": "none", "typo": 1}))
    r = jvisor_run(["--policy", str(pol), "--", "true"])
    assert r.returncode == 2 and "unknown key 'typo'" in r.stderr


def test_policy_base_none(tmp_path):
    pol = tmp_path / "none.json"
    pol.write_text(json.dumps({"base": "none"}))
    r = jvisor_run(["--policy", str(pol), "--", helper("sb_try"), "bpf"])
    assert r.stdout.strip() != "bpf EPERM"


def test_foreign_abi_only_when_hooked_or_logged(tmp_path):
    assert native(["int80_getpid"])[0].startswith("ok")
    r = jvisor_run(["--", helper("sb_try"), "int80_getpid", "getpid"])
    assert r.stdout.split("\n")[:2] == ["int80_getpid ENOSYS", r.stdout.split("\n")[1]]
    assert r.stdout.split("\n")[1].startswith("getpid ok")
    assert "syscalls of other ABIs" in r.stderr
    hooks = 'accessors.AddHookBefore("getpid", function () {});'
    r = jvisor_run(["--", helper("sb_try"), "int80_getpid"], hooks=hooks, tmp_path=tmp_path)
    assert r.stdout.startswith("int80_getpid ok"), (r.stdout, r.stderr)
    r = jvisor_run(["-e", "getpid", "--", helper("sb_try"), "int80_getpid"])
    assert r.stdout.startswith("int80_getpid ok"), (r.stdout, r.stderr)
    pol = tmp_path / "p.json"
    pol.write_text(json.dumps({"foreign-abi": "allow"}))
    r = jvisor_run(["--policy", str(pol), "--", helper("sb_try"), "int80_getpid"])
    assert r.stdout.startswith("int80_getpid ok"), (r.stdout, r.stderr)


def test_x32_only_when_hooked(tmp_path):
    if not native(["x32_getpid"])[0].startswith("ok"):
        pytest.skip("no x32 ABI in this kernel")
    r = jvisor_run(["--", helper("sb_try"), "x32_getpid"])
    assert r.stdout.strip() == "x32_getpid ENOSYS", (r.stdout, r.stderr)
    hooks = 'accessors.AddHookBefore("getpid", function () { return {ret: 4242, errno: 0}; });'
    r = jvisor_run(["--", helper("sb_try"), "x32_getpid"], hooks=hooks, tmp_path=tmp_path)
    assert r.stdout.strip() == "x32_getpid ok", (r.stdout, r.stderr)


def test_int80_denied_call_is_denied_too(tmp_path):
    # i386 bpf (357) through int 0x80 is denied like the native one.
    r = jvisor_run(["--", helper("sb_try"), "int80_bpf"])
    assert r.stdout.strip() == "int80_bpf EPERM", (r.stdout, r.stderr)


# ---- limits and environment (with or without --isolate) ----

def test_rlimit_nofile():
    r = jvisor_run(["--rlimit", "nofile=17", "--", "sh", "-c", "ulimit -n"])
    assert r.returncode == 0 and r.stdout.strip() == "17", (r.stdout, r.stderr)


def test_rlimit_fsize(tmp_path):
    r = jvisor_run(["--rlimit", "fsize=1000", "--", PYTHON, "-c",
                    "import os, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                    "fd = os.open('big', os.O_WRONLY | os.O_CREAT)\n"
                    "print(os.write(fd, b'x' * 5000))\n"
                    "try:\n os.write(fd, b'x')\nexcept OSError as e:\n"
                    " print('EFBIG', e.errno)"], cwd=tmp_path)
    assert r.stdout.split() == ["1000", "EFBIG", "27"], (r.stdout, r.stderr)


def test_bad_rlimit_is_a_usage_error():
    r = jvisor_run(["--rlimit", "nofile=lots", "--", "true"])
    assert r.returncode == 2 and "--rlimit nofile=lots" in r.stderr


@pytest.mark.parametrize("iso", [False, True])
def test_wall_time_kills(tmp_path, iso):
    t0 = time.monotonic()
    log = tmp_path / "log.jsonl"
    pre = ["--isolate"] if iso else []
    # A grandchild too: the whole tree goes, and the log still ends properly.
    # A sleep length of its own, so that pgrep finds no other run's sleeps.
    mark = f"21.{os.getpid()}{int(iso)}"
    r = jvisor_run(pre + ["--wall-time", "1", "-o", str(log), "--", "sh", "-c",
                          f"sleep {mark} & sleep 20; echo survived"], timeout=30)
    assert time.monotonic() - t0 < 10
    assert r.returncode == 137 and "survived" not in r.stdout
    assert "wall-time limit" in r.stderr
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    assert sum(1 for x in recs if x["type"] == "exit") >= 3, recs[-4:]
    left = subprocess.run(["pgrep", "-xf", f"sleep {mark}"], capture_output=True, text=True)
    assert not left.stdout.split()


def test_cpu_time_kills():
    r = jvisor_run(["--cpu-time", "1", "--", PYTHON, "-c", "while True: pass"], timeout=30)
    assert r.returncode in (128 + 9, 128 + 24), (r.returncode, r.stderr)  # SIGXCPU/SIGKILL


def test_env_and_chdir(tmp_path):
    r = jvisor_run(["--clearenv", "--setenv", "A=1", "--setenv", "B=two words",
                    "--chdir", str(tmp_path), "--", "/usr/bin/env"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert sorted(lines) == ["A=1", "B=two words"], lines
    r = jvisor_run(["--chdir", str(tmp_path), "--", "pwd"])
    assert r.stdout.strip() == str(tmp_path)


def test_isolate_flags_need_isolate():
    r = jvisor_run(["--tmpfs", "/mnt", "--", "true"])
    assert r.returncode == 2 and "need --isolate" in r.stderr


def cgroup_unavailable():
    r = jvisor_run(["--memory", "64M", "--pids", "64", "--", "true"])
    if r.returncode == 0:
        return None
    assert r.returncode == 2 and "cgroup v2" in r.stderr, r.stderr
    assert "--rlimit" in r.stderr  # says what to use instead
    return r.stderr.strip()


def test_cgroup_limits_message():
    cgroup_unavailable()


@pytest.mark.parametrize("iso", [False, True])
def test_cgroup_limits(iso):
    why = cgroup_unavailable()
    if why:
        pytest.skip(why)
    pre = ["--isolate"] if iso else []
    r = jvisor_run(pre + ["--memory", "64M", "--", PYTHON, "-c",
                          "b = bytearray(400 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\n"
                          "print('survived')"], timeout=60)
    assert "survived" not in r.stdout and r.returncode != 0
    r = jvisor_run(pre + ["--pids", "8", "--", "sh", "-c",
                          "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2 & done; wait"],
                   timeout=60)
    assert "fork" in r.stderr.lower() or r.returncode != 0


def test_config_keys(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"setenv": ["X=from-config"], "rlimit": ["nofile=33"],
                               "clearenv": True}))
    r = jvisor_run(["-c", str(cfg), "--", "/bin/sh", "-c", "echo $X; ulimit -n"])
    assert r.stdout.split() == ["from-config", "33"], (r.stdout, r.stderr)
    cfg.write_text(json.dumps({"net": "cable"}))
    r = jvisor_run(["-c", str(cfg), "--", "true"])
    assert r.returncode == 2 and "'net'" in r.stderr


# ---- --isolate ----

def isolate(args, cmd, **kw):
    # The helpers may live under /tmp, which is private inside: bind them.
    helpers = os.path.dirname(helper("sb_try"))
    return jvisor_run(["--isolate", "--ro-bind", helpers] + list(args) + ["--"] + list(cmd),
                      **kw)


def test_isolate_shell_with_real_tools(tmp_path):
    script = ("set -e; id -u; hostname; echo $$; ls /proc | grep -c '^[0-9]' ; "
              f"{PYTHON} -c 'print(6*7)'; echo hi > /tmp/inside; cat /tmp/inside; "
              "echo local > here.txt; ")
    if shutil.which("gcc"):
        script += "printf 'int main(void){return 5;}' > t.c; gcc t.c -o t; ./t || echo gcc=$?"
    r = isolate([], ["sh", "-c", script], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split()
    assert out[0] == str(os.getuid())
    assert out[1] == "jvisor"
    assert out[2] == "2"            # pid 1 is the sandbox's init
    assert int(out[3]) < 10         # only the sandbox's processes
    assert out[4] == "42" and out[5] == "hi"
    if shutil.which("gcc"):
        assert out[6] == "gcc=5"
    # The working directory is shared with the host, /tmp is private.
    assert (tmp_path / "here.txt").read_text() == "local\n"
    assert not os.path.exists("/tmp/inside") or open("/tmp/inside").read() != "hi\n"


def test_isolate_host_root_is_read_only(tmp_path):
    victim = "/jvisor-sandbox-escape-test"
    r = isolate([], [helper("sb_try"), f"write_file:{victim}", "write_file:/etc/jvisor-x",
                     f"write_file:{tmp_path}/ok"], cwd=tmp_path)
    assert r.stdout.split("\n")[:3] == [
        "write_file EROFS", "write_file EROFS", "write_file ok"], (r.stdout, r.stderr)
    assert not os.path.exists(victim)


def test_isolate_no_network(tmp_path):
    # A listener on the host: reachable natively, not from inside.
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("0.0.0.0", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    ips = [ip for ip in subprocess.run(["hostname", "-I"], capture_output=True,
                                       text=True).stdout.split() if "." in ip]
    try:
        target = f"{ips[0]}:{port}" if ips else f"127.0.0.1:{port}"
        r = isolate([], [helper("sb_try"), f"connect:{target}", f"connect:127.0.0.1:{port}"])
        res = r.stdout.splitlines()
        assert res[0] != "connect ok", res
        assert res[1] == "connect ECONNREFUSED", res  # only the sandbox's own lo
        r = isolate([], ["cat", "/proc/net/dev"])
        ifaces = [line.split(":")[0].strip() for line in r.stdout.splitlines()[2:]]
        assert ifaces == ["lo"], ifaces
    finally:
        srv.close()


def test_isolate_binds_and_tmpfs(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("data\n")
    work = tmp_path / "work"
    work.mkdir()
    r = isolate(["--ro-bind", f"{src}:/mnt/ro"], ["true"], cwd=work)
    assert r.returncode == 1 and "put a --tmpfs on a parent" in r.stderr, r.stderr
    r = isolate(["--tmpfs", "/mnt", "--ro-bind", f"{src}:/mnt/ro", "--bind", f"{src}:/mnt/rw",
                 "--tmpfs", "/mnt/opt",
                 "--hostname", "box", "--uid", "1234", "--gid", "4321"],
                ["sh", "-c", "cat /mnt/ro/f; (echo x > /mnt/ro/g) 2>/dev/null || echo ro; "
                 "echo y > /mnt/rw/h && echo rw; ls /mnt/opt | wc -l; hostname; id -u; id -g"],
                cwd=work)
    assert r.stdout.split() == ["data", "ro", "rw", "0", "box", "1234", "4321"], \
        (r.stdout, r.stderr)
    assert (src / "h").read_text() == "y\n"


def test_isolate_rootfs(tmp_path):
    root = tmp_path / "root"
    for d in ("proc", "tmp", "dev", "bin"):
        (root / d).mkdir(parents=True)
    shutil.copy(helper("proc_static-static"), root / "bin" / "prog")
    r = jvisor_run(["--isolate", "--rootfs", str(root), "--", "/bin/prog"])
    native = subprocess.run([helper("proc_static-static")], capture_output=True, timeout=30)
    assert r.returncode == native.returncode, (r.returncode, r.stderr)
    r = jvisor_run(["--isolate", "--rootfs", str(root), "--", "/bin/sh", "-c", "true"])
    assert r.returncode == 127  # the host's tools are not in the new root


def test_isolate_policy_still_applies():
    r = isolate([], [helper("sb_try"), "bpf", "unshare", "mount", "getpid"])
    assert r.stdout.split("\n")[:4] == ["bpf EPERM", "unshare EPERM", "mount EPERM",
                                        "getpid ok 2"] or \
        r.stdout.split("\n")[3].startswith("getpid ok"), r.stdout


def test_isolate_errors_are_reported():
    r = isolate(["--bind", "/no/such/dir:/x"], ["true"])
    assert r.returncode == 2 and "/no/such/dir" in r.stderr


def test_isolate_signal_and_exit_status(tmp_path):
    p = subprocess.Popen([JVISOR, "run", "--isolate", "--", "sh", "-c",
                          "trap 'exit 42' TERM; echo trapped; while :; do sleep 0.1; done"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # a SIGTERM before the trap is set would end sh with 143
    assert p.stdout.readline() == "trapped\n"
    p.terminate()
    try:
        rc = p.wait(timeout=15)
    finally:
        p.kill()
    assert rc == 42


@pytest.mark.parametrize("iso", [False, True])
def test_nothing_survives_jvisor(tmp_path, iso):
    # a sleep length of its own: pgrep looks at the whole machine, where other
    # runs of this test may have their sleeps
    marker = f"31.{os.getpid()}{int(iso)}"
    args = [JVISOR, "run"] + (["--isolate"] if iso else []) + [
        "--", "sh", "-c", f"sleep {marker} & sleep {marker} & wait"]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sleeps():
        return subprocess.run(["pgrep", "-xf", f"sleep {marker}"], capture_output=True,
                              text=True).stdout.split()
    deadline = time.monotonic() + 20
    while len(sleeps()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sleeps()) == 2  # both run: killing jvisor now must end them
    p.kill()
    p.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = sleeps()
        if not left:
            break
        time.sleep(0.1)
    assert not left


def test_isolate_interactive_shell_on_a_terminal():
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(JVISOR, [JVISOR, "run", "--isolate", "--", "sh", "-i"])
    out = b""

    def read_until(marker, seconds=10):
        nonlocal out
        deadline = time.monotonic() + seconds
        while marker not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return marker in out

    try:
        os.write(fd, b"echo in-$((6*7))\n")
        assert read_until(b"in-42"), out
        os.write(fd, b"sleep 10\n")
        time.sleep(0.5)
        os.write(fd, b"\x03")  # ^C reaches the program's foreground group
        os.write(fd, b"echo after-$((2*3))\n")
        assert read_until(b"after-6", 5), out
        os.write(fd, b"exit 3\n")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            read_until(b"\0", 0.1)
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        assert done, out
        assert os.waitstatus_to_exitcode(st) == 3, out
        assert b"Cannot set tty process group" not in out, out
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def test_isolate_log_file_is_out_of_reach(tmp_path):
    r = isolate(["-o", "log.jsonl", "-e", "getpid"],
                ["sh", "-c", "wc -c < log.jsonl; echo garbage > log.jsonl; echo $?"],
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "0"
    text = (tmp_path / "log.jsonl").read_text()
    assert "garbage" not in text.splitlines()
    recs = [json.loads(line) for line in text.splitlines()]  # intact
    assert any(x.get("name") == "getpid" for x in recs)


def test_isolate_net_host():
    r = isolate(["--net", "host"], ["cat", "/proc/net/dev"])
    assert r.returncode == 0, r.stderr
    ifaces = [line.split(":")[0].strip() for line in r.stdout.splitlines()[2:]]
    host = [line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]]
    assert sorted(ifaces) == sorted(host)


@pytest.mark.parametrize("iso", [False, True])
def test_setup_failure_is_reported(iso):
    pre = ["--isolate"] if iso else []
    r = jvisor_run(pre + ["--chdir", "/no/such/dir", "--", "true"])
    assert r.returncode in (1, 126), (r.returncode, r.stderr)
    assert "--chdir /no/such/dir" in r.stderr and "ENOENT" in r.stderr


def test_isolate_minimal_dev_and_masked_proc():
    r = isolate([], ["sh", "-c", "ls /dev; echo x > /dev/null && echo null-ok; "
                     "(echo 1 > /proc/sys/kernel/hostname) 2>/dev/null || echo sys-ro; "
                     "wc -c < /proc/kmsg"])
    assert r.returncode == 0, r.stderr
    out = r.stdout.split()
    assert not any(x.startswith(("sd", "vd", "nvme", "loop", "kvm", "mem", "kmsg", "tty0"))
                   for x in out), out
    assert "null" in out and "pts" in out and "null-ok" in out and "sys-ro" in out
    assert out[-1] == "0"


def test_example_sandbox_demo():
    # examples/sandbox: --isolate and a policy file from a config, on python3.
    demo = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples", "sandbox", "run.sh")
    r = subprocess.run(["sh", demo, JVISOR], capture_output=True, text=True, timeout=90,
                       env=dict(os.environ, PYTHON=PYTHON))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "== as expected" in r.stdout


def test_isolate_ctrl_z_stops_jvisor_too():
    # The program has the terminal; ^Z stops it, and jvisor must stop as well so
    # that the shell which started jvisor gets the terminal back.
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(JVISOR, [JVISOR, "run", "--isolate", "--", PYTHON, "-c",
                          "import time\nfor i in range(600):\n"
                          "    print('tick', i, flush=True); time.sleep(0.05)"])
    out = b""

    def drain(seconds):
        nonlocal out
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    return

    try:
        drain(1.0)
        assert b"tick 3" in out, out
        os.write(fd, b"\x1a")
        deadline = time.monotonic() + 10
        stopped = False
        while time.monotonic() < deadline and not stopped:
            drain(0.1)
            done, st = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
            stopped = done == pid and os.WIFSTOPPED(st)
        assert stopped, out[-200:]
        drain(0.3)
        before = out.count(b"tick")
        drain(0.5)
        assert out.count(b"tick") == before  # the program is stopped too
        os.kill(pid, signal.SIGCONT)
        drain(1.0)
        assert out.count(b"tick") > before + 3, out[-200:]  # both go on
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
