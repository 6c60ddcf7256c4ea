#!/bin/sh
# run.sh SMP LOG [lbench arguments]: boot the Linux baseline (vmlinuz and
# initramfs.cpio in $LINUX_DIR, default build/bench/linux) in QEMU with the
# same machine options as Spindle's guest benchmarks and keep the serial
# output in LOG.  Fails unless the guest printed BENCHEND and left through
# isa-debug-exit with status 67 (code 33).
#
# Environment: BENCH_GUEST_QEMU, the guest benchmark machine's options
# without -smp and without kernel/initrd (mk/bench.mk defines them once for
# the Linux baseline and Spindle's guest parts; the default below is the
# same set for a run by hand), QEMU (qemu-system-x86_64), TIMEOUT seconds
# (600), LINUX_CMDLINE (default "console=ttyS0 quiet"; "maxcpus=1" is added
# when SMP > 1, see below).
set -u
smp=$1 log=$2
shift 2
dir=${LINUX_DIR:-build/bench/linux}
qemu=${QEMU:-qemu-system-x86_64}
opts=${BENCH_GUEST_QEMU:--accel tcg -cpu max -icount shift=0,sleep=off -seed 1 \
-rtc base=2024-01-01T00:00:00,clock=vm -m 512M -nodefaults -bios /usr/share/qemu/qboot.rom \
-no-reboot -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04}
cmdline=${LINUX_CMDLINE:-console=ttyS0 quiet}
# Under -icount, QEMU 7.2's round-robin vCPU scheduler livelocks Linux's
# boot-time bring-up of the second CPU (it spins in wait_for_master_cpu
# with interrupts off, the boot CPU never gets past "Booting SMP
# configuration").  Bringing it up later by CPU hotplug works: boot with
# maxcpus=1 and let /init online the rest.
[ "$smp" -gt 1 ] && cmdline="$cmdline maxcpus=1"
[ $# -gt 0 ] && cmdline="$cmdline -- $*"
# shellcheck disable=SC2086 # opts is an option list
timeout --foreground -k 5 "${TIMEOUT:-600}" "$qemu" $opts -smp "$smp" \
	-kernel "$dir/vmlinuz" -initrd "$dir/initramfs.cpio" -append "$cmdline" \
	</dev/null >"$log.tmp" 2>&1
rc=$?
# LOG exists only after a complete run (make uses it as a target).
tr -d '\r' <"$log.tmp" >"$log.part"
rm -f "$log.tmp" "$log"
if [ "$rc" -ne 67 ] || ! grep -q '^BENCHEND' "$log.part"; then
	mv "$log.part" "$log.failed"
	echo "run.sh: Linux guest (smp $smp) failed: QEMU exit $rc (124 = timeout); log $log.failed" >&2
	tail -n 20 "$log.failed" >&2
	exit 1
fi
mv "$log.part" "$log"
