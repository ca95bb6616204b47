"""jvisor-runc: containers under jvisor with real engines (docs/containers.md).

podman and runc run a locally made image (a root file system of Debian binaries
copied from this machine, with their libraries, plus a static probe; imported
once per session); the wrapper's settings come from a temporary runtime.json
(--runtime-flag jvisor-config=FILE) so that nothing under /etc or /var is used.
containerd is started with a temporary root, state and address when none runs.
"""
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import JVISOR, ROOT, helper, jvisor_run

RUNC_WRAPPER = str(Path(JVISOR).parent / "jvisor-runc")
IMAGE = "localhost/jvisor-oci-test:latest"
# Binaries of the test image (with their shared libraries, found by ldd).
IMAGE_BINS = ["dash", "sleep", "cat", "true", "id", "ls", "echo"]
BIND_HOOK = 'accessors.AddHookBefore("bind", function () { return {ret: -1, errno: 98}; });\n'
# readString (process_vm_readv, or /proc/PID/mem when the engine denies it)
# and a notify-mode hook (pidfd_getfd takes the listener).
MEM_HOOK = BIND_HOOK + """
accessors.AddHookBefore("openat", function (dirfd, path) {
  if (accessors.readString(path, 256) === "/etc/hidden") return {ret: -1, errno: 2};
});
accessors.AddHookBefore("getppid", function () {
  accessors.print("getppid by " + this.mode);
}, {mode: "notify"});
"""
# This machine may lack CAP_SYS_RESOURCE: runc cannot raise podman's default
# rlimits there; lower ones are always allowed.
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]


def _run(cmd, timeout=60, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, timeout=timeout, **kw)


def _make_rootfs(root):
    (root / "bin").mkdir(parents=True)
    for d in ("etc", "tmp", "proc", "dev", "sys"):
        (root / d).mkdir()
    (root / "tmp").chmod(0o1777)
    for name in IMAGE_BINS:
        src = shutil.which(name)
        shutil.copy2(src, root / "bin" / name)
        out = _run(["ldd", src]).stdout
        for tok in out.split():
            if tok.startswith("/") and os.path.exists(tok):
                dst = root / tok.lstrip("/")
                dst.parent.mkdir(parents=True, exist_ok=True)
                if not dst.exists():
                    shutil.copy2(os.path.realpath(tok), dst)
    (root / "bin" / "sh").symlink_to("dash")
    shutil.copy2(helper("oci_probe-static"), root / "bin" / "oci_probe")
    (root / "etc" / "passwd").write_text("root:x:0:0::/:/bin/sh\n")
    (root / "etc" / "hidden").write_text("secret\n")


class Oci:
    """Paths and commands of the session's setup."""

    def __init__(self, base):
        self.base = base
        self.bundle = base / "bundle"
        self.rootfs = base / "rootfs"
        self.profiles = base / "profiles"
        self.logs = base / "logs"
        self.config = base / "runtime.json"
        self.names = []

    def write_config(self, **extra):
        cfg = {
            "bundle": str(self.bundle),
            "profiles": str(self.profiles),
            "log-dir": str(self.logs),
            "allowed-annotations": ["dev.jvisor.exec", "dev.jvisor.trace"],
        }
        cfg.update(extra)
        self.config.write_text(json.dumps(cfg))

    def podman(self, *args, timeout=90):
        cmd = ["podman", "--runtime", RUNC_WRAPPER, "--runtime-flag",
               f"jvisor-config={self.config}", *args]
        return _run(cmd, timeout=timeout)

    def run(self, *args, profile="bindfail", detach=False):
        """podman run of IMAGE; args: podman options then "--" then the command."""
        i = args.index("--")
        opts, cmd = list(args[:i]), list(args[i + 1:])
        if profile:
            opts += ["--annotation", f"dev.jvisor.profile={profile}"]
        name = f"jvt-{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        base = ["run", "--name", name, "--network", "none", *ULIMITS]
        base += ["-d"] if detach else []
        return name, self.podman(*base, *opts, IMAGE, *cmd)

    def cid(self, name):
        return _run(["podman", "inspect", "--format", "{{.Id}}", name]).stdout.strip()

    def log(self, name):
        p = self.logs / f"{self.cid(name)}.jsonl"
        assert p.exists(), f"no host log {p}"
        return [json.loads(line) for line in p.read_text().splitlines()]


