#!/bin/sh
# mkrootfs.sh OUT PROGRAM...: the root file system archive (newc cpio) the
# kernel gets as its boot module: the programs and busybox in /bin, extension
# objects (*.o) in /ext, /etc/motd, a
# symbolic link /etc/issue -> motd and an empty /tmp.  Fixed owners and
# times, sorted entries: the same inputs give the same bytes.
set -eu
out=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/tmp" "$tmp/ext"
for p in "$@"; do
	case "$p" in
	*.o) cp "$p" "$tmp/ext/" ;; # extension objects
	*) cp "$p" "$tmp/bin/" ;;
	esac
done
# Debian's busybox-static (glibc, not built here): static Linux binaries
# nobody here wrote.  Optional: the suite's busybox cases need it.
[ -x /bin/busybox ] && cp /bin/busybox "$tmp/bin/busybox"
printf 'Welcome to Spindle: this file came from the cpio root file system.\n' >"$tmp/etc/motd"
ln -s motd "$tmp/etc/issue"
find "$tmp" -exec touch -h -d @0 {} +
(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
