"""The bundled examples of examples/: each demo script and the behaviour its
hooks promise, checked against real programs (python3's http.server, curl,
/bin/pwd, cat)."""
import json
import os
import re
import socket
import subprocess
import textwrap
import time

import pytest

from conftest import JVISOR, PYTHON, ROOT, helper, jvisor_run, need
from test_bpf import bpf_usable

EXAMPLES = ROOT / "examples"
TIMEOUT = 20  # seconds, for any one program under jvisor


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_demo(name, *extra, env=None):
    """Run examples/NAME/run.sh with our jvisor; return the CompletedProcess."""
    return subprocess.run(
        [str(EXAMPLES / name / "run.sh"), JVISOR, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


# ---------------------------------------------------------------- bind-in-use

BIND_HOOKS = EXAMPLES / "bind-in-use" / "hooks.js"


def test_bind_in_use_demo():
    r = run_demo("bind-in-use")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK:" in r.stdout
    assert "Address already in use" in r.stdout


def test_bind_in_use_http_server_cannot_start():
    port = free_port()
    r = jvisor_run(
        ["-s", str(BIND_HOOKS), "--", PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        timeout=TIMEOUT,
    )
    assert r.returncode != 0
    assert "[Errno 98] Address already in use" in r.stderr
    assert re.search(r"^\[hook\] bind\(fd \d+\)", r.stderr, re.M), r.stderr
    # The port really was free: the failure came from the hook.
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_bind_in_use_only_bind_is_refused():
    """errno 98 reaches the program as is; socket(), listen() still work."""
    prog = (
        "import errno, socket\n"
        "s = socket.socket()\n"
        "try:\n"
        "    s.bind(('127.0.0.1', 0))\n"
        "except OSError as e:\n"
        "    print('bind', errno.errorcode[e.errno])\n"
        "s.listen()\n"
        "print('listen ok', s.getsockname()[1] > 0)\n"
    )
    r = jvisor_run(["-s", str(BIND_HOOKS), "--", PYTHON, "-c", prog], timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["bind EADDRINUSE", "listen ok True"]


# ----------------------------------------------------------------- net-sender

SENDER_HOOKS = EXAMPLES / "net-sender" / "hooks.js"


@pytest.fixture
def web_server(tmp_path):
    """python3 -m http.server on a free port (it picks port 0 and prints it),
    serving a directory of small files. Yields (port, access_log_path)."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "original").write_text("the ORIGINAL file\n")
    (www / "rewritten").write_text("the REWRITTEN file\n")
    (www / "secret.txt").write_text("a SECRET\n")
    (www / "public.txt").write_text("PUBLIC news\n")
    log = tmp_path / "access.log"
    out = tmp_path / "server.out"
    with open(log, "w") as err, open(out, "w") as so:
        p = subprocess.Popen(
            [PYTHON, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(www)],
            stdout=so,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 10
        port = None
        while port is None and time.monotonic() < deadline:
            m = re.search(r" port (\d+) ", out.read_text())
            if m:
                port = int(m.group(1))
            else:
                assert p.poll() is None, log.read_text()
                time.sleep(0.05)
        assert port, "http.server did not start"
        yield port, log
    finally:
        p.kill()
        p.wait()


def settings_js(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(text)
    return str(f)


# A client whose request lives in a bytearray: socket.send() hands the kernel
# a pointer into it, so an in-place rewrite that was not undone would show.
BUFFER_CLIENT = r"""
import json, socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
req = bytearray(("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
before = bytes(req)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
sent = s.send(req)
unchanged = bytes(req) == before
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(json.dumps({"sent": sent, "len": len(before), "unchanged": unchanged,
                  "buffer": req.decode(), "body": data.split(b"\r\n\r\n", 1)[1].decode()}))
"""


def buffer_client(tmp_path, port, path, hook_files):
    args = []
    for f in hook_files:
        args += ["-s", str(f)]
    r = jvisor_run(args + ["--", PYTHON, "-c", BUFFER_CLIENT, str(port), path], timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def requested(log):
    return re.findall(r'"GET (\S+) HTTP', log.read_text())


def test_net_sender_demo():
    r = run_demo("net-sender")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK:" in r.stdout


def test_net_sender_demo_python_client():
    env = dict(os.environ, CLIENT="python")
    r = run_demo("net-sender", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "urllib" in r.stdout


def test_net_sender_curl(web_server):
    need("curl")
    port, log = web_server
    r = jvisor_run(
        ["-s", str(SENDER_HOOKS), "--", "curl", "-sS", "--max-time", "10", f"http://127.0.0.1:{port}/original"],
        timeout=TIMEOUT,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "the REWRITTEN file\n"
    assert requested(log) == ["/rewritten"]
    assert "GET /original -> GET /rewritten" in r.stderr


def test_net_sender_longer_path_uses_a_copy(tmp_path, web_server):
    """/original -> /rewritten: the request goes out from a new mapping; the
    program's buffer is untouched and send() returns the program's length."""
    port, log = web_server
    res, _ = buffer_client(tmp_path, port, "/original", [SENDER_HOOKS])
    assert res["body"] == "the REWRITTEN file\n"
    assert requested(log) == ["/rewritten"]
    assert res["unchanged"], res["buffer"]
    assert res["sent"] == res["len"]


def test_net_sender_same_length_in_place_restored(tmp_path, web_server):
    """/secret.txt -> /public.txt: rewritten in the program's own buffer, and
    put back by the after-hook before the program looks."""
    port, log = web_server
    s = settings_js(tmp_path, "settings.js", 'var NET_SENDER = {from: "/secret.txt", to: "/public.txt"};\n')
    res, err = buffer_client(tmp_path, port, "/secret.txt", [s, SENDER_HOOKS])
    assert res["body"] == "PUBLIC news\n"
    assert requested(log) == ["/public.txt"]
    assert res["unchanged"], res["buffer"]
    assert res["sent"] == res["len"]


def test_net_sender_buffer_check_can_fail(tmp_path, web_server):
    """Control: without the after-hook's restore the client sees its buffer
    changed, so the check above does look at the program's memory."""
    port, log = web_server
    text = SENDER_HOOKS.read_text()
    restore = "accessors.writeString(p.restoreAt, p.original);"
    assert restore in text
    broken = settings_js(tmp_path, "broken.js", text.replace(restore, ""))
    s = settings_js(tmp_path, "settings.js", 'var NET_SENDER = {from: "/secret.txt", to: "/public.txt"};\n')
    res, _ = buffer_client(tmp_path, port, "/secret.txt", [s, broken])
    assert res["body"] == "PUBLIC news\n"
    assert not res["unchanged"]
    assert res["buffer"].startswith("GET /public.txt ")


def test_net_sender_leaves_other_requests_alone(tmp_path, web_server):
    port, log = web_server
    (tmp_path / "www" / "original2").write_text("two\n")
    res, err = buffer_client(tmp_path, port, "/original2", [SENDER_HOOKS])
    assert res["body"] == "two\n"
    res, err = buffer_client(tmp_path, port, "/rewritten", [SENDER_HOOKS])
    assert res["body"] == "the REWRITTEN file\n"
    assert requested(log) == ["/original2", "/rewritten"]
    assert "[net-sender]" not in err


def test_net_sender_hooks_write_too():
    """write() is hooked as well as sendto(): any fd, as the README says."""
    r = jvisor_run(["-s", str(SENDER_HOOKS), "--", "echo", "GET /original HTTP/1.0"], timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "GET /rewritten HTTP/1.0\n"
    assert "write(fd 1): GET /original -> GET /rewritten" in r.stderr
    r = jvisor_run(["-s", str(SENDER_HOOKS), "--", "echo", "PUT /original HTTP/1.0"], timeout=TIMEOUT)
    assert r.stdout == "PUT /original HTTP/1.0\n"


# --------------------------------------------------------------------- fs-cwd

FS_HOOKS = EXAMPLES / "fs-cwd" / "hooks.js"


def pwd_bin():
    for p in ("/bin/pwd", "/usr/bin/pwd"):
        if os.access(p, os.X_OK):
            return p
    pytest.skip("no pwd binary")


@pytest.fixture
def fs_dirs(tmp_path):
    """(real_dir, cwd, settings.js): REAL_DIR holds relative.txt; the program
    runs in the empty directory cwd."""
    real = tmp_path / "real"
    cwd = tmp_path / "elsewhere"
    real.mkdir()
    cwd.mkdir()
    (real / "relative.txt").write_text("hello from the real directory\n")
    s = settings_js(tmp_path, "settings.js", "var FS_CWD = %s;\n" % json.dumps({"fake": "/anydir", "real": str(real)}))
    return real, cwd, s


def fs_run(fs_dirs, *prog):
    real, cwd, s = fs_dirs
    return jvisor_run(["-s", s, "-s", str(FS_HOOKS), "--", *prog], timeout=TIMEOUT, cwd=cwd)


def test_fs_cwd_demo():
    r = run_demo("fs-cwd")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK:" in r.stdout


def test_fs_cwd_demo_other_fake_dir():
    r = run_demo("fs-cwd", '/my "odd" dir')
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'reported /my "odd" dir' in r.stdout


def test_fs_cwd_pwd_reports_fake_dir(fs_dirs):
    r = fs_run(fs_dirs, pwd_bin(), "-P")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "/anydir\n"
    # Natively it prints the real directory.
    native = subprocess.run([pwd_bin(), "-P"], cwd=fs_dirs[1], capture_output=True, text=True, timeout=TIMEOUT)
    assert native.stdout == f"{fs_dirs[1]}\n"


def test_fs_cwd_cat_relative_reads_real_dir(fs_dirs):
    r = fs_run(fs_dirs, "cat", "relative.txt", "/anydir/relative.txt", "./relative.txt")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello from the real directory\n" * 3
    native = subprocess.run(["cat", "relative.txt"], cwd=fs_dirs[1], capture_output=True, text=True, timeout=TIMEOUT)
    assert native.returncode != 0


def test_fs_cwd_creates_files_in_real_dir(fs_dirs):
    real, cwd, _ = fs_dirs
    r = fs_run(fs_dirs, "sh", "-c", "echo made > created.txt && cat created.txt")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "made\n"
    assert (real / "created.txt").read_text() == "made\n"
    assert not (cwd / "created.txt").exists()


def test_fs_cwd_edge_cases(fs_dirs, tmp_path):
    """ERANGE for a small getcwd buffer; absolute paths elsewhere and paths
    relative to a real directory fd are left alone."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "relative.txt").write_text("from the dirfd's directory\n")
    prog = (
        "import ctypes, errno, os, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.getcwd.restype = ctypes.c_void_p\n"
        "buf = ctypes.create_string_buffer(64)\n"
        "print(libc.getcwd(buf, 4) is None, errno.errorcode[ctypes.get_errno()])\n"
        "print(libc.getcwd(buf, 8) is not None, buf.value.decode())\n"
        "print(os.getcwd())\n"
        "d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)\n"
        "print(os.read(os.open('relative.txt', os.O_RDONLY, dir_fd=d), 100).decode(), end='')\n"
        "print(open(sys.argv[1] + '/relative.txt').read(), end='')\n"
        "print(open('relative.txt').read(), end='')\n"
    )
    r = fs_run(fs_dirs, PYTHON, "-c", prog, str(other))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "True ERANGE",
        "True /anydir",
        "/anydir",
        "from the dirfd's directory",
        "from the dirfd's directory",
        "hello from the real directory",
    ]


def test_net_sender_program_registers_unchanged():
    """The copy path points the syscall at another buffer and length; after
    the call the program's argument registers hold its own values again."""
    prog = helper("ex_send_regs")
    native = subprocess.run([prog], capture_output=True, text=True, timeout=TIMEOUT)
    assert native.stderr == "ret=23 buf=same len=same\n"
    r = jvisor_run(["-s", str(SENDER_HOOKS), "--", prog], timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "GET /rewritten HTTP/1.0\n"
    assert "ret=23 buf=same len=same\n" in r.stderr


# ---------------------------------------------------------------- no-network

NONET_HOOKS = EXAMPLES / "no-network" / "hooks.js"


def test_no_network_demo():
    r = run_demo("no-network")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK:" in r.stdout


def test_no_network_curl_cannot_connect(web_server):
    """curl reaches the server natively, not under the hooks; the hook ran in
    notify mode."""
    need("curl")
    port, log = web_server
    url = f"http://127.0.0.1:{port}/original"
    native = subprocess.run(["curl", "-sS", "--max-time", "10", url], capture_output=True,
                            text=True, timeout=TIMEOUT)
    assert native.stdout == "the ORIGINAL file\n", native.stderr
    r = jvisor_run(["-s", str(NONET_HOOKS), "--", "curl", "-sS", "--max-time", "10", url],
                   timeout=TIMEOUT)
    assert r.returncode == 7, r.stdout + r.stderr  # curl: couldn't connect
    assert "socket(AF_INET, ...) denied with EACCES (notify)" in r.stderr
    assert requested(log) == ["/original"]  # only the native request arrived


# ---------------------------------------------------------------- audit-opens

AUDIT_HOOKS = EXAMPLES / "audit-opens" / "hooks.js"


def test_audit_opens_demo():
    r = run_demo("audit-opens")
    assert r.returncode == 0, r.stdout + r.stderr
    # With a log, auto uses BPF when it can: then BPF feeds the observers.
    mode = "observe-bpf" if bpf_usable()[0] else "observe-ptrace"
    assert "OK:" in r.stdout and f'"mode":"{mode}"' in r.stdout, r.stdout


def test_audit_opens_counts_every_open_of_every_thread(tmp_path):
    """Python opens a watched file from 4 threads, 25 times each: 100 records."""
    (tmp_path / "settings.js").write_text(
        'var AUDIT = {paths: ["%s"], prefixes: []};\n' % (tmp_path / "secret"))
    (tmp_path / "secret").write_text("x")
    prog = textwrap.dedent(f"""
        import threading
        def opener():
            for _ in range(25):
                open({str(tmp_path / "secret")!r}).close()
            open({str(tmp_path / "other")!r}, "w").close()
        ts = [threading.Thread(target=opener) for _ in range(4)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        """)
    log = tmp_path / "log.jsonl"
    r = jvisor_run(["-o", str(log), "-e", "none", "-s", str(tmp_path / "settings.js"),
                    "-s", str(AUDIT_HOOKS), "--", PYTHON, "-c", prog], timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in log.read_text().splitlines()]
    audits = [x["value"] for x in recs if x["type"] == "log"]
    assert len(audits) == 100 and {a["path"] for a in audits} == {str(tmp_path / "secret")}
    assert len({a["tid"] for a in audits}) == 4 and all(a["ret"] >= 0 for a in audits)
    summary = [x["text"] for x in recs if x["type"] == "print"]
    assert summary == [f"audit: 100 sensitive opens: {tmp_path / 'secret'} x100"]


# ---------------------------------------------------------------- latency-histogram

def test_latency_histogram_demo():
    r = run_demo("latency-histogram")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK:" in r.stdout
    assert re.search(r"read: \d+ calls, avg [\d.]+ us", r.stdout)


def test_latency_histogram_buckets_add_up(tmp_path):
    hooks = EXAMPLES / "latency-histogram" / "hooks.js"
    (tmp_path / "settings.js").write_text(
        'var LATENCY = {syscalls: ["clock_nanosleep", "getppid"]};\n')
    # coreutils' sleep sleeps for a relative time: each call lasts >= 20 ms
    prog = "for i in 1 2 3 4 5; do sleep 0.02; done; " \
        f"{PYTHON} -c 'import os; [os.getppid() for _ in range(7)]'"
    log = tmp_path / "log.jsonl"
    r = jvisor_run(["-o", str(log), "-e", "getppid,clock_nanosleep", "-s",
                    str(tmp_path / "settings.js"), "-s", str(hooks), "--", "/bin/sh", "-c", prog],
                   timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in log.read_text().splitlines()]
    logged = {n: len([x for x in recs if x["type"] == "syscall" and x["name"] == n])
              for n in ("getppid", "clock_nanosleep")}
    hist, name = {}, None
    for line in (x["text"] for x in recs if x["type"] == "print"):
        m = re.match(r"^(\w+): (\d+) calls, avg ([\d.]+) us$", line)
        if m:
            name = m.group(1)
            hist[name] = {"calls": int(m.group(2)), "avg": float(m.group(3)), "buckets": {}}
            continue
        m = re.match(r"^\s+(\S+)\s+(\d+) \|@+$", line)
        if m and name:
            hist[name]["buckets"][m.group(1)] = int(m.group(2))
    # python's 7 getppid calls, and the shell's own (dash reads $PPID at start)
    assert logged["getppid"] >= 7 and logged["clock_nanosleep"] == 5, logged
    n = logged["getppid"]
    assert hist["getppid"]["calls"] == n and sum(hist["getppid"]["buckets"].values()) == n
    sleep = hist["clock_nanosleep"]
    assert sleep["calls"] == 5 and sum(sleep["buckets"].values()) == 5
    # 20 ms sleeps land in the 16384-32768 us bucket or above
    assert sleep["avg"] >= 20000 and all(int(b.split("-")[0]) >= 16384 for b in sleep["buckets"])
