#!/bin/sh
# Demo: examples/latency-histogram/hooks.js prints, when the program ends, a
# histogram of the time each kind of syscall took (read, write, openat, ...),
# collected by observe-mode hooks. The program is `tar` archiving a directory
# into `wc -c`. Exits 0 when the histogram counted every read and write the
# program made (checked against jvisor's own event log), 1 otherwise.
#
# usage: run.sh [PATH/TO/jvisor]      (default: the repo's build/jvisor)
set -u
. "$(dirname "$0")/../common.sh" # here, jvisor, python

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
mkdir "$tmp/data"
i=0
while [ $i -lt 40 ]; do
	head -c $((i * 997)) /dev/zero >"$tmp/data/f$i"
	i=$((i + 1))
done
cmd="tar cf - -C $tmp data | wc -c"

echo "== latency-histogram demo"
echo "   \$ jvisor run -s hooks.js -o log.jsonl -e read,write -- sh -c '$cmd'"
timeout 60 "$jvisor" run -s "$here/hooks.js" -o "$tmp/log.jsonl" -e read,write -- sh -c "$cmd" \
	>"$tmp/out" 2>&1
status=$?
sed 's/^/   | /' "$tmp/out"
echo "   the histogram (print records of log.jsonl):"
"$python" - "$tmp/log.jsonl" >"$tmp/check" <<'PY'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
text = [r["text"] for r in recs if r["type"] == "print"]
for t in text:
    print("   | " + t)
calls = {}
for r in recs:
    if r["type"] == "syscall":
        calls[r["name"]] = calls.get(r["name"], 0) + 1
shown = {m.group(1): int(m.group(2)) for t in text
         for m in [re.match(r"(\w+): (\d+) calls", t)] if m}
ok = calls and all(shown.get(k) == v for k, v in calls.items())
print("   log: " + json.dumps(calls) + "; histogram: " + json.dumps(
    {k: shown.get(k) for k in calls}))
print("MATCH" if ok else "MISMATCH")
PY
cat "$tmp/check" | grep -v '^MATCH$\|^MISMATCH$'
echo

if [ "$status" -eq 0 ] && grep -q '^MATCH$' "$tmp/check"; then
	echo "OK: the histogram counted every read and write the log recorded."
	exit 0
fi
echo "FAILED: the histogram's counts differ from the log's (status $status)."
exit 1
