"""Syscall events: the syscall table, -e/--trace, -o/--log JSON lines and text,
process events, hook output in the log, the log socket, and nothing lost."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import JVISOR, helper, jvisor_run


def syscalls(*args):
    return subprocess.run([JVISOR, "syscalls", *args], capture_output=True, text=True,
                          timeout=30)


# ---- the table ----

def test_table_lists_every_header_syscall_with_classes():
    r = syscalls()
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert all(len(row) == 3 for row in rows)
    by_name = {row[1]: row for row in rows}
    hdr = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if hdr.exists():
        names = re.findall(r"#define __NR_(\w+) (\d+)", hdr.read_text())
        for name, nr in names:
            assert name in by_name, name
            assert by_name[name][0] == nr
    assert by_name["openat"][2] == "file,desc"
    assert by_name["getppid"][2] == "pure"
    assert by_name["connect"][2] == "network"


def test_table_one_row_shows_roles_and_abis():
    r = syscalls("openat")
    assert r.returncode == 0
    assert "openat(dirfd, path, flags:open, mode)" in r.stdout
    assert "257" in r.stdout and "i386: 295" in r.stdout
    r = syscalls("110")
    assert "getppid()" in r.stdout
    r = syscalls("nosuchcall")
    assert r.returncode == 1 and "unknown syscall" in r.stderr


def test_table_sets_like_strace():
    net = syscalls("%network").stdout
    assert "\tconnect\t" in net and "\topenat\t" not in net
    notdesc = syscalls("!%desc").stdout
    assert "\tread\t" not in notdesc and "\tgetppid\t" in notdesc
    assert syscalls("%nosuch").returncode == 1
