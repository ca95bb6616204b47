"""The accessor API (issue 3): every accessor checked against a program whose
truth is known (tests/helpers/acc_truth.c).

Each test runs acc_truth under jvisor with a hook on getppid (the helper calls
it once, at a settled moment) that prints `RESULT key json` lines; the test
compares them with the `TRUTH {json}` line the helper printed itself.
"""
import hashlib
import json
import os
import re
import signal

from conftest import helper, jvisor_run

PRELUDE = r"""
const A = accessors;
function out(k, v) {
    A.print("RESULT " + k + " " +
            JSON.stringify(v, (key, x) => typeof x === "bigint" ? x.toString() : x));
}
function err(f) {
    try { f(); return null; }
    catch (e) { return { code: e.code, errno: e.errno, message: String(e.message) }; }
}
"""


def hook_on_getppid(body):
    return PRELUDE + 'A.AddHookBefore("getppid", function (a0) {\n' + body + "\n});\n"


def results(stderr):
    """{key: value} of the RESULT lines (the last one of a key wins)."""
    r = {}
    for line in stderr.splitlines():
        m = re.match(r"RESULT (\S+) (.*)$", line)
        if m:
            r[m.group(1)] = json.loads(m.group(2))
    return r


def truth_of(stdout):
    m = re.search(r"^TRUTH (\{.*\})$", stdout, re.M)
    assert m, f"no TRUTH line in:\n{stdout}"
    return json.loads(m.group(1))


