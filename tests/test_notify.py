"""Notify mode (docs/hooks.md, "Notify mode"): before-hooks served through
seccomp user notification instead of a ptrace stop. Each test checks which path
served a call through the event's `mode` ("notify" or "ptrace")."""
import json
import os
import re
import subprocess
import textwrap

import pytest

from conftest import JVISOR, PYTHON, helper, jvisor_run


def run(tmp_path, js, argv, opts=(), timeout=60):
    return jvisor_run([*opts, "--", *argv], hooks=textwrap.dedent(js), tmp_path=tmp_path,
                      timeout=timeout)


def fast(*ops):
    return [helper("fast_calls"), *ops]


def tagged(out, tag):
    """The rest of each line "TAG rest" printed by the hooks."""
    return re.findall(rf"^{tag} (.*)$", out, re.M)


def results(out):
    return [int(x) for x in re.findall(r"^getppid ret=(-?\d+)$", out, re.M)]


def test_deny_with_errno_and_observe(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", function (a0) {
            accessors.print("H " + this.mode + " " + a0);
            if (a0 === 13) return {ret: -1, errno: 13};
        }, {mode: "notify"});
        """, fast("g:1", "g:13", "g:2"))
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "H") == ["notify 1", "notify 13", "notify 2"]
    r = results(p.stdout)
    assert r[1] == -13 and r[0] > 1 and r[2] == r[0], r


def test_fake_result_and_argument_filter(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", function (a0) {
            accessors.print("H " + this.mode + " " + a0);
            return {ret: 4242, errno: 0};
        }, {mode: "notify", args: {0: {value: 0x100, op: ">="}}});
        """, fast("g:1", "g:0x100", "g:0xffffffff00000000", "g:5"))
    assert p.returncode == 0, p.stderr
    # 0xffffffff00000000 >= 0x100 unsigned, as seccomp compares (shown signed)
    assert tagged(p.stderr, "H") == ["notify 256", "notify -4294967296"]
    r = results(p.stdout)
    assert r[1] == 4242 and r[2] == 4242 and r[0] == r[3] != 4242, r


def test_memory_reads_decide(tmp_path):
    """A notify hook reads the buffer of write(2) and denies one."""
    p = run(tmp_path, """
        accessors.AddHookBefore("write", function (fd, buf, n) {
            const s = accessors.readString(buf, Number(n));
            accessors.print("W " + this.mode + " " + JSON.stringify(s));
            if (s.includes("secret")) return {ret: -1, errno: 1};
        }, {mode: "notify", args: {0: 1}});
        """, fast("w:1:hello\n", "w:1:a secret\n", "w:1:bye\n"))
    assert p.returncode == 0, p.stderr
    w = [x for x in tagged(p.stderr, "W") if "ret=" not in x]  # not the reports
    assert w == ['notify "hello\\n"', 'notify "a secret\\n"', 'notify "bye\\n"'], w
    assert "hello" in p.stdout and "bye" in p.stdout and "secret" not in p.stdout
    assert "write ret=-1" in p.stdout  # the report of the denied write (EPERM)


