"""The web viewer (docs/web.md): `jvisor view LOG` over a saved log and
`jvisor run --web` over a live sandbox, driven through the JSON API."""
import json
import random
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import JVISOR, helper

URL_RE = re.compile(r"web viewer at (http://[^/ ]+)/[#?]token=([0-9a-f]+)")


class Server:
    """A jvisor process serving the viewer; its stderr is collected."""

    def __init__(self, args, stdout=subprocess.DEVNULL, **popen_kw):
        self.proc = subprocess.Popen([JVISOR] + args, stdout=stdout, stderr=subprocess.PIPE,
                                     text=True, **popen_kw)
        self.err = []
        self.out = []
        found = threading.Event()

        def reader():
            for line in self.proc.stderr:
                self.err.append(line)
                m = URL_RE.search(line)
                if m:
                    self.base, self.token = m.group(1), m.group(2)
                    found.set()
        threading.Thread(target=reader, daemon=True).start()
        if stdout == subprocess.PIPE:
            def out_reader():
                for line in self.proc.stdout:
                    self.out.append(line)
            threading.Thread(target=out_reader, daemon=True).start()
        if not found.wait(60):
            self.close()
            pytest.fail("no web viewer address on stderr: " + "".join(self.err))

    def get(self, path, token=None, raw=False, timeout=30):
        req = urllib.request.Request(self.base + path)
        if token:
            req.add_header("X-Jvisor-Token", token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                body = r.read()
                return r.status, (body if raw else json.loads(body))
        except urllib.error.HTTPError as e:
            body = e.read()
            return e.code, (body if raw else json.loads(body))

    def post(self, path, body, token=None, ctype="application/json", timeout=30):
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, method="POST")
        req.add_header("Content-Type", ctype)
        if token:
            req.add_header("X-Jvisor-Token", token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def wait_err(self, text, timeout=20):
        """Wait until a line of stderr contains text; True when one did."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.err):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


NAMES = ["openat", "read", "write", "close", "mmap", "getppid", "connect"]


def make_log(path, n, seed=1):
    """A synthetic log of n records; returns the facts the tests check."""
    rnd = random.Random(seed)
    facts = {"n": n, "by_name": {}, "errors": 0, "hooked": 0, "pid7": 0, "needle": 0,
             "net": 0, "enoent": 0}
    t0 = 1700000000.0
    with open(path, "w") as f:
        f.write(json.dumps({"type": "spawn", "ts": t0, "pid": 5, "tid": 5,
                            "argv": ["root", "x"]}) + "\n")
        f.write(json.dumps({"type": "fork", "ts": t0, "pid": 5, "tid": 5, "comm": "root",
                            "child": 7, "flags": "SIGCHLD", "thread": False}) + "\n")
        f.write(json.dumps({"type": "exec", "ts": t0, "pid": 7, "tid": 7, "comm": "kid",
                            "path": "/bin/kid", "argv": ["kid", "-v"]}) + "\n")
        for i in range(3, n - 1):
            name = NAMES[i % len(NAMES)]
            pid = 7 if i % 3 == 0 else 5
            err = name == "openat" and i % 2 == 0
            hooked = name == "getppid" and i % 5 == 0
            rec = {"type": "syscall", "ts": t0 + i / 20000.0, "pid": pid, "tid": pid,
                   "comm": "kid" if pid == 7 else "root", "sysno": 0, "name": name,
                   "args": ["/etc/needle" if i % 1000 == 0 else "/etc/x", rnd.randint(0, 9)],
                   "ret": -1 if err else 0, "errno": 2 if err else 0,
                   "errname": "ENOENT" if err else None, "dur_us": 3}
            if hooked:
                rec["hooks"] = {"before": ["h.js:1"], "skipped": True}
                f.write(json.dumps({"type": "print", "ts": rec["ts"], "pid": pid, "tid": pid,
                                    "where": "h.js:2", "text": f"hello {i}"}) + "\n")
                facts["hooked"] += 1
                facts["n"] += 1
            f.write(json.dumps(rec) + "\n")
            facts["by_name"][name] = facts["by_name"].get(name, 0) + 1
            facts["errors"] += err
            facts["enoent"] += err
            facts["pid7"] += pid == 7
            facts["needle"] += i % 1000 == 0
            facts["net"] += name == "connect"
        f.write(json.dumps({"type": "exit", "ts": t0 + n / 20000.0, "pid": 7, "tid": 7,
                            "status": 3}) + "\n")
    return facts


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "big.jsonl"
    facts = make_log(path, 200000)
    t = time.monotonic()
    s = Server(["view", str(path)])
    facts["startup"] = time.monotonic() - t
    yield s, facts
    s.close()


def test_view_pages_and_counts(big):
    s, facts = big
    assert facts["startup"] < 30
    st, j = s.get("/api/events?offset=0&limit=50")
    assert st == 200 and j["total"] == facts["n"] and j["records"] == facts["n"]
    assert [e["seq"] for e in j["events"]] == list(range(50))
    assert j["events"][0]["type"] == "spawn"
    st, j = s.get(f"/api/events?offset={facts['n'] - 10}&limit=100")
    assert len(j["events"]) == 10 and j["events"][-1]["type"] == "exit"
    st, j = s.get(f"/api/events?offset={facts['n'] + 5}")
    assert st == 200 and j["events"] == []


@pytest.mark.parametrize("query,key", [
    ("name=openat", "openat"), ("name=read,write", "read+write"), ("errors=1", "errors"),
    ("hooked=1", "hooked"), ("pid=7&syscalls=1", "pid7"), ("q=NEEDLE", "needle"),
    ("class=network", "net"), ("class=%25network&errors=true", None),
    ("q=enoent&name=openat", "enoent")])
def test_view_filters(big, query, key):
    s, facts = big
    want = {"openat": facts["by_name"]["openat"],
            "read+write": facts["by_name"]["read"] + facts["by_name"]["write"],
            None: 0}.get(key, facts.get(key))
    t = time.monotonic()
    st, j = s.get(f"/api/events?limit=20&{query}")
    assert time.monotonic() - t < 20
    assert st == 200, j
    assert j["total"] == want
    assert len(j["events"]) == min(20, want)
    # a later page of the same filter continues where the first ended
    st, j2 = s.get(f"/api/events?limit=20&offset=20&{query}")
    if want > 20:
        assert j2["events"][0]["seq"] > j["events"][-1]["seq"]


@pytest.mark.parametrize("query,what", [
    ("limit=5000", "limit"), ("limit=-1", "limit"), ("offset=abc", "offset"),
    ("pid=x", "pid"), ("errors=maybe", "errors"), ("class=nope", "class"),
    ("name=open(at)", "name"), ("q=" + "a" * 300, "q")])
def test_view_bad_parameters(big, query, what):
    s, _ = big
    st, j = s.get("/api/events?" + query)
    assert st == 400
    assert what in j["error"]


def test_view_event_processes_stats(big):
    s, facts = big
    st, j = s.get("/api/events?hooked=1&limit=1")
    seq = j["events"][0]["seq"]
    st, d = s.get(f"/api/event?seq={seq}")
    assert st == 200 and d["event"]["hooks"]["skipped"] is True
    assert d["output"] and d["output"][0]["text"].startswith("hello")
    assert s.get("/api/event?seq=999999999")[0] == 404
    assert s.get("/api/event")[0] == 400
    st, procs = s.get("/api/processes")
    by = {p["pid"]: p for p in procs}
    assert by[7]["ppid"] == 5 and by[7]["argv"] == ["kid", "-v"] and by[7]["status"] == 3
    assert by[5]["argv"] == ["root", "x"]
    st, stats = s.get("/api/stats")
    assert stats["records"] == facts["n"]
    assert stats["errors"] == facts["errors"]
    assert {e["errname"]: e["count"] for e in stats["errors_by"]} == {"ENOENT": facts["errors"]}
    top = {t["name"]: t["count"] for t in stats["top_count"]}
    assert top == facts["by_name"]
    assert sum(stats["per_second"]) == sum(facts["by_name"].values())
    st, page = s.get("/", raw=True)
    assert st == 200 and b"app.js" in page
    assert s.get("/app.js", raw=True)[0] == 200
    assert s.get("/nope")[0] == 404


def test_view_control_actions_need_token_and_a_sandbox(big):
    s, _ = big
    st, j = s.post("/api/kill", '{"pid": 5}')
    assert st == 403 and "token" in j["error"]
    st, j = s.post("/api/kill", '{"pid": 5}', token="0" * 32)
    assert st == 403
    st, j = s.post("/api/kill", '{"pid": 5}', token=s.token)
    assert st == 409 and "saved log" in j["error"]


@pytest.mark.parametrize("host,ok", [
    ("evil.example:80", False), ("127.0.0.1.evil.example", False), ("localhost.evil", False),
    ("127.0.0.1:x", False), ("localhost:1234", True), ("127.0.0.2:80", True), ("[::1]:5", True)])
def test_view_checks_the_host_header(big, host, ok):
    s, _ = big
    req = urllib.request.Request(s.base + "/api/stats", headers={"Host": host})
    if ok:
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
        return
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 403


def test_view_beyond_loopback_needs_token(tmp_path):
    log = tmp_path / "l.jsonl"
    facts = make_log(log, 100)
    s = Server(["view", "--web", "0.0.0.0:0", str(log)])
    try:
        s.base = s.base.replace("0.0.0.0", "127.0.0.1")
        assert s.get("/api/stats")[0] == 403
        assert s.get("/")[0] == 403
        st, j = s.get("/api/stats?token=" + s.token)
        assert st == 200 and j["records"] == facts["n"]
        assert s.get("/api/stats", token=s.token)[0] == 200
    finally:
        s.close()


def test_view_usage_errors(tmp_path):
    r = subprocess.run([JVISOR, "view"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    r = subprocess.run([JVISOR, "view", str(tmp_path / "missing.jsonl")], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2 and "missing.jsonl" in r.stderr
    log = tmp_path / "l.jsonl"
    log.write_text("")
    r = subprocess.run([JVISOR, "view", "--web", "127.0.0.1:99999", str(log)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "port" in r.stderr
    r = subprocess.run([JVISOR, "run", "--web", "127.0.0.1:0", "-o", "-", "--", "true"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "-o FILE" in r.stderr


def sse_events(s, path, stop, timeout=20):
    """Yield (event, data) of the stream until stop(event, data) is true."""
    r = urllib.request.urlopen(s.base + path, timeout=timeout)
    ev, data = None, []
    deadline = time.monotonic() + timeout
    try:
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                ev = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "":
                if ev and data:
                    d = json.loads("".join(data))
                    if stop(ev, d):
                        return ev, d
                ev, data = None, []
            if time.monotonic() > deadline:
                break
    finally:
        r.close()
    pytest.fail(f"the stream did not deliver the expected event within {timeout} s")


def test_live_stream_hooks_and_kill(tmp_path):
    log = tmp_path / "live.jsonl"
    s = Server(["run", "--web", "127.0.0.1:0", "-o", str(log), "--",
                helper("web_tick"), "60"], stdout=subprocess.PIPE)
    try:
        st, info = s.get("/api/info")
        assert info["live"] and info["control"]
        # new records arrive on the stream
        st, j = s.get("/api/events?limit=0")
        after = j["records"]
        ev, d = sse_events(s, f"/api/stream?after={after}", lambda ev, d: ev == "records" and any(
            e.get("name") == "getppid" for e in d["events"]))
        assert all(e["seq"] >= after for e in d["events"])
        # the fork/exit of the child is in the process tree (the getppid above
        # may be the child's own, written before its exit record)
        deadline = time.monotonic() + 10
        while True:
            st, procs = s.get("/api/processes")
            if any(p.get("status") == 3 for p in procs) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert any(p.get("status") == 3 for p in procs), procs
        # hooks: no token, bad token, then a script that changes getppid
        script = "accessors.AddHookAfter('getppid', () => ({ret: 4242}))"
        assert s.post("/api/hooks", script, ctype="text/plain")[0] == 403
        assert s.post("/api/hooks", script, token="f" * 32, ctype="text/plain")[0] == 403
        st, j = s.post("/api/hooks", "", token=s.token, ctype="text/plain")
        assert st == 400 and "script" in j["error"]
        st, j = s.post("/api/hooks", "this is not javascript(", token=s.token,
                       ctype="text/plain")
        assert st == 400 and j["error"]
        st, j = s.post("/api/hooks", script, token=s.token, ctype="text/plain")
        assert st == 200 and j["ok"], j
        deadline = time.monotonic() + 20
        while "hooked\n" not in s.out and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "hooked\n" in s.out
        st, hooks = s.get("/api/hooks")
        assert any(h["name"] == "getppid" for h in hooks["payload"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            st, j = s.get("/api/events?hooked=1&name=getppid&limit=1")
            if j["total"]:
                break
            time.sleep(0.2)
        assert j["total"] > 0 and j["events"][0]["ret"] == 4242
        assert j["events"][0]["hooks"]["result"]["ret"] != 4242
        assert s.post("/api/hooks/unload", "{nope", token=s.token)[0] == 400
        st, j = s.post("/api/hooks/unload", '{"options": "all"}', token=s.token)
        assert st == 200 and j["payload"]["removed"] == 1
        # kill: bad body, then the program itself
        assert s.post("/api/kill", '{"pid": "x"}', token=s.token)[0] == 400
        # the process without a parent (pids wrap: the smallest may be the child)
        roots = [p["pid"] for p in s.get("/api/processes")[1] if p["ppid"] is None]
        assert len(roots) == 1, roots
        root = roots[0]
        st, j = s.post("/api/kill", json.dumps({"pid": root, "signal": "SIGKILL"}),
                       token=s.token)
        assert st == 200, j
        assert s.proc.wait(20) == 128 + 9
    finally:
        s.close()
    assert "exit" in log.read_text()


def test_live_without_log_file_uses_a_private_one(tmp_path):
    s = Server(["run", "--web", "127.0.0.1:0", "--web-keep", "--", helper("web_tick"), "0.2"])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            st, info = s.get("/api/info")
            if info["ended"]:
                break
            time.sleep(0.1)
        assert info["ended"] and not info["live"]
        st, j = s.get("/api/events?name=getppid&limit=0")
        assert j["total"] >= 5
        # the message comes after "ended" (the control socket and the log are
        # closed first) and reaches s.err through the reader thread
        assert s.wait_err("stays up")
        assert s.post("/api/kill", '{"pid": 1}', token=s.token)[0] == 409
    finally:
        s.close()
    assert s.proc.returncode == 0


def test_live_stream_says_ended_when_the_program_ends(tmp_path):
    s = Server(["run", "--web", "127.0.0.1:0", "--", helper("web_tick"), "1.5"])
    try:
        ev, d = sse_events(s, "/api/stream?after=0", lambda ev, d: ev == "ended")
        assert ev == "ended"
        assert s.proc.wait(20) == 0
    finally:
        s.close()


def test_config_keys_and_text_format(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"web": "127.0.0.1:0", "command": [helper("web_tick"), "0.3"]}))
    s = Server(["run", "-c", str(cfg)])
    try:
        assert s.proc.wait(30) == 0
    finally:
        s.close()
    cfg.write_text(json.dumps({"web": 8080}))
    r = subprocess.run([JVISOR, "run", "-c", str(cfg), "--", "true"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2 and "'web'" in r.stderr
    r = subprocess.run([JVISOR, "run", "--web", "127.0.0.1:0", "--format", "text", "-o",
                        str(tmp_path / "t.txt"), "--", "true"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2 and "JSON" in r.stderr


def test_view_other_and_invalid_lines(tmp_path):
    log = tmp_path / "odd.jsonl"
    log.write_text('{"type":"dropped","count":3,"total":3}\nnot json\n{}\n')
    s = Server(["view", str(log)])
    try:
        st, j = s.get("/api/events")
        assert [e["type"] for e in j["events"][:2]] == ["dropped", "invalid"]
        assert j["events"][1]["line"] == "not json" and j["events"][2] == {"seq": 2}
        assert s.get("/api/stats")[1]["invalid"] == 1
    finally:
        s.close()


def test_view_follows_a_growing_log(tmp_path):
    log = tmp_path / "grow.jsonl"
    facts = make_log(log, 50)
    s = Server(["view", str(log)])
    try:
        assert s.get("/api/events?limit=0")[1]["records"] == facts["n"]
        with open(log, "a") as f:
            f.write('{"type":"syscall","ts":1700000001.0,"pid":5,"tid":5,"name":"getpid",')
            f.flush()
            # half a line is not a record yet
            assert s.get("/api/events?limit=0")[1]["records"] == facts["n"]
            f.write('"sysno":39,"args":[],"ret":5,"errno":0,"errname":null,"dur_us":1}\n')
        st, j = s.get("/api/events?name=getpid")
        assert j["total"] == 1 and j["events"][0]["ret"] == 5
    finally:
        s.close()
