# Sourced by each example's run.sh, after `set -u`: sets `here` (the example's
# directory), `jvisor` (run.sh's first argument, else this repository's
# build/jvisor, else the jvisor in PATH: the installed examples in
# share/doc/jvisor/examples) and `python` (PYTHON, else Debian's
# /usr/bin/python3, else the first python3 in PATH); exits 2 when there is no
# jvisor binary.
here=$(cd "$(dirname "$0")" && pwd)
jvisor=${1:-$here/../../build/jvisor}
if [ $# -eq 0 ] && [ ! -x "$jvisor" ]; then
	jvisor=$(command -v jvisor) || jvisor=$here/../../build/jvisor
fi
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3

if [ ! -x "$jvisor" ]; then
	echo "run.sh: no jvisor binary at $jvisor (build it with: make)" >&2
	exit 2
fi