def test_real_program_python(tmp_path):
    p = run(tmp_path, """
        let n = 0;
        accessors.AddHookBefore("getppid", function () {
            n++;
            accessors.print("calls " + n + " " + this.mode);
            return {ret: 777, errno: 0};
        }, {mode: "notify"});
        accessors.AddHookBefore("uname", function () {
            return {ret: -1, errno: 38};
        }, {mode: "notify"});
        """, [PYTHON, "-c", "import os\nprint(os.getppid())\ntry:\n    os.uname()\n"
              "except OSError as e:\n    print('uname', e.errno)"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["777", "uname", "38"], p.stdout
    assert tagged(p.stderr, "calls") == ["1 notify"]


def test_changed_arguments_are_an_error_at_the_first_call(tmp_path):
    js = """
        accessors.AddHookBefore("getppid", function (a0) {
            accessors.print("H " + a0);
            return {0: 99};
        }, {mode: "notify"});
        """
    p = run(tmp_path, js, fast("g:1", "g:2"))
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "H") == ["1", "2"]
    assert p.stderr.count("cannot change arguments") == 1, p.stderr
    assert "hooks0.js:2" in p.stderr and "proceeds unchanged" in p.stderr
    r = results(p.stdout)
    assert r[0] == r[1] > 1
    p = run(tmp_path, js, fast("g:1"), opts=["--hook-failure", "closed"])
    assert results(p.stdout) == [-1], p.stdout
    assert "fails with EPERM" in p.stderr


def test_bad_notify_registrations(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookAfter("getppid", () => {}, {mode: "notify"});
        """, fast("g:1"))
    assert p.returncode != 0
    assert "notify mode has no after-hooks" in p.stderr and "hooks0.js:2" in p.stderr
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", () => {}, {mode: "fast"});
        """, fast("g:1"))
    assert p.returncode != 0
    assert 'options.mode must be "ptrace", "notify" or "observe"' in p.stderr


def test_hook_that_throws_or_loops(tmp_path):
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", function (a0) {
            if (a0 === 1) throw new Error("boom");
            if (a0 === 2) for (;;) {}
        }, {mode: "notify"});
        """, fast("g:1", "g:2", "g:3"), opts=["--hook-timeout", "200"])
    assert p.returncode == 0, p.stderr
    assert "boom" in p.stderr and "time limit of 200 ms" in p.stderr
    r = results(p.stdout)
    assert len(r) == 3 and r[0] == r[1] == r[2] > 1


def test_accessors_in_notify_hooks(tmp_path):
    """Those that need a thread stopped by ptrace say so; the others work, and
    getSignalInfo gives the handlers without their details."""
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () {
            const calls = {
                stopThreads: () => accessors.stopThreads(),
                anonMmap: () => accessors.anonMmap(4096),
                setUmask: () => accessors.setUmask(0, 0o22),
                getArgv: () => accessors.getArgv().length,
                getCwd: () => accessors.getCwd(),
                getFdInfo: () => accessors.getFdInfo(1).fd,
                getMmaps: () => accessors.getMmaps().length > 0,
                getThreadInfo: () => typeof accessors.getThreadInfo(),
                getUmask: () => accessors.getUmask(),
                getExeInfo: () => accessors.getExeInfo().path.endsWith("python3.11") ||
                                  accessors.getExeInfo().path.includes("python"),
                sigactions: () => accessors.getSignalInfo().sigactions
                    .filter(a => a.name === "SIGUSR1").map(a => a.known).join(),
            };
            for (const [k, f] of Object.entries(calls)) {
                try { accessors.print("R " + k + " ok " + f()); }
                catch (e) { accessors.print("R " + k + " err " + e.message); }
            }
        }, {mode: "notify"});
        """, [PYTHON, "-c", "import os, signal\n"
              "signal.signal(signal.SIGUSR1, lambda *a: 0)\nos.umask(0o27)\nos.getppid()",
              "arg1"])
    assert p.returncode == 0, p.stderr
    r = {x.split()[0]: x.split(None, 2)[1:] for x in tagged(p.stderr, "R")}
    for k in ("stopThreads", "anonMmap", "setUmask"):
        assert r[k][0] == "err" and "not available in a hook served by seccomp " \
            "notification" in r[k][1], r
    assert r["getArgv"] == ["ok", "4"], r  # python3 -c PROGRAM arg1
    assert r["getUmask"] == ["ok", str(0o27)], r
    assert r["sigactions"] == ["ok", "false"], r
    for k in ("getCwd", "getFdInfo", "getMmaps", "getThreadInfo", "getExeInfo"):
        assert r[k][0] == "ok", (k, r)


