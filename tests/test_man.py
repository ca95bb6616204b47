"""The man pages (man/): each renders without a warning, and each page documents
every option and command its `--help` lists (and no option --help does not know),
so the two cannot drift; jvisor-config(5) names every config key, jvisor-hooks(7)
every accessor."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import JVISOR

MAN = Path(__file__).resolve().parent.parent / "man"
PAGES = sorted(p.name for p in MAN.glob("*.[1-8]"))
COMMANDS = ["run", "check", "syscalls", "ctl", "view"]
OPT_RE = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def jvisor(*args):
    return subprocess.run([JVISOR, *args], capture_output=True, text=True, timeout=30)


def rendered(page):
    """The page as man shows it on an 80-column terminal, without formatting."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_DISABLE_SECCOMP="1")
    p = subprocess.run(["man", "-l", "-Tascii", str(MAN / page)], capture_output=True,
                       env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    # -Tascii overstrikes bold (c\bc) and underlines (_\bc): keep the characters.
    return re.sub(r".\x08", "", p.stdout.decode())


def unroff(line):
    """A roff source line as text: macro name, fonts, quotes and escapes removed."""
    line = re.sub(r"^\.[A-Z]{1,2}\s?", "", line)
    line = re.sub(r"\\f(\[[^]]*\]|.)", "", line)
    line = line.replace("\\-", "-").replace("\\(dq", '"').replace("\\&", "").replace('"', "")
    return line


def tags(page, section=None):
    """The tags of the .TP items of a page (optionally of one .SH section), as text."""
    out, current, lines = [], None, (MAN / page).read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            current = line[4:].strip('"')
        elif line == ".TP" and i + 1 < len(lines) and section in (None, current):
            out.append(unroff(lines[i + 1]))
    return out


def help_options(text):
    """The options a --help text defines: those in the left column of its lines that
    begin with an option (the description after two spaces may name others)."""
    opts = set()
    for line in text.splitlines():
        if re.match(r"\s+-", line):
            opts.update(OPT_RE.findall(re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]))
    return opts


def help_commands(text):
    """The first word of each line of the Commands: block of a --help text."""
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return {m[1] for m in re.finditer(r"^  ([a-z]+)\b", block, re.M)}


def test_every_page_is_there():
    expected = {"jvisor.1", "jvisor-config.5", "jvisor-hooks.7", "jvisor-runc.8"}
    expected |= {f"jvisor-{c}.1" for c in COMMANDS}
    assert set(PAGES) == expected


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_warnings(page):
    if shutil.which("groff") is None or shutil.which("man") is None:
        pytest.skip("groff and man are not installed (make deps installs groff-base, man-db)")
    # groff's own checks, every warning category on
    g = subprocess.run(["groff", "-man", "-ww", "-z", str(MAN / page)], capture_output=True,
                       text=True, timeout=60)
    assert g.returncode == 0 and g.stderr == "", g.stderr
    # man-db's view of it: its preprocessors, line lengths, and the NAME line whatis reads
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_DISABLE_SECCOMP="1")
    m = subprocess.run(["man", "--warnings", "-l", str(MAN / page)], capture_output=True,
                       text=True, env=env, timeout=60)
    assert m.returncode == 0 and m.stderr == "", m.stderr
    name = page.rsplit(".", 1)[0]
    assert re.match(rf"NAME\n\s+{re.escape(name)} - \S", m.stdout.split("\n", 2)[2]), m.stdout
    assert max(len(line) for line in m.stdout.splitlines()) <= 80
    lex = subprocess.run(["lexgrog", str(MAN / page)], capture_output=True, text=True)
    assert lex.returncode == 0 and f'"{name} - ' in lex.stdout, lex.stdout + lex.stderr


@pytest.mark.parametrize("cmd", COMMANDS)
def test_subcommand_page_documents_every_option(cmd):
    page = f"jvisor-{cmd}.1"
    h = jvisor(cmd, "--help")
    assert h.returncode == 0, h.stderr
    listed = help_options(h.stdout)
    assert {"--help"} <= listed and len(listed) >= 2
    documented = set()
    for tag in tags(page, "OPTIONS"):
        documented.update(OPT_RE.findall(tag))
    missing = listed - documented
    assert not missing, f"{page} lacks options that `jvisor {cmd} --help` lists: {missing}"
    unknown = documented - listed
    assert not unknown, f"{page} documents options `jvisor {cmd} --help` lacks: {unknown}"
    # and the rendered page shows them whole (no hyphenation, escapes right)
    text = rendered(page)
    for opt in listed:
        assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", text), opt


def test_ctl_page_documents_every_command():
    listed = help_commands(jvisor("ctl", "--help").stdout)
    assert {"load", "eval", "hooks", "unhook", "kill", "events", "send"} <= listed
    documented = {t.split()[0] for t in tags("jvisor-ctl.1", "COMMANDS")}
    assert listed == documented


def test_main_page_documents_every_command_and_option():
    h = jvisor("--help")
    listed = help_commands(h.stdout)
    assert set(COMMANDS) <= listed
    documented = {t.split()[1] for t in tags("jvisor.1", "COMMANDS")}
    assert listed == documented
    for cmd in listed - {"version"}:
        assert f"jvisor-{cmd}.1" in PAGES
    opts = set()
    for line in h.stdout.splitlines():
        if line.startswith("  jvisor "):
            opts.update(OPT_RE.findall(re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]))
    assert {"--help", "-V", "--version"} <= opts
    documented = set()
    for tag in tags("jvisor.1", "OPTIONS"):
        documented.update(OPT_RE.findall(tag))
    assert opts <= documented


def test_config_page_names_every_key(tmp_path):
    # jvisor's message for an unknown key lists the known ones.
    cfg = tmp_path / "c.json"
    cfg.write_text('{"no-such-key": 1}')
    p = jvisor("run", "-c", str(cfg), "--", "true")
    assert p.returncode == 2
    known = p.stderr.split("(known: ", 1)[1].rsplit(")", 1)[0]
    keys = set(re.findall(r"[a-z][a-z-]*[a-z]", known)) - {"and", "the", "sandbox"}
    assert {"hooks", "callbacks", "command", "isolate", "pids", "web-keep"} <= keys
    documented = set()
    for tag in tags("jvisor-config.5", "KEYS"):
        documented.update(re.findall(r"[a-z][a-z-]*[a-z]", re.sub(r"\([^)]*\)", "", tag)))
    assert keys <= documented, keys - documented


def test_hooks_page_names_every_accessor(tmp_path):
    script = tmp_path / "list.js"
    script.write_text("accessors.print(Object.keys(accessors).join(' '));\n")
    p = jvisor("check", str(script))
    assert p.returncode == 0, p.stderr
    names = set(p.stderr.split())  # print() writes the line as it is, on stderr
    assert {"readBytes", "AddHookBefore", "getFdInfo", "stopThreads"} <= names, p.stderr
    text = rendered("jvisor-hooks.7")
    missing = {n for n in names if not re.search(rf"\b{n}\b", text)}
    assert not missing, missing
