"""make install / make uninstall (PREFIX, DESTDIR): the installed tree, the installed
binary running an installed example, man finding the pages, uninstall leaving
nothing; the version and commit a build outside git reports."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import JVISOR

ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(JVISOR).resolve().parent
VERSION = re.search(r"^VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]
PAGES = {"man1": ["jvisor.1", "jvisor-run.1", "jvisor-check.1", "jvisor-ctl.1",
                  "jvisor-view.1", "jvisor-syscalls.1"],
         "man5": ["jvisor-config.5"], "man7": ["jvisor-hooks.7"]}


def make(*args, timeout=600):
    """make in this tree, with the build directory of the binary under test."""
    if BUILD.parent != ROOT or shutil.which("make") is None:
        pytest.skip(f"{JVISOR} was not built by this tree's Makefile (or no make)")
    extra = ["SAN=1"] if BUILD.name == "build-asan" else []  # `make asan`'s settings
    p = subprocess.run(["make", "-C", str(ROOT), f"BUILD={BUILD.name}", *extra, *args],
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def files_under(d):
    return sorted(str(p.relative_to(d)) for p in Path(d).rglob("*") if not p.is_dir())


def test_install_and_uninstall(tmp_path):
    dest = tmp_path / "dest"
    make("install", f"DESTDIR={dest}", "PREFIX=/usr")
    usr = dest / "usr"
    # the binary: the one built, executable
    b = usr / "bin" / "jvisor"
    assert b.is_file() and os.access(b, os.X_OK)
    assert b.read_bytes() == (BUILD / "jvisor").read_bytes()
    p = subprocess.run([str(b), "--version"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.startswith(f"jvisor {VERSION} (commit "), p.stdout
    # the man pages, their version filled in, found by man
    for section, pages in PAGES.items():
        for page in pages:
            f = usr / "share" / "man" / section / page
            text = f.read_text()
            assert f'"jvisor {VERSION}"' in text.splitlines()[0] and "@VERSION@" not in text
    if shutil.which("man"):
        for name in ("jvisor", "jvisor-run", "jvisor-ctl", "jvisor-config", "jvisor-hooks"):
            w = subprocess.run(["man", "-M", str(usr / "share" / "man"), "-w", name],
                               capture_output=True, text=True, timeout=30)
            assert w.returncode == 0 and w.stdout.startswith(str(usr)), (name, w.stderr)
    # the documentation and the examples, as in the source tree (run.sh executable)
    doc = usr / "share" / "doc" / "jvisor"
    for f in ["README.md", "HACKING.md", "docs/hooks.md", "docs/api.md", "docs/config.md",
              "docs/web-live.png", "examples/README.md", "examples/common.sh",
              "examples/bind-in-use/hooks.js", "examples/sandbox/policy.json"]:
        assert (doc / f).read_bytes() == (ROOT / f).read_bytes(), f
    for run_sh in (ROOT / "examples").glob("*/run.sh"):
        assert os.access(doc / run_sh.relative_to(ROOT), os.X_OK), run_sh
    assert not list(doc.rglob("__pycache__"))
    # the installed example, with the installed jvisor found in PATH
    env = dict(os.environ, PATH=f"{usr / 'bin'}:/usr/bin:/bin")
    assert shutil.which("jvisor", path=env["PATH"]) == str(b)
    ex = subprocess.run(["sh", str(doc / "examples/bind-in-use/run.sh")], capture_output=True,
                        text=True, env=env, cwd=tmp_path, timeout=120)
    assert ex.returncode == 0, ex.stdout + ex.stderr
    assert "OK: the hook ran" in ex.stdout
    # uninstall: no file left, and no directory of jvisor's own
    installed = files_under(dest)
    assert len(installed) > 30
    (usr / "bin" / "other-tool").write_text("not jvisor's\n")
    make("uninstall", f"DESTDIR={dest}", "PREFIX=/usr")
    assert files_under(dest) == ["usr/bin/other-tool"]
    assert not doc.exists()


def test_install_default_prefix(tmp_path):
    make("install", f"DESTDIR={tmp_path}")
    local = tmp_path / "usr" / "local"
    assert (local / "bin" / "jvisor").is_file()
    assert (local / "share" / "man" / "man7" / "jvisor-hooks.7").is_file()
    assert (local / "share" / "doc" / "jvisor" / "examples" / "bind-in-use" / "run.sh").is_file()
    make("uninstall", f"DESTDIR={tmp_path}")
    assert files_under(tmp_path) == []


def test_version_outside_git(tmp_path):
    # A tarball has no .git of its own (and may be unpacked inside someone else's
    # checkout): the commit is "unknown", unless the packager says COMMIT=.
    if shutil.which("make") is None or shutil.which("git") is None:
        pytest.skip("make or git is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    subprocess.run(["git", "init", "-q", str(tmp_path / "outer")], check=True)
    tree = tmp_path / "outer" / "jvisor-0"
    tree.mkdir()
    shutil.copy(ROOT / "Makefile", tree / "Makefile")
    for d in (tmp_path, tree):
        p = subprocess.run(["make", "-C", str(d), "BUILD=b", "b/gen/version.h"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        h = (d / "b" / "gen" / "version.h").read_text()
        assert f'#define JV_VERSION "{VERSION}"' in h and '#define JV_COMMIT "unknown"' in h, h
    p = subprocess.run(["make", "-C", str(tmp_path), "BUILD=b", "COMMIT=1234abc",
                        "b/gen/version.h"], capture_output=True, text=True, timeout=60)
    assert '#define JV_COMMIT "1234abc"' in (tmp_path / "b/gen/version.h").read_text()