def test_threads_and_forks(tmp_path):
    p = run(tmp_path, """
        const seen = {};
        accessors.AddHookBefore("getppid", function () {
            seen[this.tid] = (seen[this.tid] || 0) + 1;
            if (this.mode !== "notify") accessors.print("BAD " + this.mode);
        }, {mode: "notify"});
        accessors.AddHookBefore("exit_group", function () {
            accessors.print("T " + Object.keys(seen).length + " " +
                            Object.values(seen).reduce((a, b) => a + b, 0));
        });
        """, [helper("proc_threads"), "8", "200"])
    assert p.returncode == 0, p.stderr
    assert "threads 8 calls 1600" in p.stdout, p.stdout
    assert "BAD" not in p.stderr
    threads, total = map(int, tagged(p.stderr, "T")[-1].split())
    assert threads >= 8 and total >= 1600, p.stderr  # the main thread may call too
    # fork: the children inherit the filter, the one listener serves them all
    p = run(tmp_path, """
        const per = {};
        accessors.AddHookBefore("getppid", function () {
            per[this.pid] = (per[this.pid] || 0) + 1;
            accessors.print("P " + this.pid + " " + per[this.pid] + " " + this.mode);
        }, {mode: "notify"});
        """, [helper("proc_chain"), "fork"])
    pids = dict(re.findall(r"^(\w+) pid (\d+)$", p.stdout, re.M))
    counts = {}
    for pid, n, mode in (x.split() for x in tagged(p.stderr, "P")):
        assert mode == "notify"
        counts[pid] = int(n)
    assert sorted(counts.values()) == [2, 3, 4], (counts, p.stdout, p.stderr)
    assert set(counts) == set(pids.values()), (counts, pids)


def test_mixed_with_ptrace_hooks_and_logging(tmp_path):
    log = tmp_path / "log.jsonl"
    p = run(tmp_path, """
        accessors.AddHookBefore("getppid", function () {
            accessors.print("G " + this.mode);
            return {ret: 5, errno: 0};
        }, {mode: "notify"});
        accessors.AddHookBefore("write", function (fd) {
            accessors.print("W " + this.mode);
            if (fd === 1) return {0: 2};  // a ptrace hook may change arguments
        });
        accessors.AddHookBefore("getpid", function () {
            accessors.print("L " + this.mode);  // logged: served at a ptrace stop
        }, {mode: "notify"});
        """, [PYTHON, "-c", "import os\nos.getppid()\nos.getpid()\nprint('out')"],
        opts=["-e", "trace=write,getpid", "-o", str(log)])
    assert p.returncode == 0, p.stderr
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    prints = "\n".join(r["text"] for r in recs if r["type"] == "print")  # with -o
    assert tagged(prints, "G") == ["notify"]
    assert set(tagged(prints, "W")) == {"ptrace"}
    assert tagged(prints, "L") == ["ptrace"]
    assert "out" in p.stderr and "out" not in p.stdout  # the write went to fd 2
    names = [r.get("name") for r in recs if r["type"] == "syscall"]
    assert "write" in names and "getpid" in names and "getppid" not in names


def test_hooks_added_at_run_time(tmp_path):
    """Through the control socket: a ptrace hook cannot join a syscall served by
    notification; a notify hook on it is served so; one on another syscall
    stops the program (ptrace) but keeps notify rules."""
    from test_control import Line, Sandbox
    go = tmp_path / "go"
    (tmp_path / "hooks.js").write_text(
        'accessors.AddHookBefore("getppid", function (a0) {'
        ' accessors.print("A " + this.mode + " " + a0); }, {mode: "notify"});\n')
    s = Sandbox(["-s", str(tmp_path / "hooks.js"), "--", helper("fast_calls"), "g:1",
                 f"wait:{go}", "g:2", "w:2:x\n"], tmp_path)
    try:
        assert s.wait_stdout("waiting"), s.stdout()
        ln = Line(s)
        a = ln.ask({"type": "change-state", "payload": {
            "source": 'accessors.AddHookBefore("getppid", () => {})'}})
        assert a["type"] == "error", a
        assert "served by seccomp notification" in json.dumps(a)
        for src in [
            'accessors.AddHookBefore("getppid", function (a0) {'
            ' accessors.print("B " + this.mode + " " + a0); }, {mode: "notify"})',
            'accessors.AddHookBefore("write", function (fd) {'
            ' accessors.print("W " + this.mode + " " + fd); return {ret: -1, errno: 1}; },'
            ' {mode: "notify", args: {0: 2}})',
        ]:
            a = ln.ask({"type": "change-state", "payload": {"source": src}})
            assert a["type"] == "ok", a
        a = ln.ask({"type": "current-hooks"})
        assert [(h["name"], h["mode"]) for h in a["payload"]] == [
            ("write", "notify"), ("getppid", "notify"), ("getppid", "notify")], a
        from test_control import ctl
        assert ctl(s, "hooks").stdout.count("before/notify") == 3
        go.touch()
        assert s.wait(20) == 0
        err = "".join(s.err_lines)
        assert tagged(err, "A") == ["notify 1", "notify 2"]
        assert tagged(err, "B") == ["notify 2"]
        assert tagged(err, "W") == ["ptrace 2"]
        assert "write ret=-1" in s.stdout()
    finally:
        s.close()


