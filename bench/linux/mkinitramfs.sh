#!/bin/sh
# mkinitramfs.sh OUT LBENCH INIT: a newc cpio with busybox-static as the
# shell, INIT as /init and the benchmark program as /lbench.  Uncompressed
# (unpacking is cheaper than decompressing under TCG), with fixed mtimes
# and owners so the same inputs give the same bytes.
set -eu
out=$1 lbench=$2 init=$3
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkinitramfs: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/tmp"
cp "$bb" "$tmp/bin/busybox"
for a in sh mount poweroff reboot cat echo; do ln -s busybox "$tmp/bin/$a"; done
cp "$lbench" "$tmp/lbench"
cp "$init" "$tmp/init"
chmod 755 "$tmp/init" "$tmp/lbench"
# The kernel's built-in initramfs already has /dev/console; make our own
# when we may (root), for kernels built without it.
mknod -m 600 "$tmp/dev/console" c 5 1 2>/dev/null || true
find "$tmp" -exec touch -h -d @0 {} +
(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
