#!/bin/sh
# Demo: under examples/bind-in-use/hooks.js, `python3 -m http.server` cannot
# bind its port and exits with "Address already in use", although the port is
# free. Exits 0 when that is what happened, 1 otherwise.
#
# usage: run.sh [PATH/TO/jvisor]      (default: the repo's build/jvisor, else jvisor in PATH)
set -u
. "$(dirname "$0")/../common.sh" # here, jvisor, python

# A port that is free right now: the kernel picks it for a throwaway socket.
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || exit 2

out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT INT TERM

echo "== bind-in-use demo"
echo "   Port $port on 127.0.0.1 is free. Starting a web server on it under jvisor,"
echo "   with a hook that makes every bind() fail with EADDRINUSE:"
echo "   \$ jvisor run -s hooks.js -- python3 -m http.server $port --bind 127.0.0.1"
echo
# timeout: if the hook did not work the server would serve forever.
timeout 20 "$jvisor" run -s "$here/hooks.js" -- \
	"$python" -m http.server "$port" --bind 127.0.0.1 >"$out" 2>&1
status=$?
if grep -q 'Address already in use' "$out"; then
	# The hook's lines and the last line of Python's traceback are enough.
	{ grep '^\[hook\]' "$out"; tail -n 1 "$out"; } | sed 's/^/   | /'
else
	sed 's/^/   | /' "$out"
fi
echo

if [ "$status" -eq 124 ]; then
	echo "FAILED: the server started and kept running; the hook did not stop bind()."
	exit 1
fi
if grep -q '^\[hook\] bind' "$out" && grep -q 'Address already in use' "$out" && [ "$status" -ne 0 ]; then
	echo "OK: the hook ran, and the server exited (status $status) with"
	echo "    \"Address already in use\" although port $port was free."
	exit 0
fi
echo "FAILED: expected the hook to run and the server to fail with \"Address already in use\" (exit status $status)."
exit 1