def run_truth(tmp_path, body, extra=()):
    """Run `acc_truth truth FILE` with body as the getppid hook."""
    f = tmp_path / "appended.txt"
    p = jvisor_run([*extra, "--", helper("acc_truth"), "truth", str(f)],
                   hooks=hook_on_getppid(body), tmp_path=tmp_path, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "hook error" not in p.stderr, p.stderr
    return truth_of(p.stdout), results(p.stderr), p


def test_fds(tmp_path):
    t, r, _ = run_truth(tmp_path, """
        out("fd10", A.getFdInfo(10));
        const fi = A.getFdInfo(10);
        out("alias", [fi.Fd, fi.Name, fi.Mode, fi.Flags, fi.Nlinks, fi.Readble, fi.readble,
                      fi.Readable, fi.Writable, Object.keys(fi).includes("Fd")]);
        out("all", A.getFdsInfo());
        out("bad", err(() => A.getFdInfo(999)));
        out("badarg", err(() => A.getFdInfo("x")));
    """)
    f10 = r["fd10"]
    assert f10["fd"] == 10
    assert f10["name"] == t["file"]
    assert f10["flags"] == "O_WRONLY|O_APPEND|O_CLOEXEC"
    assert f10["mode"] == "rw-r-----"  # 0666 & ~027
    assert f10["pos"] == 5
    assert (f10["readable"], f10["writable"]) == (False, True)
    assert f10["nlinks"] == 1 and f10["type"] == "file"
    assert r["alias"] == [10, t["file"], "rw-r-----", "O_WRONLY|O_APPEND|O_CLOEXEC", 1,
                          False, False, False, True, False]
    fds = {f["fd"]: f for f in r["all"]}
    assert fds[10] == f10
    assert fds[11]["type"] == fds[12]["type"] == "pipe"
    assert fds[11]["name"] == fds[12]["name"] and fds[11]["name"].startswith("pipe:[")
    assert (fds[11]["flags"], fds[11]["readable"], fds[11]["writable"]) == ("O_RDONLY", True, False)
    assert (fds[12]["flags"], fds[12]["readable"], fds[12]["writable"]) == ("O_WRONLY", False, True)
    port, cport = t["port"], t["client_port"]
    assert fds[13]["type"] == "socket"
    assert fds[13]["socket"] == {"family": "inet", "protocol": "tcp",
                                 "localAddress": f"127.0.0.1:{port}",
                                 "remoteAddress": "0.0.0.0:0", "state": "LISTEN"}
    assert fds[14]["socket"]["localAddress"] == f"127.0.0.1:{cport}"
    assert fds[14]["socket"]["remoteAddress"] == f"127.0.0.1:{port}"
    assert fds[14]["socket"]["state"] == "ESTABLISHED"
    assert fds[15]["socket"]["remoteAddress"] == f"127.0.0.1:{cport}"
    assert fds[13]["flags"] == "O_RDWR" and fds[13]["readable"] and fds[13]["writable"]
    assert r["bad"]["code"] == "EBADF" and r["bad"]["errno"] == 9
    assert r["badarg"]["code"] == "EINVAL"


def test_ids_threads_session(tmp_path):
    t, r, _ = run_truth(tmp_path, """
        const p = A.getPidInfo();
        out("pid", p);
        out("alias", [p.Session.SessionID, p.Session.PGID, p.Session.ForegroundID,
                      p.Session.OtherPGIDs, Object.keys(p.session)]);
        out("thr", A.getThreadInfo());
        out("outside", err(() => A.getThreadInfo(1)));
        out("args", A.getArgv());
        out("cwd", A.getCwd());
    """)
    p = r["pid"]
    assert p["PID"] == t["pid"] and p["TID"] == t["pid"]
    assert (p["UID"], p["GID"]) == (t["uid"], t["gid"])
    assert (p["EUID"], p["EGID"]) == (t["uid"], t["gid"])
    s = p["session"]
    assert s["sessionID"] == t["sid"] and s["PGID"] == t["pgid"]
    assert s["otherPGIDs"] == [t["child"]]
    assert s["foregroundID"] == -1  # setsid(): no controlling terminal
    assert r["alias"][:4] == [s["sessionID"], s["PGID"], s["foregroundID"], s["otherPGIDs"]]
    assert r["alias"][4] == ["sessionID", "PGID", "foregroundID", "otherPGIDs"]
    th = r["thr"]
    assert th["TID"] == t["pid"] and th["TGID"] == t["pid"]
    assert th["TIDsInTg"] == sorted(t["tids"]) and len(th["TIDsInTg"]) == 4
    assert r["outside"]["code"] == "ESRCH"
    assert r["args"] == [helper("acc_truth"), "truth", t["file"]]
    assert r["cwd"] == t["cwd"]


def test_thread_info_of_another_thread(tmp_path):
    # The hook learns the waiter's tid from getppid's argument (acc_truth passes it:
    # pids wrap, so the smallest tid need not be the first thread created).
    t, r, _ = run_truth(tmp_path, """
        const w = a0;
        out("waiter", A.getThreadInfo(w));
        out("sig", A.getSignalInfo(w));
        out("nice", A.getNice(w));
    """)
    assert r["waiter"]["TID"] == t["waiter"] and r["waiter"]["TGID"] == t["pid"]
    s = r["sig"]
    assert s["waiting"] is True
    assert s["signalWaitMask"] == 1 << (signal.SIGUSR2 - 1)
    assert r["nice"] == 5


def test_signals(tmp_path):
    t, r, p = run_truth(tmp_path, """
        const s = A.getSignalInfo();
        out("sig", s);
        out("alias", [s.SignalMask, s.SignalWaitMask, s.SavedSignalMask, s.Sigactions.length,
                      s.sigactions.map(x => [x.Name, x.Handler, x.Flags, x.Restorer, x.SignalsInSet])]);
        out("names", A.signalMaskToNames(s.signalMask));
        out("n2s", ["SIGUSR1", "usr2", "SIGKILL", "SIGRTMIN", "SIGRTMIN+2", "SIGRTMAX",
                    "SIGIOT", "NOPE", "SIGRTMIN+40"].map(A.nameToSignal));
        out("n2s_err", err(() => A.nameToSignal(10)));
        out("m2n", [A.signalMaskToNames(0), A.signalMaskToNames(0x202),
                    A.signalMaskToNames(0x8000000000000000n)]);
        A.sendSignal(a0, "SIGUSR2");  // the waiter
        out("send_outside", err(() => A.sendSignal(1, 0)));
        out("send_bad", err(() => A.sendSignal(this.tid, 99)));
    """)
    s = r["sig"]
    usr2 = 1 << (signal.SIGUSR2 - 1)
    assert s["signalMask"] == usr2 and s["waiting"] is False
    assert s["savedSignalMask"] == usr2
    acts = {a["name"]: a for a in s["sigactions"]}
    u1 = acts["SIGUSR1"]
    assert u1["signal"] == 10 and int(u1["handler"], 16) == int(t["handler"], 16)
    flags = u1["flags"].split("|")
    assert "SA_SIGINFO" in flags and "SA_RESTART" in flags
    assert u1["signalsInSet"] == ["SIGINT"] and u1["restorer"] != 0
    assert acts["SIGHUP"]["handler"] == "SIG_IGN"
    assert "SIGUSR2" not in acts and "SIGTERM" not in acts
    assert r["alias"][:3] == [usr2, 0, usr2]
    assert r["alias"][3] == len(s["sigactions"])
    assert [u1["name"], u1["handler"], u1["flags"], u1["restorer"], u1["signalsInSet"]] \
        in r["alias"][4]
    assert r["names"] == ["SIGUSR2"]
    assert r["n2s"] == [10, 12, 9, 32, 34, 64, 6, -1, -1]
    assert r["n2s_err"]["code"] == "EINVAL"
    assert r["m2n"] == [[], ["SIGINT", "SIGUSR1"], ["SIGRTMAX"]]
    assert r["send_outside"]["code"] == "ESRCH"
    assert r["send_bad"]["code"] == "EINVAL"
    # sendSignal reached the thread waiting in sigwaitinfo
    assert "after waiter=1 sig=12" in p.stdout, p.stdout


def test_process_controls(tmp_path):
    t, r, p = run_truth(tmp_path, """
        out("nice", A.getNice());
        out("umask", A.getUmask());
        out("old_umask", A.setUmask(0, 0o077));
        out("umask2", A.getUmask(this.pid));
        A.setNice(this.pid, 7);
        out("nice2", A.getNice());
        out("nice_bad", err(() => A.setNice(this.pid, 42)));
        const child = A.getPidInfo().session.otherPGIDs[0];
        out("kill0", A.kill(child, 0));
        out("killgroup", A.killGroup(child, "SIGTERM"));
        out("kill_outside", err(() => A.kill(A.getPidInfo().PPID, 0)));
        out("killgroup_outside", err(() => A.killGroup(1, 0)));
        out("kill_neg", err(() => A.kill(-1, 9)));
        out("kill_usr1", A.kill(this.pid, "SIGUSR1"));
    """)
    assert r["nice"] == 5 and r["umask"] == 0o27
    assert r["old_umask"] == 0o27 and r["umask2"] == 0o77
    assert r["nice2"] == 7
    assert r["nice_bad"]["code"] == "EINVAL"
    assert r["killgroup"] == 1
    assert r["kill_outside"]["code"] == "ESRCH"
    assert r["killgroup_outside"]["code"] == "ESRCH"
    assert r["kill_neg"]["code"] == "EINVAL"
    assert "after getppid=" in p.stdout
    assert re.search(r"after getppid=\d+ umask=077 nice=7", p.stdout), p.stdout
    assert "after child=signal15" in p.stdout
    assert "usr1=1" in p.stdout


def test_exe_info_and_maps(tmp_path):
    t, r, _ = run_truth(tmp_path, """
        const x = A.getExeInfo();
        out("exe", x);
        out("alias", [x.Path, x.Sha256, Object.keys(x).includes("Path")]);
        const m = A.getMmaps();
        out("maps", m);
        out("alias_m", [m[0].Start, m[0].End, m[0].Writeable, m[0].Path, m[0].DevMajor]);
        out("text", A.getMmaps({text: true}));
        out("text2", A.getMmapsText());
    """)
    x = r["exe"]
    exe = t["exe"]
    st = os.stat(exe)
    assert x["path"] == exe
    assert x["sha256"] == hashlib.sha256(open(exe, "rb").read()).hexdigest()
    assert (x["size"], x["inode"], x["dev"]) == (st.st_size, st.st_ino, st.st_dev)
    assert x["mode"] == "rwxr-xr-x" and x["mtime"] == int(st.st_mtime)
    assert x["linkage"] == "dynamic" and x["static"] is False
    assert x["interpreter"].endswith("ld-linux-x86-64.so.2")
    assert r["alias"] == [exe, x["sha256"], False]
    maps = r["maps"]
    lines = r["text"].strip().splitlines()
    assert r["text2"] == r["text"] and len(lines) == len(maps)
    mine = [m for m in maps if m["path"] == exe]
    assert any(m["executable"] and not m["writable"] for m in mine)
    first = lines[0].split()
    assert "%x-%x" % (maps[0]["start"], maps[0]["end"]) == first[0]
    assert r["alias_m"][:3] == [maps[0]["start"], maps[0]["end"], maps[0]["writable"]]
    assert any(m["path"] == "[stack]" for m in maps)


def test_static_exe(tmp_path):
    static = helper("acc_static-static")
    p = jvisor_run(["--", static], hooks=PRELUDE + """
        A.AddHookBefore("getppid", function () { out("exe", A.getExeInfo()); });
    """, tmp_path=tmp_path, timeout=30)
    x = results(p.stderr)["exe"]
    assert x["linkage"] == "static" and x["interpreter"] is None, p.stderr
    assert x["sha256"] == hashlib.sha256(open(static, "rb").read()).hexdigest()


def test_env_after_execve(tmp_path):
    p = jvisor_run(["--", helper("acc_truth"), "exec"],
                   hooks=hook_on_getppid('out("env", A.getEnvs()); out("argv", A.getArgv());'),
                   tmp_path=tmp_path, timeout=30)
    assert p.returncode == 0, p.stderr
    r = results(p.stderr)
    assert "ACC_FOO=bar" in r["env"]
    assert r["argv"][1:] == ["env", "one", "two"]


def test_anon_mmap_write_and_munmap(tmp_path):
    hooks = PRELUDE + r"""
    A.AddHookBefore("write", function (fd, buf, n) {
        if (fd !== 1) return;
        const addr = A.anonMmap(4096);
        persistence.glb.addr = addr;
        const w = A.writeString(addr, "injected by the hook\n");
        out("mmap", {w, back: A.readString(addr, 100),
                     map: A.getMmaps().filter(m => m.start <= addr && addr < m.end)[0]});
        return {1: addr, 2: w};
    });
    A.AddHookAfter("write", function (fd) {
        if (fd !== 1 || !persistence.glb.addr) return;
        A.munmap(persistence.glb.addr, 4096);
        out("after", err(() => A.readBytes(persistence.glb.addr, 1)));
        persistence.glb.addr = 0;
    });
    """
    p = jvisor_run(["--", helper("acc_truth"), "write"], hooks=hooks, tmp_path=tmp_path,
                   timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "injected by the hook\n"
    r = results(p.stderr)
    assert r["mmap"]["w"] == 21 and r["mmap"]["back"] == "injected by the hook\n"
    m = r["mmap"]["map"]
    assert m["readable"] and m["writable"] and m["private"] and not m["executable"]
    assert m["path"] == ""
    assert r["after"]["code"] == "EFAULT"


def test_write_string_into_readonly_page(tmp_path):
    hooks = PRELUDE + r"""
    A.AddHookBefore("write", function (fd, buf, n) {
        if (fd !== 1 || A.readString(buf, 17) !== "readonly-original") return;
        const map = A.getMmaps().filter(m => m.start <= buf && buf < m.end)[0];
        out("ro", {writable: map.writable, n: A.writeString(buf, "READONLY")});
        out("nul", A.writeString(buf + 8, "-X", {nul: true}));
        out("bytes", A.writeBytes(buf + 8, [0x2d]));
        out("back", A.readString(buf, 64));
        out("raw", Array.from(new Uint8Array(A.readBytes(buf, 4))));
    });
    """
    p = jvisor_run(["--", helper("acc_truth"), "ro"], hooks=hooks, tmp_path=tmp_path,
                   timeout=30)
    assert p.returncode == 0, p.stderr
    r = results(p.stderr)
    assert r["ro"] == {"writable": False, "n": 8}
    assert r["nul"] == 3 and r["bytes"] == 1
    assert r["back"] == "READONLY-X"
    assert r["raw"] == list(b"READ")
    # the write saw the change; the static string stays changed
    assert p.stdout.startswith("READONLY-X\0")
    assert "ro now: READONLY-X" in p.stdout


def test_read_string_bytes_that_are_not_utf8(tmp_path):
    hooks = PRELUDE + r"""
    A.AddHookBefore("write", function (fd) {
        if (fd !== 1) return;
        const p = A.anonMmap(4096);
        A.writeBytes(p, [0x41, 0xff, 0x42, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0, 0x43]);
        out("s", [A.readString(p), A.readString(p, 2), A.readString(p + 10, 1)]);
        A.munmap(p, 4096);
    });
    """
    p = jvisor_run(["--", helper("acc_truth"), "write"], hooks=hooks, tmp_path=tmp_path,
                   timeout=30)
    assert p.returncode == 0, p.stderr
    assert results(p.stderr)["s"] == ["A\ufffdB\u00e9\U0001f600", "A\ufffd", "C"]


def test_bad_pointers(tmp_path):
    hooks = PRELUDE + r"""
    A.AddHookBefore("write", function (fd) {
        if (fd !== 1) return;
        const bad = [0, 8, 0xfffffffffffff000n, 0x7ffffffff000];
        out("errs", bad.map(a => [
            err(() => A.readBytes(a, 4)), err(() => A.readString(a, 10)),
            err(() => A.writeBytes(a, new Uint8Array([1, 2]))), err(() => A.writeString(a, "x")),
        ]).flat().map(e => e && [e.code, e.errno]));
        out("args", [err(() => A.readBytes()), err(() => A.readBytes(NaN, 1)),
                     err(() => A.writeBytes(4096, {}))].map(e => e && e.code));
        out("zero", A.readBytes(0, 0).byteLength);
    });
    """
    p = jvisor_run(["--", helper("acc_truth"), "write"], hooks=hooks, tmp_path=tmp_path,
                   timeout=30)
    assert p.returncode == 0 and p.stdout == "original\n", p.stderr
    r = results(p.stderr)
    assert r["errs"] == [["EFAULT", 14]] * 16
    assert r["args"] == ["EINVAL", "EINVAL", "EINVAL"]
    assert r["zero"] == 0


def test_process_exits_while_hook_runs(tmp_path):
    hooks = PRELUDE + r"""
    A.AddHookBefore("getppid", function (a0) {
        const first = new DataView(A.readBytes(a0, 8)).getUint32(0, true);
        let e = null;
        const end = Date.now() + 4000;
        while (!e && Date.now() < end) e = err(() => A.readBytes(a0, 8));
        out("gone", {first, read: e && e.code,
                     others: [err(() => A.writeBytes(a0, [1])), err(() => A.readString(a0)),
                              err(() => A.getMmaps()), err(() => A.anonMmap(4096)),
                              err(() => A.getSignalInfo()), err(() => A.getArgv()),
                              err(() => A.setUmask(0, 0o22))].map(x => x && x.code)});
        // whatever else it is asked, it answers or says ESRCH (the exit is under way)
        for (const f of ["getEnvs", "getCwd", "getFdsInfo", "getPidInfo", "getThreadInfo",
                         "getExeInfo", "getNice", "getUmask", "getMmapsText"]) {
            const x = err(() => A[f]());
            if (x && x.code !== "ESRCH") out("unexpected", [f, x]);
        }
    });
    """
    p = jvisor_run(["--hook-timeout", "8000", "--", helper("acc_truth"), "exit"], hooks=hooks,
                   tmp_path=tmp_path, timeout=30)
    assert p.returncode == 3, p.stderr
    r = results(p.stderr)
    assert r["gone"]["first"] == 42 and r["gone"]["read"] == "ESRCH", p.stderr
    assert r["gone"]["others"] == ["ESRCH"] * 7, r
    assert "unexpected" not in r, r


STOP_HOOK = r"""
A.AddHookBefore("getppid", function (a0) {
    const rd = () => new DataView(A.readBytes(a0, 8)).getBigUint64(0, true);
    const spin = ms => { const end = Date.now() + ms; while (Date.now() < end); };
    %s
    const v1 = rd(); spin(30); const v2 = rd();
    const n = A.resumeThreads();
    spin(30); const v3 = rd();
    out("stop", {stopped, n, frozen: v1 === v2, moved: v3 !== v2});
});
"""


def test_stop_threads_freezes_siblings(tmp_path):
    p = jvisor_run(["--", helper("acc_truth"), "stop"],
                   hooks=PRELUDE + STOP_HOOK % "const stopped = A.stopThreads();",
                   tmp_path=tmp_path, timeout=30)
    assert p.returncode == 0 and "stop done" in p.stdout, p.stderr
    assert results(p.stderr)["stop"] == {"stopped": 1, "n": 1, "frozen": True, "moved": True}


def test_without_stop_threads_the_buffer_changes(tmp_path):
    # The control: the same hook without stopThreads sees the sibling write.
    p = jvisor_run(["--", helper("acc_truth"), "stop"],
                   hooks=PRELUDE + STOP_HOOK % "const stopped = 0;",
                   tmp_path=tmp_path, timeout=30)
    assert p.returncode == 0, p.stderr
    assert results(p.stderr)["stop"]["frozen"] is False


def test_stop_threads_blocking_syscalls_resume(tmp_path):
    # Threads blocked in read() and sigwaitinfo() go back into them: the waiter
    # still gets the SIGUSR2 sent after resumeThreads, the readers their bytes.
    t, r, p = run_truth(tmp_path, """
        out("stopped", A.stopThreads());
        const tids = A.getThreadInfo().TIDsInTg.filter(x => x !== this.tid);
        out("states", tids.map(x => A.getSignalInfo(x).waiting));
        out("resumed", A.resumeThreads());
        A.sendSignal(a0, "SIGUSR2");  // the waiter
    """)
    assert r["stopped"] == 3 and r["resumed"] == 3
    assert "after waiter=1 sig=12" in p.stdout, p.stdout


def test_stop_threads_auto_resume(tmp_path):
    # A hook that forgets resumeThreads: the threads go on after the hook.
    t, r, p = run_truth(tmp_path, 'out("stopped", A.stopThreads());')
    assert r["stopped"] == 3
    assert "after waiter=0" in p.stdout  # nobody sent SIGUSR2: it was still waiting
    assert "after child=exit0" in p.stdout


def test_stop_threads_storm(tmp_path):
    # Every hook call of 4 busy threads stops and resumes its siblings, which
    # are often in a hook stop of their own: no call is lost or doubled.
    hooks = PRELUDE + r"""
    A.AddHookBefore("getppid", function () {
        const g = persistence.glb;
        g.calls = (g.calls || 0) + 1;
        g.stopped = (g.stopped || 0) + A.stopThreads();
        if (g.calls % 3) A.resumeThreads();
    });
    A.AddHookBefore("exit_group", function () {
        out("storm", persistence.glb);
    });
    """
    p = jvisor_run(["--", helper("acc_truth"), "storm", "100"], hooks=hooks, tmp_path=tmp_path,
                   timeout=60)
    assert p.returncode == 0, p.stderr
    assert "storm 400" in p.stdout
    r = results(p.stderr)["storm"]
    assert r["calls"] == 401 and r["stopped"] > 0, r  # + the getppid() of main


def test_stop_threads_with_a_vfork_parent(tmp_path):
    # The main thread waits in vfork for a child that waits for this very loop
    # (its getppid stop comes while the sibling's hook runs): stopThreads must
    # not wait for it forever.
    hooks = PRELUDE + r"""
    A.AddHookBefore("getppid", function (a0) {
        if (a0 !== 1) return;
        const end = Date.now() + 300; while (Date.now() < end);
        const t = Date.now();
        out("vfork", {stopped: A.stopThreads(), ms: Date.now() - t});
        A.resumeThreads();
    });
    """
    p = jvisor_run(["--hook-timeout", "5000", "--", helper("acc_truth"), "vfork"], hooks=hooks,
                   tmp_path=tmp_path, timeout=30)
    assert p.returncode == 0 and "vfork done" in p.stdout, p.stderr
    r = results(p.stderr)["vfork"]
    assert r["stopped"] == 1 and r["ms"] < 2000, r


def test_outside_hook_needs_pid(tmp_path):
    hooks = PRELUDE + r"""
    out("load", [err(() => A.getArgv()), err(() => A.stopThreads())].map(e => e && e.message));
    out("pure", [A.nameToSignal("SIGTERM"), A.signalMaskToNames(1)]);
    A.AddHookBefore("getppid", function () {});
    """
    p = jvisor_run(["--", helper("acc_truth"), "env"], hooks=hooks, tmp_path=tmp_path,
                   timeout=30)
    assert p.returncode == 0, p.stderr
    r = results(p.stderr)
    assert "a pid is needed" in r["load"][0] and "from a hook" in r["load"][1]
    assert r["pure"] == [15, ["SIGHUP"]]


def test_log_json(tmp_path):
    p = jvisor_run(["--", helper("acc_truth"), "env"], hooks=hook_on_getppid(
        'A.logJson({a: 1, s: "x"}); A.logJson("str"); A.logJson(undefined);'),
        tmp_path=tmp_path, timeout=30)
    recs = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
    vals = [r["value"] for r in recs if r.get("type") == "log"]
    assert vals == [{"a": 1, "s": "x"}, "str", None], p.stderr


def test_accessor_costs(tmp_path):
    """ns per call of readBytes(4 KiB) and getFdInfo inside a hook (printed with -s)."""
    hooks = PRELUDE + r"""
    A.AddHookBefore("getppid", function (a0) {
        if (persistence.glb.done) return;
        persistence.glb.done = true;
        const N = 2000;
        let t = Date.now();
        for (let i = 0; i < N; i++) A.readBytes(a0, 4096);
        const rb = (Date.now() - t) * 1e6 / N;
        t = Date.now();
        for (let i = 0; i < N; i++) A.getFdInfo(1);
        const fi = (Date.now() - t) * 1e6 / N;
        out("bench", {readBytes4k: rb, getFdInfo: fi});
    });
    """
    p = jvisor_run(["--hook-timeout", "20000", "--", helper("acc_truth"), "loop", "3"],
                   hooks=hooks, tmp_path=tmp_path, timeout=60)
    assert p.returncode == 0, p.stderr
    b = results(p.stderr)["bench"]
    print(f"\naccessor cost: readBytes 4 KiB {b['readBytes4k']:.0f} ns/call, "
          f"getFdInfo {b['getFdInfo']:.0f} ns/call")
    assert b["readBytes4k"] < 1e6 and b["getFdInfo"] < 5e6
