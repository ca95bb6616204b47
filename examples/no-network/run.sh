#!/bin/sh
# Demo: under examples/no-network/hooks.js a Python program can still use local
# (AF_UNIX) sockets but cannot create IPv4 or IPv6 sockets; the hook runs in
# notify mode. Exits 0 when that is what happened, 1 otherwise.
#
# usage: run.sh [PATH/TO/jvisor]      (default: the repo's build/jvisor, else jvisor in PATH)
set -u
. "$(dirname "$0")/../common.sh" # here, jvisor, python

echo "== no-network demo"
echo "   natively:"
echo "   \$ python3 probe.py"
"$python" "$here/probe.py" 2>&1 | sed 's/^/   | /'
echo
echo "   under jvisor, with a notify-mode hook on socket(AF_INET/AF_INET6):"
echo "   \$ jvisor run -s hooks.js -- python3 probe.py"
out=$(timeout 20 "$jvisor" run -s "$here/hooks.js" -- "$python" "$here/probe.py" 2>&1)
echo "$out" | sed 's/^/   | /'
echo

if echo "$out" | grep -q 'AF_UNIX socketpair: ping' &&
	echo "$out" | grep -q 'AF_INET socket: Permission denied' &&
	echo "$out" | grep -q 'AF_INET6 socket: Permission denied' &&
	echo "$out" | grep -q 'denied with EACCES (notify)'; then
	echo "OK: local sockets work, IP sockets are refused, and the hook ran in notify mode."
	exit 0
fi
echo "FAILED: expected the socketpair to work and both IP sockets to be refused."
exit 1
