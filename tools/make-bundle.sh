#!/bin/sh
# make-bundle.sh JVISOR DIR: a self-contained copy of jvisor in DIR (replaced):
# DIR/jvisor, DIR/lib/ (every shared library ldd lists) and DIR/ld.so (the ELF
# loader), started as DIR/ld.so --library-path DIR/lib DIR/jvisor, so that it
# runs in any container image whatever libc it has, and the program it starts
# inherits no LD_LIBRARY_PATH.
set -eu
jvisor=$1
dir=$2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/lib"
cp "$jvisor" "$dir.tmp/jvisor"
loader=
for lib in $(ldd "$jvisor" | awk '/=> \//{print $3} /^\t\//{print $1}'); do
	case "$lib" in
	*/ld-linux*) loader=$lib ;;
	*) cp -L "$lib" "$dir.tmp/lib/" ;;
	esac
done
[ -n "$loader" ] || { echo "make-bundle: no ELF loader in ldd $jvisor" >&2; exit 1; }
cp -L "$loader" "$dir.tmp/ld.so"
chmod -R a+rX,go-w "$dir.tmp"
# The bundle must run with nothing of the host's: try it with an empty environment.
env -i "$dir.tmp/ld.so" --library-path "$dir.tmp/lib" "$dir.tmp/jvisor" --version >/dev/null
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "bundle: $dir ($(du -sh "$dir" | cut -f1))"