@pytest.fixture(scope="session")
def oci(tmp_path_factory):
    for tool in ("podman", "runc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if os.geteuid() != 0:
        pytest.skip("the engines' rootful mode needs root")
    if not Path(RUNC_WRAPPER).exists():
        pytest.fail(f"{RUNC_WRAPPER} not built (make)")
    o = Oci(tmp_path_factory.mktemp("oci"))
    mk = _run(["sh", str(ROOT / "tools" / "make-bundle.sh"), JVISOR, str(o.bundle)], timeout=120)
    assert mk.returncode == 0, mk.stderr
    _make_rootfs(o.rootfs)
    tar = o.base / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        t.add(o.rootfs, arcname=".")
    imp = _run(["podman", "import", str(tar), IMAGE], timeout=120)
    if imp.returncode != 0:
        pytest.skip(f"podman cannot import an image here: {imp.stderr.strip()}")
    for name, files in {
        "bindfail": {"hooks.js": BIND_HOOK},
        "memhook": {"hooks.js": MEM_HOOK, "config.json": json.dumps({"trace": "bind"})},
        "traceonly": {"config.json": json.dumps({"trace": "%network"})},
    }.items():
        (o.profiles / name).mkdir(parents=True)
        for f, text in files.items():
            (o.profiles / name / f).write_text(text)
    o.write_config()
    plain = _run(["podman", "run", "--rm", "--network", "none", *ULIMITS, IMAGE, "true"])
    if plain.returncode != 0:
        pytest.skip(f"podman cannot run a container here: {plain.stderr.strip()}")
    yield o
    for n in o.names:
        _run(["podman", "rm", "-f", "-t", "0", n], timeout=60)
    _run(["podman", "rmi", "-f", IMAGE], timeout=60)


def test_bind_fails_under_the_profile_and_the_host_log_has_it(oci):
    name, r = oci.run("--", "oci_probe", "bind")
    assert r.stdout.strip() == "bind: EADDRINUSE", r.stderr
    assert r.returncode == 1
    cid = oci.cid(name)
    recs = oci.log(name)
    assert recs and all(rec.get("container") == cid for rec in recs)
    assert all(rec["labels"]["profile"] == "bindfail" for rec in recs)
    binds = [rec for rec in recs if rec.get("name") == "bind"]
    assert binds and binds[0]["errname"] == "EADDRINUSE", binds
    assert any(rec.get("type") == "exec" and rec.get("path") == "/bin/oci_probe" for rec in recs)


def test_without_the_annotation_it_is_plain_runc(oci):
    name, r = oci.run("--", "oci_probe", "bind", profile=None)
    plain = _run(["podman", "run", "--rm", "--network", "none", *ULIMITS, IMAGE,
                  "oci_probe", "bind"])
    assert (r.returncode, r.stdout) == (plain.returncode, plain.stdout) == (0, "bind: ok\n")
    assert not (oci.logs / f"{oci.cid(name)}.jsonl").exists()
    # The spec runc got is the engine's: no jvisor mount, no jvisor process.
    spec = _run(["podman", "inspect", "--format", "{{json .Mounts}}", name]).stdout
    assert "jvisor" not in spec


def test_exit_codes_user_read_only_cap_drop(oci):
    name, r = oci.run("--user", "1000", "--read-only", "--cap-drop", "ALL", "--",
                      "sh", "-c", "id -u; oci_probe bind; exit 7")
    assert r.returncode == 7, r.stderr
    assert r.stdout.split() == ["1000", "bind:", "EADDRINUSE"]
    assert any(rec.get("name") == "bind" for rec in oci.log(name))


def test_the_program_cannot_write_the_host_log(oci):
    name, r = oci.run("--", "oci_probe", "steal-log", str(oci.logs / "x.jsonl"))
    assert "steal-log: denied" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0
    path = oci.logs / f"{oci.cid(name)}.jsonl"
    assert "STOLEN" not in path.read_text().splitlines()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # The same program as root with every capability podman gives: still denied.
    name2, r2 = oci.run("--cap-add", "ALL", "--", "oci_probe", "steal-log", "/x")
    assert "steal-log: denied" in r2.stdout


def test_exec_runs_under_the_hooks_and_stop_ends_with_143(oci):
    name, r = oci.run("--", "oci_probe", "sleep", detach=True)
    assert r.returncode == 0, r.stderr
    e = oci.podman("exec", name, "oci_probe", "bind")
    assert (e.returncode, e.stdout) == (1, "bind: EADDRINUSE\n"), e.stderr
    e = oci.podman("exec", name, "sh", "-c", "oci_probe exit 5")
    assert e.returncode == 5
    e = oci.podman("exec", "-t", name, "oci_probe", "bind")  # a terminal for the session
    assert e.returncode == 1 and "bind: EADDRINUSE" in e.stdout, e.stderr
    recs = oci.log(name)
    assert [rec for rec in recs if rec.get("name") == "bind"], "the exec's bind is not logged"
    t0 = time.monotonic()
    s = oci.podman("stop", "-t", "20", name)
    assert s.returncode == 0, s.stderr
    assert time.monotonic() - t0 < 15, "podman stop waited for its SIGKILL"
    code = _run(["podman", "inspect", "--format", "{{.State.ExitCode}}", name]).stdout.strip()
    assert code == "143"


def test_orphans_are_reaped_and_jvisor_is_not_dumpable(oci):
    name, r = oci.run("--", "oci_probe", "sleep", detach=True)
    assert r.returncode == 0, r.stderr
    # An exec session leaves an orphan: its parent exits at once. The kernel
    # hands it to PID 1 (jvisor), which must reap it when it ends.
    e = oci.podman("exec", name, "sh", "-c", "sleep 0.2 & exit 0")
    assert e.returncode == 0, e.stderr
    time.sleep(1.0)
    e = oci.podman("exec", name, "sh", "-c", "cat /proc/[0-9]*/stat")
    states = [line.split(") ")[1].split()[0] for line in e.stdout.splitlines()]
    assert states and "Z" not in states, e.stdout
    # PID 1 is jvisor; the program (same uid, root) cannot read its memory or fds.
    e = oci.podman("exec", name, "sh", "-c", "cat /proc/1/environ >/dev/null && echo readable")
    assert "readable" not in e.stdout and e.returncode != 0
    e = oci.podman("exec", name, "sh", "-c", "cat /proc/1/cmdline")
    assert "jvisor" in e.stdout
    oci.podman("rm", "-f", "-t", "0", name)


def test_the_program_gets_nothing_of_the_loader(oci):
    name, r = oci.run("--", "sh", "-c", "cat /proc/self/environ; echo; cat /proc/self/maps")
    assert r.returncode == 0, r.stderr
    plain = _run(["podman", "run", "--rm", "--network", "none", *ULIMITS, IMAGE, "sh", "-c",
                  "cat /proc/self/environ"])
    env = r.stdout.split("\n")[0].split("\0")
    assert not [v for v in env if v.startswith("LD_")]
    strip = lambda vs: sorted(v for v in vs if not v.startswith("HOSTNAME="))  # noqa: E731
    assert strip(env) == strip(plain.stdout.split("\0"))
    assert "/.jvisor" not in r.stdout  # no library of the bundle is mapped in the program


def test_engine_profile_denying_process_vm_and_pidfd_getfd(oci):
    default = Path("/usr/share/containers/seccomp.json")
    if not default.exists():
        pytest.skip("no containers-common seccomp profile on this machine")
    prof = json.loads(default.read_text())
    cut = {"process_vm_readv", "process_vm_writev", "pidfd_getfd"}
    for rule in prof["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n not in cut]
    path = oci.base / "seccomp-nomem.json"
    path.write_text(json.dumps(prof))
    script = "cat /etc/hidden; oci_probe getppid 2; oci_probe bind"
    for opt, mode in ((f"seccomp={path}", "ptrace"), (f"seccomp={default}", "notify")):
        name, r = oci.run("--security-opt", opt, "--", "sh", "-c", script, profile="memhook")
        assert "cat: /etc/hidden: No such file or directory" in r.stderr  # readString worked
        assert r.stdout == "bind: EADDRINUSE\n"
        warned = "seccomp user notification is not available" in r.stderr
        assert warned == (mode == "ptrace"), r.stderr
        texts = [rec["text"] for rec in oci.log(name) if rec.get("type") == "print"]
        # oci_probe's two calls (and the shell's own, for $PPID)
        assert set(texts) == {f"getppid by {mode}"} and len(texts) >= 2, texts


def test_syscalls_the_engine_denies_never_reach_the_hooks(oci):
    default = Path("/usr/share/containers/seccomp.json")
    if not default.exists():
        pytest.skip("no containers-common seccomp profile on this machine")
    prof = json.loads(default.read_text())
    for rule in prof["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n != "bind"]
    path = oci.base / "seccomp-nobind.json"
    path.write_text(json.dumps(prof))
    name, r = oci.run("--security-opt", f"seccomp={path}", "--", "oci_probe", "bind")
    # The engine's errno (ENOSYS, its profile's default), not the hook's EADDRINUSE.
    assert (r.returncode, r.stdout) == (1, "bind: Function not implemented\n"), r.stderr
    recs = oci.log(name)
    assert any(rec.get("name") == "socket" for rec in recs)
    assert not [rec for rec in recs if rec.get("name") == "bind"]  # never trapped nor logged


def test_log_to_a_host_socket(oci):
    import socket
    import threading
    path = oci.base / "log.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(4)
    got = []

    def serve():
        conn, _ = srv.accept()
        with conn:
            while True:
                b = conn.recv(65536)
                if not b:
                    return
                got.append(b)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    oci.write_config(**{"log-socket": f"unix:{path}"})
    try:
        name, r = oci.run("--", "oci_probe", "bind")
    finally:
        oci.write_config()
    assert r.stdout == "bind: EADDRINUSE\n", r.stderr
    t.join(10)
    srv.close()
    recs = [json.loads(x) for x in b"".join(got).decode().splitlines()]
    cid = oci.cid(name)
    assert recs and all(rec["container"] == cid for rec in recs)
    assert any(rec.get("name") == "bind" for rec in recs)
    assert not (oci.logs / f"{cid}.jsonl").exists()


def test_exec_can_be_denied(oci):
    name, r = oci.run("--annotation", "dev.jvisor.exec=deny", "--", "oci_probe", "sleep",
                      detach=True)
    assert r.returncode == 0, r.stderr
    e = oci.podman("exec", name, "oci_probe", "bind")
    assert e.returncode != 0 and "denied" in e.stderr
    assert "bind:" not in e.stdout
    oci.podman("rm", "-f", "-t", "0", name)


def test_bad_annotations_are_refused(oci):
    _, r = oci.run("--", "true", profile="../bindfail")
    assert r.returncode != 0 and "not a path" in r.stderr
    _, r = oci.run("--", "true", profile="nosuchprofile")
    assert r.returncode != 0 and "nosuchprofile" in r.stderr
    _, r = oci.run("--annotation", "dev.jvisor.string-limit=4", "--", "true")
    assert r.returncode != 0 and "allowed-annotations" in r.stderr
    oci.write_config(bundle=str(oci.base / "nobundle"))
    try:
        _, r = oci.run("--", "true")
        assert r.returncode != 0 and "no jvisor bundle at" in r.stderr
    finally:
        oci.write_config()
    # An allowed one reaches jvisor: the profile's %network and -e getppid.
    name, r = oci.run("--annotation", "dev.jvisor.trace=getppid", "--", "oci_probe", "getppid",
                      "3", profile="traceonly")
    assert r.returncode == 0, r.stderr
    names = {rec.get("name") for rec in oci.log(name) if rec.get("type") == "syscall"}
    assert names == {"getppid"}


@pytest.fixture(scope="session")
def containerd(oci, tmp_path_factory):
    """A containerd of our own (temporary root, state and address; the CRI plugin
    off), whose shims run jvisor-runc with the session's runtime.json."""
    for tool in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    d = tmp_path_factory.mktemp("containerd")
    sock = d / "c.sock"
    (d / "config.toml").write_text(
        f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        f'[grpc]\n  address = "{sock}"\n')
    env = dict(os.environ, JVISOR_RUNC_CONFIG=str(oci.config))
    log = open(d / "containerd.log", "w")
    p = subprocess.Popen(["containerd", "--config", str(d / "config.toml")], env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not sock.exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not sock.exists():
        p.kill()
        p.wait()
        pytest.skip("containerd does not start here: " + (d / "containerd.log").read_text()[-500:])
    yield str(sock)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    log.close()


def test_containerd_runc_binary_bind(oci, containerd):
    def ctr_run(cid, *extra):
        return _run(["ctr", "--address", containerd, "run", "--rm", "--rootfs", "--runc-binary",
                     RUNC_WRAPPER, *extra, str(oci.rootfs), cid, "/bin/oci_probe", "bind"])
    cid = f"jvt-{uuid.uuid4().hex[:12]}"
    r = ctr_run(cid, "--annotation", "dev.jvisor.profile=bindfail",
                "--annotation", "io.kubernetes.cri.sandbox-name=web")
    assert (r.returncode, r.stdout) == (1, "bind: EADDRINUSE\n"), r.stderr
    recs = [json.loads(x) for x in (oci.logs / f"{cid}.jsonl").read_text().splitlines()]
    assert all(rec["container"] == cid and rec["labels"]["pod"] == "web" for rec in recs)
    assert any(rec.get("name") == "bind" and rec["errname"] == "EADDRINUSE" for rec in recs)
    # A pause container of the same pod is never wrapped.
    cid2 = f"jvt-{uuid.uuid4().hex[:12]}"
    r = ctr_run(cid2, "--annotation", "dev.jvisor.profile=bindfail",
                "--annotation", "io.kubernetes.cri.container-type=sandbox")
    assert (r.returncode, r.stdout) == (0, "bind: ok\n"), r.stderr
    assert not (oci.logs / f"{cid2}.jsonl").exists()


# ---- the wrapper alone, with a fake runtime that records what it was given ----

FAKE_RUNTIME = """#!/bin/sh
printf '%s\\n' "$@" > "$0.args"
prev=
for a in "$@"; do
  case "$prev" in --bundle|-b|--process) cp "$a" "$0.file" 2>/dev/null || cp "$a/config.json" "$0.file";; esac
  prev=$a
done
echo '{"bundle": "BUNDLE"}'
"""


@pytest.fixture
def fake(tmp_path):
    rt = tmp_path / "fakerunc"
    bundle = tmp_path / "b"
    bundle.mkdir()
    rt.write_text(FAKE_RUNTIME.replace("BUNDLE", str(bundle)))
    rt.chmod(0o755)
    (tmp_path / "profiles" / "p").mkdir(parents=True)
    (tmp_path / "profiles" / "p" / "hooks.js").write_text(BIND_HOOK)
    jb = tmp_path / "jb"  # a jvisor bundle as far as the wrapper checks
    jb.mkdir()
    (jb / "jvisor").write_text("")
    cfg = tmp_path / "runtime.json"
    cfg.write_text(json.dumps({"runtime": str(rt), "profiles": str(tmp_path / "profiles"),
                               "log-dir": str(tmp_path / "logs"), "bundle": str(jb)}))

    def spec(annotations):
        s = {"ociVersion": "1.0.2", "process": {"args": ["/bin/prog", "x"], "cwd": "/"},
             "root": {"path": "rootfs"}, "mounts": [], "annotations": annotations}
        (bundle / "config.json").write_text(json.dumps(s))

    def call(*args):
        r = _run([RUNC_WRAPPER, "--jvisor-config", str(cfg), *args], cwd=tmp_path)
        got = (tmp_path / "fakerunc.args").read_text().splitlines() \
            if (tmp_path / "fakerunc.args").exists() else None
        return r, got

    return type("F", (), {"spec": staticmethod(spec), "call": staticmethod(call),
                          "bundle": bundle, "dir": tmp_path, "rt": rt})


def test_wrapper_passes_other_commands_through(fake):
    for args in (["--root", "/r", "state", "c1"], ["kill", "c1", "TERM"], ["--version"],
                 ["features"], ["--log", "/l", "--log-format", "json", "delete", "--force", "c1"]):
        r, got = fake.call(*args)
        assert r.returncode == 0 and got == args, (args, got)
        assert r.stdout == f'{{"bundle": "{fake.bundle}"}}\n'  # the runtime's, nothing else


def test_wrapper_rewrites_create_and_leaves_pause_containers(fake):
    fake.spec({"dev.jvisor.profile": "p", "io.kubernetes.cri.sandbox-name": "web"})
    r, got = fake.call("--root", "/r", "create", "--bundle", str(fake.bundle), "ctr1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('{"bundle"')
    assert got == ["--root", "/r", "create", "--preserve-fds", "1", "--bundle", str(fake.bundle),
                   "ctr1"]
    spec = json.loads((fake.dir / "fakerunc.file").read_text())
    args = spec["process"]["args"]
    assert args[:5] == ["/.jvisor/ld.so", "--library-path", "/.jvisor/lib", "/.jvisor/jvisor",
                        "run"]
    assert args[-3:] == ["--", "/bin/prog", "x"]
    assert "fd:3" in args and "pod=web" in args and "/.jvisor-profile/hooks.js" in args
    mounts = {m["destination"]: m for m in spec["mounts"]}
    assert mounts["/.jvisor"]["source"] == str(fake.dir / "jb")
    assert mounts["/.jvisor-profile"]["source"] == str(fake.dir / "profiles" / "p")
    assert {"ro", "nosuid", "nodev"} <= set(mounts["/.jvisor"]["options"])
    assert (fake.dir / "logs" / "ctr1.jsonl").exists()
    # The rewritten bundle is not rewritten again (nor is a forged mark accepted).
    r, _ = fake.call("create", "--bundle", str(fake.bundle), "ctr1")
    assert r.returncode == 1 and "dev.jvisor.wrapped" in r.stderr
    # Pause containers: the bundle is not touched.
    fake.spec({"dev.jvisor.profile": "p", "io.kubernetes.cri.container-type": "sandbox"})
    before = (fake.bundle / "config.json").read_text()
    r, got = fake.call("create", "-b", str(fake.bundle), "--preserve-fds", "2", "pause1")
    assert got == ["create", "-b", str(fake.bundle), "--preserve-fds", "2", "pause1"]
    assert (fake.bundle / "config.json").read_text() == before


def test_wrapper_refuses_checkpoint_and_bad_ids_in_runc_log_format(fake, tmp_path):
    fake.spec({"dev.jvisor.profile": "p"})
    log = tmp_path / "runc.log"
    r, _ = fake.call("--log", str(log), "--log-format", "json", "restore", "-b",
                     str(fake.bundle), "c2")
    assert r.returncode == 1 and r.stdout == ""
    rec = json.loads(log.read_text().splitlines()[-1])
    assert rec["level"] == "error" and "checkpoint and restore" in rec["msg"]
    r, _ = fake.call("--log", str(log), "create", "-b", str(fake.bundle), "../../etc/x")
    assert r.returncode == 1 and "not a valid runc id" in r.stderr
    assert log.read_text().splitlines()[-1].startswith('time="')


# ---- jvisor's options for containers, on the host ----

def test_log_to_an_inherited_fd_with_container_tags(tmp_path):
    log = tmp_path / "log.jsonl"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        r = jvisor_run(["-o", f"fd:{fd}", "-e", "getppid", "--container-id", 'c"1',
                        "--label", "pod=web", "--label", "k=v=w", "--",
                        "sh", "-c", "ls -l /proc/self/fd/; oci=1"], pass_fds=(fd,))
    finally:
        os.close(fd)
    assert r.returncode == 0, r.stderr
    assert "log.jsonl" not in r.stdout  # the program does not have the log's descriptor
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    assert recs and all(rec["container"] == 'c"1' for rec in recs)
    assert all(rec["labels"] == {"pod": "web", "k": "v=w"} for rec in recs)
    for bad in (["-o", "fd:999"], ["-o", "fd:1x"], ["-o", "fd:2"], ["--label", "novalue"],
                ["--container-id", ""]):
        r = jvisor_run([*bad, "--", "true"])
        assert r.returncode == 2 and r.stderr, bad
    r = jvisor_run(["-o", "fd:0", "--", "true"], stdin=subprocess.DEVNULL)
    assert r.returncode == 2


def test_container_mode_ends_with_the_program(tmp_path):
    t0 = time.monotonic()
    r = jvisor_run(["--container", "--", "sh", "-c", "sleep 30 & exit 7"], timeout=20)
    assert r.returncode == 7
    assert time.monotonic() - t0 < 10, "jvisor waited for the background sleep"
    r = jvisor_run(["--", "sh", "-c", "sleep 1 & exit 7"], timeout=20)
    assert r.returncode == 7  # without --container jvisor waits for every process
    r = jvisor_run(["--container", "--isolate", "--", "true"])
    assert r.returncode == 2 and "--isolate" in r.stderr


def test_wrapper_exec_rewrites_the_process_or_the_command_line(fake, tmp_path):
    fake.spec({"dev.jvisor.profile": "p", "dev.jvisor.wrapped": "p"})
    r, got = fake.call("exec", "--tty", "c1", "/bin/ls", "-l")
    assert r.returncode == 0, r.stderr
    assert got[:4] == ["exec", "--preserve-fds", "1", "--tty"]
    i = got.index("c1")
    assert got[i + 1] == "/.jvisor/ld.so" and got[-3:] == ["--", "/bin/ls", "-l"]
    proc = tmp_path / "process.json"
    proc.write_text(json.dumps({"args": ["/bin/sh"], "cwd": "/"}))
    r, got = fake.call("exec", "--process", str(proc), "--preserve-fds=2", "-d", "c1")
    assert got == ["exec", "--process", str(proc), "--preserve-fds=3", "-d", "c1"]
    args = json.loads(proc.read_text())["args"]
    assert args[0] == "/.jvisor/ld.so" and "fd:5" in args and args[-2:] == ["--", "/bin/sh"]
    # A container that was not wrapped: exec passes through untouched.
    fake.spec({})
    r, got = fake.call("exec", "c2", "/bin/ls")
    assert got == ["exec", "c2", "/bin/ls"]
    # exec policy deny (runtime.json): refused, nothing run.
    fake.spec({"dev.jvisor.profile": "p", "dev.jvisor.wrapped": "p"})
    cfg = json.loads((tmp_path / "runtime.json").read_text())
    (tmp_path / "runtime.json").write_text(json.dumps(dict(cfg, exec="deny")))
    (tmp_path / "fakerunc.args").unlink()
    r, got = fake.call("exec", "c1", "/bin/ls")
    assert r.returncode == 1 and "denied" in r.stderr and r.stdout == ""
    assert got == ["state", "c1"]  # only the state query ran


def test_wrapper_reports_bad_settings(fake, tmp_path):
    (tmp_path / "runtime.json").write_text('{"runtime": 3}')
    r, _ = fake.call("state", "c1")
    assert r.returncode == 1 and "key 'runtime' must be a string" in r.stderr
    (tmp_path / "runtime.json").write_text('{"runtime": "x",\n "nosuch": 1}')
    r, _ = fake.call("state", "c1")
    assert "unknown key 'nosuch'" in r.stderr
    (tmp_path / "runtime.json").write_text('{"runtime": ')
    r, _ = fake.call("state", "c1")
    assert r.returncode == 1 and "runtime.json:1" in r.stderr