def test_injected_calls_are_not_notified(tmp_path):
    """A ptrace hook that runs a syscall in the program (anonMmap: mmap) while
    mmap itself is served by notification: no deadlock, and the notify hook does
    not see the injected call."""
    p = run(tmp_path, """
        accessors.AddHookBefore("mmap", function () {
            accessors.print("M " + this.mode);
        }, {mode: "notify"});
        accessors.AddHookBefore("getppid", function () {
            const a = accessors.anonMmap(4096);
            accessors.print("A " + (a > 0));
            accessors.munmap(a, 4096);
        });
        """, fast("g:1", "g:2"), timeout=30)
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "A") == ["true", "true"]
    assert set(tagged(p.stderr, "M")) <= {"notify"}
    assert len(results(p.stdout)) == 2


def test_config_file_mode(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"callbacks": [
        {"sysno": "getppid", "type": "before", "mode": "notify", "args": {"0": 7},
         "source": "(function (a0) { accessors.print('A ' + this.mode + ' ' + a0);"
                   " return {ret: -1, errno: 1}; })"},
    ]}))
    p = subprocess.run([JVISOR, "run", "-c", str(cfg), "--", *fast("g:7", "g:8")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "A") == ["notify 7"]
    r = results(p.stdout)
    assert r[0] == -1 and r[1] > 1, r
    for mode, phase, msg in [("fast", "before", 'callbacks[0].mode must be "ptrace", "notify" or "observe"'),
                             ("notify", "after", "notify mode has no after-hooks")]:
        cfg.write_text(json.dumps({"callbacks": [
            {"sysno": "getppid", "type": phase, "mode": mode, "source": "(function () {})"}]}))
        p = subprocess.run([JVISOR, "run", "-c", str(cfg), "--", *fast("g:7")],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and msg in p.stderr, p.stderr


def test_signals_during_notification_waits(tmp_path):
    """Python's handlers have no SA_RESTART: a signal that takes a call out of
    its notification wait must not make getppid fail with EINTR (-4), and a
    received call's hook runs once."""
    prog = ("import os, signal\n"
            "n = [0]\n"
            "def h(s, f): n[0] += 1\n"
            "signal.signal(signal.SIGALRM, h)\n"
            "signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)\n"
            "bad = [v for v in (os.getppid() for i in range(20000)) if v != 4242]\n"
            "signal.setitimer(signal.ITIMER_REAL, 0, 0)\n"
            "print('signals', n[0], 'bad', bad[:5], len(bad))\n")
    p = run(tmp_path, """
        let c = 0;
        accessors.AddHookBefore("getppid", function () {
            c++;
            return {ret: 4242, errno: 0};
        }, {mode: "notify"});
        accessors.AddHookBefore("exit_group", function () { accessors.print("calls " + c); });
        """, [PYTHON, "-c", prog])
    assert p.returncode == 0, p.stderr
    m = re.search(r"signals (\d+) bad \[\] 0", p.stdout)
    assert m and int(m.group(1)) > 0, p.stdout
    calls = int(tagged(p.stderr, "calls")[0])
    # Before Linux 5.19 (no WAIT_KILLABLE_RECV) a signal may also interrupt a
    # received call: its hook then runs again when the call is restarted.
    kernel = tuple(int(x) for x in re.findall(r"\d+", os.uname().release)[:2])
    assert calls == 20000 if kernel >= (5, 19) else calls >= 20000, p.stderr


def test_program_listener_of_its_own(tmp_path):
    """The default policy denies a program's own listener; without the policy
    the kernel refuses a second listener (EBUSY) only while jvisor has one."""
    notify = 'accessors.AddHookBefore("getppid", () => {}, {mode: "notify"});'
    ptrace = 'accessors.AddHookBefore("getppid", () => {});'
    none = tmp_path / "none.json"
    none.write_text('{"base": "none"}')
    for js, opts, want in [(notify, [], "-1"), (notify, ["--policy", str(none)], "-16"),
                           (ptrace, ["--policy", str(none)], "3")]:
        p = run(tmp_path, js, fast("listen"), opts=opts)
        assert p.returncode == 0, p.stderr
        ret = re.search(r"^listen ret=(-?\d+)$", p.stdout, re.M).group(1)
        assert ret == want or (want == "3" and int(ret) >= 3), (opts, p.stdout, p.stderr)


def test_i386_calls(tmp_path):
    """int 0x80 calls of a notify-served syscall are notified too (abi "i386");
    with an argument filter they stop at a ptrace stop (libseccomp compares
    only low halves there) and the tracer applies the filter."""
    js = """
        accessors.AddHookBefore("getppid", function (a0) {
            accessors.print("H " + this.mode + " " + this.abi + " " + a0);
            return {ret: 77, errno: 0};
        }, {mode: "notify"%s});
        """
    p = run(tmp_path, js % "", fast("i:5", "g:6"))
    if "getppid32 ret=-38" in p.stdout:
        pytest.skip("no i386 emulation")
    assert p.returncode == 0, p.stderr
    assert tagged(p.stderr, "H") == ["notify i386 5", "notify x86_64 6"]
    assert p.stdout.count("ret=77") == 2
    p = run(tmp_path, js % ", args: {0: 5}", fast("i:5", "i:6", "g:5", "g:6"))
    assert tagged(p.stderr, "H") == ["ptrace i386 5", "notify x86_64 5"]
    assert p.stdout.count("ret=77") == 2


@pytest.mark.parametrize("outer", ["before", "after", "notify"])
def test_hook_added_by_a_hook_sees_the_very_next_call(tmp_path, outer):
    """A hook that registers a hook for a syscall nothing trapped: the filter
    grows before the program goes on, so its next call is already hooked
    (every write of fast_calls, the report of the getppid call included)."""
    api = "AddHookAfter" if outer == "after" else "AddHookBefore"
    opts = ', {mode: "notify"}' if outer == "notify" else ""
    js = f"""
        let added = false;
        accessors.{api}("getppid", function () {{
            if (added) return;
            added = true;
            accessors.AddHookBefore("write", function (fd, buf, n) {{
                accessors.print("W " + accessors.readString(buf, Number(n)).trim());
            }});
        }}{opts});
        """
    p = run(tmp_path, js, fast("g:1", "w:1:x\n", "w:1:y\n"))
    assert p.returncode == 0, p.stderr
    w = tagged(p.stderr, "W")
    assert w[0].startswith("getppid ret=") and w[1:] == ["x", "write ret=2", "y",
                                                          "write ret=2"], w


def test_with_isolate(tmp_path):
    """Inside --isolate's namespaces: the program is pid 2 there, and the hooks
    see its pid as jvisor sees it (the notification's pid is translated)."""
    hooks = tmp_path / "h.js"
    hooks.write_text(
        'accessors.AddHookBefore("getppid", function () {'
        ' accessors.print("P " + this.pid + " " + this.tid + " " + this.mode);'
        ' return {ret: 4242, errno: 0}; }, {mode: "notify"});\n')
    r = jvisor_run(["--isolate", "-s", str(hooks), "--", PYTHON, "-c",
                    "import os; print(os.getpid(), os.getppid())"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["2", "4242"], r.stdout
    pid, tid, mode = tagged(r.stderr, "P")[0].split()
    assert pid == tid and int(pid) > 2 and mode == "notify", r.stderr
