"""The BPF backend's start: what it asks of the kernel (BENCHMARKS.md, "After the
performance work"). Counted with `perf trace`, not timed, so a loaded machine
cannot fail it."""
import mmap
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import JVISOR, need

KERNEL_BTF = "/sys/kernel/btf/vmlinux"


def syscalls_of_start(tmp_path):
    """`jvisor run --log-backend bpf -e all -- true` under perf trace: the number
    of read() and bpf() calls jvisor's main thread made, and the log."""
    need("perf")
    out, log = tmp_path / "trace.txt", tmp_path / "log.jsonl"
    r = subprocess.run(["perf", "trace", "-e", "read,bpf", "-o", str(out), "--", JVISOR,
                        "run", "--log-backend", "bpf", "-e", "all", "-o", str(log), "--",
                        "true"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 and "perf" in r.stderr and not log.exists():
        pytest.skip(f"perf trace unusable here: {r.stderr.strip()[:200]}")
    assert r.returncode == 0, r.stderr
    first = log.read_text().splitlines()[0]
    if '"backend":"bpf"' not in first:
        pytest.skip(f"BPF unusable here: {first}")
    text = out.read_text()
    # The main thread is the one with the most calls (the engine's threads make few).
    per = {}
    for m in re.finditer(r"jvisor/(\d+) (read|bpf)\(", text):
        per.setdefault(m.group(1), {"read": 0, "bpf": 0})[m.group(2)] += 1
    main = max(per.values(), key=lambda c: c["read"] + c["bpf"])
    return main


def built_for_this_kernel():
    """Was jvisor built against this kernel's BTF, and can it be mapped (6.16+)?"""
    inc = Path(JVISOR).resolve().parent / "gen" / "min_btf.inc"
    if not inc.exists():
        return False, f"{inc} not found"
    m = re.search(r"JV_KERNEL_BTF_SIZE (\d+)u", inc.read_text())
    size = os.stat(KERNEL_BTF).st_size
    if not m or int(m.group(1)) != size:
        return False, "jvisor was built against another kernel's BTF"
    try:
        with open(KERNEL_BTF, "rb") as f:
            mmap.mmap(f.fileno(), size, mmap.MAP_PRIVATE, mmap.PROT_READ).close()
    except OSError as e:
        return False, f"{KERNEL_BTF} cannot be mapped (Linux < 6.16): {e}"
    return True, ""


def test_start_skips_reading_the_kernel_btf(tmp_path):
    """Built on this kernel: libbpf gets the types CO-RE needs from jvisor, and
    the 5 MB kernel BTF is not read a page per read() (~1,300 reads)."""
    if not os.path.exists(KERNEL_BTF):
        pytest.skip("the kernel has no BTF")
    ok, why = built_for_this_kernel()
    if not ok:
        pytest.skip(why)
    calls = syscalls_of_start(tmp_path)
    assert calls["read"] < 400, calls


def test_start_few_bpf_calls(tmp_path):
    """The syscall table in one batch, no summary lookups without --summary:
    tens of bpf() calls, not one per syscall number (~1,400)."""
    calls = syscalls_of_start(tmp_path)
    assert 0 < calls["bpf"] < 200, calls
