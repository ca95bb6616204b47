#!/usr/bin/env bash
# tools/fresh-debian12.sh [-k] [COMMAND]
#
# Run COMMAND (default: the README's two commands, `make deps demo && make deps check`)
# in a clone of this repository's committed HEAD inside a brand-new Debian 12 root file
# system that has nothing but apt, git, make and ca-certificates: the machine a newcomer
# starts from. This is what CI runs (.ci/run): a green run on an already-provisioned
# machine can hide a missing install step.
#
# How: mmdebstrap makes the root (bookworm, the `apt` variant) from the Debian mirror that
# this machine's apt already uses; the root is entered with pivot_root in a private mount
# namespace, not with chroot (a chrooted process may not create user namespaces, so
# `--isolate` and the container tests would fail there for reasons of the harness).
#
# Run as root from anywhere in the repository. -k keeps the root afterwards (its path is
# printed). Exit status: COMMAND's (2 for a usage or set-up error).
set -euo pipefail

die() { echo "fresh-debian12: $*" >&2; exit 2; }

keep=0
if [ "${1:-}" = -k ]; then keep=1; shift; fi
case "${1:-}" in -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cmd=${1:-"make deps demo && make deps check"}

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, mount namespaces, pivot_root)"
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || die "not inside a git checkout"
command -v unshare >/dev/null && command -v umount >/dev/null || die "unshare and umount (util-linux) are needed"
if ! command -v mmdebstrap >/dev/null; then
	echo "fresh-debian12: installing mmdebstrap" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
fi

# The Debian archive this machine's apt uses (deb822 sources first, then the one-line
# format): the URI of the first entry whose suites include bookworm, excluding the
# security archive, which is added beside it when the machine uses one.
apt_uris() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		     { u = ""; s = ""
		       for (i = 1; i <= NF; i++) {
		         if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); u = $i }
		         if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", $i); s = $i } }
		       if (u != "" && s ~ /bookworm/) print u " " s }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
		                   if ($(i + 1) ~ /bookworm/) print $i " " $(i + 1) }' "$f"
	done
}
mirror=$(apt_uris | awk '$2 ~ /^bookworm( |$)/ && $1 !~ /security/ { print $1; exit }')
security=$(apt_uris | awk '$1 ~ /security/ { print $1; exit }')
[ -n "$mirror" ] || die "no Debian bookworm mirror found in /etc/apt/sources*"

root=$(mktemp -d /var/tmp/jvisor-fresh-debian12.XXXXXX)
cleanup() {
	if [ $keep = 1 ]; then
		echo "fresh-debian12: root kept at $root" >&2
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT

start=$(date +%s)
sources=("deb $mirror bookworm main" "deb $mirror bookworm-updates main")
[ -n "$security" ] && sources+=("deb $security bookworm-security main")
mmdebstrap --quiet --variant=apt --include=ca-certificates,git,make bookworm "$root" \
	"${sources[@]}" >&2 || die "mmdebstrap failed"
git clone -q "$top" "$root/src" || die "git clone of $top failed"

# The network is this machine's, not the project's: name resolution, and the local CA
# certificates (and npm's CA setting) that this machine's TLS clients trust, so package
# registries are reached from the fresh root as they are from here.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
for crt in /usr/local/share/ca-certificates/*.crt; do
	[ -f "$crt" ] && cp "$crt" "$root/usr/local/share/ca-certificates/"
done
chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
[ -f /etc/npmrc ] && cp /etc/npmrc "$root/etc/npmrc"
passenv=()
for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE GIT_SSL_CAINFO \
	REQUESTS_CA_BUNDLE; do
	val=${!v:-}
	if [ -n "$val" ] && [ -e "$root$val" ]; then passenv+=("$v=$val"); fi
done
echo "fresh-debian12: root ready in $(($(date +%s) - start)) s; running: $cmd" >&2

mkdir -p "$root/.oldroot"
set +e
unshare --mount --propagation private --fork -- /bin/sh -c '
	set -e
	r=$1; c=$2; um=$3; shift 3
	mount --rbind "$r" "$r"
	mount --rbind /dev "$r/dev"
	mount --rbind /sys "$r/sys"
	mount -t proc proc "$r/proc"
	mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
	mount -t tmpfs -o mode=755 tmpfs "$r/run"
	mkdir -p "$r/run/lock"
	cd "$r"
	pivot_root . .oldroot
	"/.oldroot$um" -l /.oldroot
	cd /src
	exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive CI="${CI:-}" \
		"$@" /bin/sh -c "$c"
' fresh-debian12 "$root" "$cmd" "$(command -v umount)" "${passenv[@]}"
rc=$?
set -e
echo "fresh-debian12: exit status $rc after $(($(date +%s) - start)) s" >&2
exit $rc
