#!/bin/sh
# Demo: under examples/fs-cwd/hooks.js, /bin/pwd -P prints a directory that
# does not exist (/anydir) and `cat relative.txt` reads the file from another
# real directory. Exits 0 when that is what happened, 1 otherwise.
#
# usage: run.sh [PATH/TO/jvisor [FAKE_CWD]]
#   default jvisor: the repo's build/jvisor, else jvisor in PATH; default FAKE_CWD: /anydir
set -u
. "$(dirname "$0")/../common.sh" # here, jvisor, python
fake=${2:-/anydir}
pwd_bin=/bin/pwd
[ -x "$pwd_bin" ] || pwd_bin=/usr/bin/pwd

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
mkdir "$tmp/real" "$tmp/elsewhere"
echo "hello from the real directory" >"$tmp/real/relative.txt"

# The settings script: FS_CWD, with the paths as JavaScript strings.
js_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }
printf 'var FS_CWD = {fake: %s, real: %s};\n' "$(js_string "$fake")" "$(js_string "$tmp/real")" \
	>"$tmp/settings.js"

# Run the program in the empty directory, natively or under jvisor.
native() { (cd "$tmp/elsewhere" && "$@" 2>&1); }
jailed() { (cd "$tmp/elsewhere" && timeout 20 "$jvisor" run -s "$tmp/settings.js" -s "$here/hooks.js" -- "$@" 2>&1); }

echo "== fs-cwd demo"
echo "   The program runs in an empty directory; REAL_DIR holds relative.txt."
echo "   settings.js: $(cat "$tmp/settings.js")"
echo
echo "   natively:"
echo "   \$ $pwd_bin -P"
native "$pwd_bin" -P | sed 's/^/   | /'
echo "   \$ cat relative.txt"
native cat relative.txt | sed 's/^/   | /'
echo
echo "   under jvisor (jvisor run -s settings.js -s hooks.js -- ...):"
echo "   \$ $pwd_bin -P"
out_pwd=$(jailed "$pwd_bin" -P)
echo "$out_pwd" | sed 's/^/   | /'
echo "   \$ cat relative.txt"
out_cat=$(jailed cat relative.txt)
echo "$out_cat" | sed 's/^/   | /'
echo

if [ "$out_pwd" = "$fake" ] && [ "$out_cat" = "hello from the real directory" ]; then
	echo "OK: getcwd() reported $fake and relative.txt was read from REAL_DIR."
	exit 0
fi
echo "FAILED: expected pwd to print $fake and cat to print the file of REAL_DIR."
exit 1
