"""Issue 13, finding 5: the control socket must be out of the sandboxed
program's reach, enforced by the kernel (Landlock) rather than by a look at
the connecting process. Attack helper: tests/helpers/esc_ctl.c, which tries to
unregister every hook from inside. Each attack runs in default mode and under
--isolate (with --net host: a network namespace of its own would hide the
host's loopback and abstract sockets anyway)."""
import os
import socket
import subprocess

import pytest

from conftest import JVISOR, helper, jvisor_run

HOOK = "accessors.AddHookBefore('getppid', () => undefined);\n"
MODES = {"default": [], "isolate": ["--isolate", "--net", "host"]}


def run_attack(tmp_path, mode, control, args):
    helpers = os.path.dirname(helper("esc_ctl"))
    pre = list(MODES[mode])
    if pre:
        pre += ["--ro-bind", helpers, "--bind", str(tmp_path)]
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
    r = jvisor_run(pre + ["--control", control, "--", helper("esc_ctl")] + args,
                   hooks=HOOK, tmp_path=tmp_path, timeout=120, env=env)
    assert "ESCAPED" not in r.stdout, r.stdout
    assert r.returncode == 0 and "BLOCKED" in r.stdout, r.stdout + r.stderr
    return r


@pytest.mark.parametrize("mode", MODES)
def test_unix_connect_from_exited_clone_refused(tmp_path, mode):
    """A CLONE_VM|CLONE_FILES child connects and exits; its zombie is no longer
    traced when jvisor looks at it. A pathname socket has no kernel scope: the
    check names the peer with a pidfd and refuses exited peers."""
    sock = tmp_path / "c.sock"
    r = run_attack(tmp_path, mode, f"unix:{sock}", ["zombie", str(sock)])
    assert "BLOCKED by jvisor" in r.stdout, r.stdout


@pytest.mark.parametrize("mode", MODES)
def test_abstract_unix_unreachable(tmp_path, mode):
    """The default socket is abstract; the program's Landlock domain is scoped:
    connect() itself fails."""
    r = run_attack(tmp_path, mode, "unix", ["zombie", "auto"])
    assert "BLOCKED connect: Operation not permitted" in r.stdout, r.stdout


def test_abstract_unix_invisible_under_net_none(tmp_path):
    """--isolate's own network namespace has its own abstract socket names."""
    helpers = os.path.dirname(helper("esc_ctl"))
    r = jvisor_run(["--isolate", "--ro-bind", helpers, "--control", "unix", "--",
                    helper("esc_ctl"), "zombie", "auto"], hooks=HOOK, tmp_path=tmp_path,
                   timeout=120)
    assert r.returncode == 0 and "BLOCKED no @jvisor-ctl socket visible" in r.stdout, (
        r.stdout + r.stderr)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", ["park", "tfo", "mptcp"])
def test_tcp_unreachable(tmp_path, mode, how):
    """The program reads the token file, then connects (parking the fd in an
    SCM_RIGHTS message during jvisor's scan), or connects through TCP Fast
    Open or Multipath TCP, which Landlock's connect rule does not see."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    token = tmp_path / f"jvisor-{os.geteuid()}" / f"control-127.0.0.1-{port}.token"
    r = run_attack(tmp_path, mode, f"tcp:127.0.0.1:{port}", [how, str(port), str(token)])
    assert "Permission denied" in r.stdout, r.stdout


def test_clients_outside_still_served(tmp_path):
    """jvisor ctl from outside: the abstract default and TCP with its token."""
    for control in ("unix", "tcp:127.0.0.1:0"):
        env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
        p = subprocess.Popen([JVISOR, "run", "--control", control, "--", "sleep", "30"],
                             stderr=subprocess.PIPE, text=True, env=env)
        try:
            line = p.stderr.readline()
            addr = line.split("control socket ")[1].split()[0]
            assert addr.startswith("unix:@jvisor-ctl." if control == "unix" else "tcp:")
            r = subprocess.run([JVISOR, "ctl", addr, "stats"], capture_output=True,
                               text=True, timeout=30, env=env)
            assert r.returncode == 0, r.stderr
        finally:
            p.kill()
            p.wait()
