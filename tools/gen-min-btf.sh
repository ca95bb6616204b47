#!/bin/sh
# The kernel types the BPF programs' CO-RE relocations use, cut from the BTF they
# were compiled against (bpftool gen min_core_btf), as a C array, with the size
# and fingerprint of that BTF (src/bpf/backend.c uses the array only when the
# running kernel's BTF has both: libbpf then skips parsing the whole vmlinux BTF).
# usage: gen-min-btf.sh BPFTOOL VMLINUX_BTF BPF_OBJECT BTFHASH_TOOL
set -eu
bpftool=$1 btf=$2 obj=$3 hash=$4
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$bpftool" gen min_core_btf "$btf" "$tmp" "$obj"
"$hash" "$btf"
echo "static const unsigned char jv_min_btf[] = {"
od -An -v -tx1 "$tmp" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "};"
