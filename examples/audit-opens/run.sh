#!/bin/sh
# Demo: examples/audit-opens/hooks.js logs and counts the opens of sensitive
# files (/etc/passwd, /etc/shadow, ...) by a shell script and its children,
# with observe-mode hooks: the program is never stopped for the hook itself.
# Exits 0 when every sensitive open was reported (and nothing else), 1 otherwise.
#
# usage: run.sh [PATH/TO/jvisor]      (default: the repo's build/jvisor)
set -u
. "$(dirname "$0")/../common.sh" # here, jvisor, python

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
script='head -c 0 /etc/passwd; cat /etc/hostname >/dev/null; grep -c root /etc/passwd >/dev/null; cat /etc/shadow >/dev/null 2>&1; true'

echo "== audit-opens demo"
echo "   \$ jvisor run -o log.jsonl -e none -s hooks.js -- sh -c '$script'"
timeout 30 "$jvisor" run -o "$tmp/log.jsonl" -e none -s "$here/hooks.js" -- sh -c "$script" \
	>"$tmp/out" 2>&1
status=$?
sed 's/^/   | /' "$tmp/out"
echo "   the audit records in log.jsonl:"
grep '"sensitive-open"' "$tmp/log.jsonl" | sed 's/^/   | /'
echo

n_passwd=$(grep -c '"path":"/etc/passwd"' "$tmp/log.jsonl")
n_shadow=$(grep -c '"path":"/etc/shadow"' "$tmp/log.jsonl")
n_all=$(grep -c '"sensitive-open"' "$tmp/log.jsonl")
if [ "$status" -eq 0 ] && [ "$n_passwd" -eq 2 ] && [ "$n_shadow" -eq 1 ] && [ "$n_all" -eq 3 ] &&
	grep -q '"text":"audit: 3 sensitive opens: /etc/passwd x2, /etc/shadow x1"' "$tmp/log.jsonl"; then
	echo "OK: 3 sensitive opens logged (/etc/passwd twice, /etc/shadow once) and counted; /etc/hostname was not."
	exit 0
fi
echo "FAILED: expected 2 records for /etc/passwd, 1 for /etc/shadow and the summary (status $status)."
exit 1
