#!/bin/sh
# Demo: a client asks a local web server for /original; under
# examples/net-sender/hooks.js the request that goes out asks for /rewritten,
# so the server logs "GET /rewritten" and the client prints that file.
# Exits 0 when that is what happened, 1 otherwise.
#
# usage: run.sh [PATH/TO/jvisor]      (default: the repo's build/jvisor, else jvisor in PATH)
# The client is curl when installed, else a few lines of python3; set
# CLIENT=curl or CLIENT=python to choose.
set -u
. "$(dirname "$0")/../common.sh" # here, jvisor, python

tmp=$(mktemp -d) || exit 2
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir "$tmp/www"
echo "the ORIGINAL file" >"$tmp/www/original"
echo "the REWRITTEN file" >"$tmp/www/rewritten"

# The server picks a free port itself (port 0) and prints it.
"$python" -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/server.out" 2>"$tmp/server.log" &
server=$!
port=
i=0
while [ $i -lt 100 ]; do
	port=$(sed -n 's/.* port \([0-9][0-9]*\) .*/\1/p' "$tmp/server.out")
	[ -n "$port" ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$port" ]; then
	echo "run.sh: the web server did not start:" >&2
	cat "$tmp/server.log" >&2
	exit 2
fi
url=http://127.0.0.1:$port/original

client=${CLIENT:-}
if [ -z "$client" ]; then
	client=python
	command -v curl >/dev/null 2>&1 && client=curl
fi
if [ "$client" = curl ]; then
	client="curl -sS $url"
	set -- curl -sS "$url"
else
	client="python3 -c 'urllib.request.urlopen(...)'"
	set -- "$python" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$url"
fi

echo "== net-sender demo"
echo "   A web server on port $port serves two files, /original and /rewritten."
echo "   The client asks for /original, under jvisor with the net-sender hooks:"
echo "   \$ jvisor run -s hooks.js -- $client"
echo
timeout 20 "$jvisor" run -s "$here/hooks.js" -- "$@" >"$tmp/client.out" 2>"$tmp/client.err"
status=$?
echo "   client printed:"
sed 's/^/   | /' "$tmp/client.out"
echo "   jvisor and hooks said:"
sed 's/^/   | /' "$tmp/client.err"
echo "   the server logged:"
sed 's/^/   | /' "$tmp/server.log"
echo

if [ "$status" -eq 0 ] && grep -q 'REWRITTEN' "$tmp/client.out" &&
	grep -q '"GET /rewritten ' "$tmp/server.log" && ! grep -q '"GET /original' "$tmp/server.log"; then
	echo "OK: the client asked for /original; the server received GET /rewritten"
	echo "    and the client got the rewritten file."
	exit 0
fi
echo "FAILED: expected the server to log GET /rewritten and the client to print the rewritten file (client exit status $status)."
exit 1
