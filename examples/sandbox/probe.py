"""What the program sees inside examples/sandbox: one line per probe."""
import ctypes
import os
import socket
import subprocess


def unshare(flags):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) < 0:
        raise OSError(ctypes.get_errno(), "unshare")


def attempt(what, fn):
    try:
        fn()
        print(f"{what}: allowed")
    except OSError as e:
        print(f"{what}: denied ({os.strerror(e.errno)})")


print("hostname:", socket.gethostname(), "| pid:", os.getpid(),
      "| SANDBOX_DEMO:", os.environ.get("SANDBOX_DEMO"))
attempt("write /etc/demo", lambda: open("/etc/demo", "w"))
attempt("write /mnt/demo (tmpfs)", lambda: open("/mnt/demo", "w"))
attempt("socket()", lambda: socket.socket())
attempt("unshare a new user namespace", lambda: unshare(0x10000000))  # CLONE_NEWUSER
print("processes visible:", len([p for p in os.listdir("/proc") if p.isdigit()]))
print("ls /dev:", " ".join(sorted(os.listdir("/dev"))))
print("gcc:", subprocess.run(["gcc", "--version"], capture_output=True,
                             text=True).stdout.split("\n")[0] or "not installed")
