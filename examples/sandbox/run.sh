#!/bin/sh
# Demo: a Python program under --isolate and a policy file (config.json): it
# sees its own host name and processes, a read-only host /, a private tmpfs,
# no sockets (policy.json) and no new namespaces (the default policy). Exits 0 when that
# is what happened, 1 otherwise.
#
# usage: run.sh [PATH/TO/jvisor]      (default: the repo's build/jvisor, else jvisor in PATH)
set -u
. "$(dirname "$0")/../common.sh" # here, jvisor, python
echo "== sandbox demo"
echo "   \$ jvisor run -c config.json -- python3 probe.py"
echo
out=$(cd "$here" && timeout 60 "$jvisor" run -c config.json -- "$python" probe.py 2>&1)
echo "$out" | sed 's/^/   /'
echo
ok=0
for want in "hostname: demo | pid: 2 | SANDBOX_DEMO: 1" \
	"write /etc/demo: denied (Read-only file system)" \
	"write /mnt/demo (tmpfs): allowed" \
	"socket(): denied (Permission denied)" \
	"unshare a new user namespace: denied (Operation not permitted)" \
	"processes visible: 2"; do
	case "$out" in
	*"$want"*) ;;
	*) echo "   MISSING: $want"; ok=1 ;;
	esac
done
[ $ok = 0 ] && echo "== as expected" || echo "== NOT as expected"
exit $ok
