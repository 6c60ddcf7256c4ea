#!/bin/sh
# fetch-kernel.sh OUTDIR: download Debian's current Linux 6.1 kernel package
# (the version linux-image-amd64 depends on, its -unsigned build when the
# archive has one) with apt-get download, and extract its vmlinuz.
# Leaves OUTDIR/<package>.deb, OUTDIR/vmlinuz and OUTDIR/kernel-version
# ("<package> <version>").  make only runs this when OUTDIR/vmlinuz is
# missing, so a rerun neither asks apt nor downloads; rm -r OUTDIR to move
# to a newer kernel.
set -eu
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)

abi_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(abi_pkg)
if [ -z "$pkg" ]; then
	# No package lists yet (a fresh machine): fetch them once.
	apt-get update -qq
	pkg=$(abi_pkg)
fi
[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve linux-image-amd64" >&2; exit 1; }
if apt-cache show "$pkg-unsigned" >/dev/null 2>&1; then
	pkg=$pkg-unsigned
fi
ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
echo "fetch-kernel: $pkg $ver"

rm -f "$out"/linux-image-*.deb
# apt's _apt user may not be allowed into build/: the download then runs as
# root, which apt reports with a harmless warning.
(cd "$out" && apt-get download "$pkg=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
deb=$(ls "$out"/"$pkg"_*.deb)

# Only the kernel image is needed: extract ./boot from the package's file
# system (the same tree dpkg-deb -x writes) instead of 400 MB of modules.
tmp=$out/extract.$$
rm -rf "$tmp"
mkdir -p "$tmp"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
mv "$tmp"/boot/vmlinuz-* "$out/vmlinuz.tmp"
rm -rf "$tmp"
echo "$pkg $ver" >"$out/kernel-version"
touch "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
