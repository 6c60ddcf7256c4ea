#!/bin/sh
# run-user.sh KERNEL ROOTFS: the "user" suite.  Boots the kernel once per
# case with the root file system as its boot module (-initrd) and a command
# line that starts user programs (init=PATH args, or procs=A,B,... to run
# several at once), then judges the serial output: every expected line must
# appear (grep -F), no forbidden one may, and QEMU must leave through
# isa-debug-exit with the expected status (33: init exited 0 / all procs
# ended; 35: init exited non-zero).  A VM that hangs is killed by timeout
# and fails.  Ends with "N passed, M failed".
set -u
kernel=$1 rootfs=$2
qemu=${QEMU:-qemu-system-x86_64}
accel=${QEMU_ACCEL:--accel tcg -cpu max}
log_dir=${USER_LOG_DIR:-build/test/user}
mkdir -p "$log_dir"
pass=0 fail=0

# run_once NAME STATUS CMDLINE EXPECT... [! FORBIDDEN...]: sets ok, why, log
run_once() {
	name=$1 want=$2 cmdline=$3
	shift 3
	log=$log_dir/$name.log
	# shellcheck disable=SC2086 # accel is an option list
	timeout --foreground -k 5 60 "$qemu" -bios /usr/share/qemu/qboot.rom -nodefaults $accel \
		-smp "${SMP:-1}" -m 256 -no-reboot -display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-serial stdio -kernel "$kernel" -initrd "$rootfs" -append "$cmdline" \
		</dev/null >"$log" 2>&1
	rc=$?
	ok=1 why=""
	[ "$rc" -eq "$want" ] || { ok=0; why="QEMU status $rc, want $want"; }
	neg=0
	for e in "$@"; do
		if [ "$e" = "!" ]; then neg=1; continue; fi
		if [ $neg -eq 0 ] && ! tr -d '\r' <"$log" | grep -qF -- "$e"; then
			ok=0; why="$why; missing \"$e\""
		elif [ $neg -eq 1 ] && tr -d '\r' <"$log" | grep -qF -- "$e"; then
			ok=0; why="$why; unexpected \"$e\""
		fi
	done
}

# run NAME STATUS CMDLINE EXPECT... [! FORBIDDEN...]
run() {
	run_once "$@"
	if [ $ok -eq 1 ]; then
		echo "ok $1"
		pass=$((pass + 1))
	else
		echo "FAIL $1: ${why#; } (log $log)"
		tail -n 8 "$log" | sed 's/^/    | /'
		fail=$((fail + 1))
	fi
}

NOCRASH="unexpected exception"
run hello 33 "init=/bin/hello one two" "hello from ring 3 (pid 1" "argv[0]=/bin/hello" \
	"argv[2]=two" "envp[0]=PATH=/bin" "sse: 3.750" "init: /bin/hello exited with status 0" \
	! "$NOCRASH" "heap:"
run cat 33 "init=/bin/cat /etc/motd /etc/issue" \
	"Welcome to Spindle: this file came from the cpio root file system." \
	"init: /bin/cat exited with status 0" ! "$NOCRASH"
run cat-missing 35 "init=/bin/cat /etc/nope" "cat: /etc/nope: No such file or directory" \
	"init: /bin/cat exited with status 1" ! "$NOCRASH"
nbin=$(( $(cpio -it --quiet <"$rootfs" | grep -c '^bin/') + 2 ))
run ls 33 "init=/bin/ls /bin" "d        0 ." "hello" "hostile" "ls: $nbin entries" \
	"init: /bin/ls exited with status 0" ! "$NOCRASH"
run ls-root 33 "init=/bin/ls" "d        0 etc" "d        0 ext" "d        0 tmp" "ls: 6 entries" \
	! "$NOCRASH"
run mmap 33 "init=/bin/mmap" "mmap: ok" "init: /bin/mmap exited with status 0" ! "$NOCRASH"
run brk 33 "init=/bin/brk" "brk: start 0x" ", ok" "init: /bin/brk exited with status 0" \
	! "$NOCRASH"
run hostile 33 "init=/bin/hostile" "hostile: " " passed, 0 failed" \
	"init: /bin/hostile exited with status 0" ! "$NOCRASH" "FAIL"
run fault-null 35 "init=/bin/fault" "process 1 (fault) killed: #PF (page fault)" \
	"address 0, error 6" "init: /bin/fault exited with status 142" ! "$NOCRASH" "still alive"
run fault-kernel 35 "init=/bin/fault kernel" "killed: #PF" "address ffffffff80100000" \
	"exited with status 142" ! "$NOCRASH" "still alive"
run fault-ud 35 "init=/bin/fault ud" "killed: #UD" "exited with status 134" ! "$NOCRASH"
run fault-gp 35 "init=/bin/fault gp" "killed: #GP" "exited with status 141" ! "$NOCRASH"
run fault-nx-stack 35 "init=/bin/fault jump" "killed: #PF" "error 15" ! "$NOCRASH"
run others-continue 33 "procs=/bin/fault,/bin/hello,/bin/fault,/bin/cat" \
	"procs: /bin/fault exited with status 142" "procs: /bin/hello exited with status 0" \
	"procs: /bin/cat exited with status 0" "Welcome to Spindle" "procs: all 4 ended" \
	! "$NOCRASH" "heap:"
# fork, wait4, pipes, dup, execve (of /bin/hello and of /proc/self/exe),
# kill, a faulting child's status, and hostile pointers for each new call.
run forktest 33 "init=/bin/forktest" "forktest: ok" " passed, 0 failed" \
	"init: /bin/forktest exited with status 0" ! "$NOCRASH" "FAIL" "heap:"
# Copy-on-write fork (kernel/translation.c), the kernel's side: forktest's
# child whose COW write finds no free page is killed with the reason named,
# as many pages are free afterwards as before, the kernel goes on.
run forktest-cow-oom 33 "init=/bin/forktest" "(copy-on-write: out of memory)" \
	"pages free with the hogging child" "16 MiB touched: fork+exit+wait4" "forktest: ok" \
	! "$NOCRASH" "FAIL" "heap:"
# Signals with user handlers (musl's sigaction, raise, kill, sigreturn with
# registers and SSE intact, masks, SA_RESETHAND/NODEFER/RESTART/ONSTACK,
# -EINTR from pipe read, wait4 and nanosleep, SIGCHLD, abort, SIGSEGV and
# SIGILL handlers, hostile rt_sigreturn frames, a SIGSEGV handler returning
# to the fault with every register intact, sigpending/sigsuspend/
# sigtimedwait/sigwaitinfo, kills reaching children spinning in user mode).
run sigtest 33 "init=/bin/sigtest" "sigtest: ok" " passed, 0 failed" \
	"init: /bin/sigtest exited with status 0" ! "$NOCRASH" "FAIL" "heap:"
run fpu-two-at-once 33 "procs=/bin/fpu,/bin/fpu,/bin/hello" "fpu: ok (1.644933733515)" \
	"procs: /bin/fpu exited with status 0" "procs: all 3 ended" ! "$NOCRASH" "fpu: FAIL"
if cpio -it --quiet <"$rootfs" | grep -qx bin/busybox; then
	# Debian's glibc-static busybox: a Linux binary nobody here wrote.
	run busybox-echo 33 "init=/bin/busybox echo hi from busybox" "hi from busybox" \
		"init: /bin/busybox exited with status 0" ! "$NOCRASH"
	run busybox-ls 33 "init=/bin/busybox ls -l /etc" "motd" "issue -> motd" \
		"init: /bin/busybox exited with status 0" ! "$NOCRASH"
	run busybox-cat 33 "init=/bin/busybox cat /etc/issue" "Welcome to Spindle" \
		! "$NOCRASH"
	run busybox-uname 33 "init=/bin/busybox uname -a" "Spindle spindle" "x86_64" ! "$NOCRASH"
	# A subshell is a fork: its assignment stays in the copy-on-write child.
	run busybox-cow 33 "init=/bin/busybox sh -c 'x=parent; (x=child; echo in \$x); echo out \$x'" \
		"in child" "out parent" "init: /bin/busybox exited with status 0" ! "$NOCRASH"
	# The shell's trap: a handler run for a signal sent to itself.
	run busybox-trap 33 "init=/bin/busybox sh -c 'trap \"echo caught\" USR1; kill -USR1 \$\$; echo after'" \
		"caught" "after" "init: /bin/busybox exited with status 0" ! "$NOCRASH"
	# Shell pipelines: fork, pipes, dup2, wait4 and busybox re-executing
	# itself through /proc/self/exe for the applets of a pipeline.
	nls=$(cpio -it --quiet <"$rootfs" | grep -c '^bin/')
	run busybox-pipe 33 "init=/bin/busybox sh -c 'echo one | cat'" "one" \
		"init: /bin/busybox exited with status 0" ! "$NOCRASH"
	run busybox-ls-wc 33 "init=/bin/busybox sh -c 'ls /bin | wc -l | sed s/^/count=/'" \
		"count=$nls" "init: /bin/busybox exited with status 0" ! "$NOCRASH"
	run busybox-subst 33 "init=/bin/busybox sh -c 'x=\$(echo hi); echo [\$x]'" "[hi]" \
		"init: /bin/busybox exited with status 0" ! "$NOCRASH"
	run busybox-status 35 "init=/bin/busybox sh -c 'false || echo ok; exit 3'" "ok" \
		"init: /bin/busybox exited with status 3" ! "$NOCRASH"
	# A child killed by a fault while the shell waits: $? = 128 + SIGSEGV.
	run busybox-fault-status 33 "init=/bin/busybox sh -c '/bin/fault; echo status=\$?'" \
		"killed: #PF" "status=139" "init: /bin/busybox exited with status 0" ! "$NOCRASH"
fi
run spin-syscalls-extension 33 "init=/bin/extload" \
	"greet: an extension loaded by a user process" \
	"spin: process 1 (extload) loaded extension greet from /ext/greet.o" \
	"extload: refused /etc/motd: " "extload: ok" "init: /bin/extload exited with status 0" \
	! "$NOCRASH" "extload: FAIL"
# The cross-address-space call: the xas extension loaded by the kernel,
# a server, its client (round trips, hostile arguments, the server exiting
# with a call pending: -EPIPE, no hang) and a third process with no handle.
XAS="exts=/ext/xas.o procs=/bin/xas_server,/bin/xas_client,/bin/xas_intruder"
run xas-call 33 "$XAS" "exts: loaded xas from /ext/xas.o" \
	"xas_server: pid 1, portal 0, granted handle 0 to pid 2" \
	"xas_client: 1000 round trips, last result 3997" "xas_intruder: ok" "xas_client: ok" \
	"xas_server: exiting with a call unanswered" "procs: /bin/xas_server exited with status 3" \
	"procs: /bin/xas_client exited with status 0" "procs: /bin/xas_intruder exited with status 0" \
	! "$NOCRASH" "FAIL"
# The server faults while it runs on the client's strand (a borrowed call):
# the server alone is killed, the call fails with -EPIPE.
run xas-server-faults 33 "exts=/ext/xas.o procs=/bin/xas_server,/bin/xas_crash" \
	"xas_server: faulting with a call unanswered" "process 1 (xas_server) killed: #PF" \
	"xas_crash: call into the faulting server: -32" "xas_crash: ok" \
	"procs: /bin/xas_server exited with status 142" "procs: /bin/xas_crash exited with status 0" \
	! "$NOCRASH"
run xas-not-loaded 33 "procs=/bin/xas_server" "xas_server: cannot register a portal (-38)" \
	"procs: /bin/xas_server exited with status 1" ! "$NOCRASH"
# The server changes while it runs on the client's strand: it forks and
# waits for a child, answers another portal (-EBUSY), gets an unmapped argp
# (the call delivered in rdx, -EFAULT), executes a new image that answers
# the pending call, and is killed by SIGKILL in a call (-EPIPE, status 9).
run xas-stress-life 33 "exts=/ext/xas.o init=/bin/xas_stress life borrowed" \
	"xas_stress: life ok" "init: /bin/xas_stress exited with status 0" ! "$NOCRASH" "FAIL"
# Application-specific system calls: vmuser loads its own VM extension
# (system calls + a ProtectionFault handler for its context); vmother, beside
# it, is not served by it, cannot unload or replace it, is served by its own
# copy, and its fault is not seen by vmuser's handler (it dies of it).
# vmuser also reads the public Clock.Cycles through its extension (between
# two rdtsc of its own, increasing, stamped at the fault handler's entry)
# and must fail to load /ext/vmpriv.o, which imports the private Bench.Mark.
run vm-syscalls 33 "init=/bin/vmuser" \
	"spin: process 1 (vmuser) loaded extension vmsys from /ext/vmsys.o" \
	"vmuser: refused /ext/vmpriv.o: unresolved import 'Bench_Mark'" "vmuser: ok" \
	"init: /bin/vmuser exited with status 0" ! "$NOCRASH" "FAIL" "loaded extension vmpriv"
run vm-isolation 33 "procs=/bin/vmuser,/bin/vmother" "vmuser: ok" "vmother: checks ok" \
	"process 2 (vmother) killed: #PF (page fault)" "procs: /bin/vmuser exited with status 0" \
	"procs: /bin/vmother exited with status 142" ! "$NOCRASH" "FAIL"
# Two CPUs: processes run (and are preempted) on both.
SMP=2
# (No smp2 case for vmuser yet: a protection change flushes only this
# CPU's TLB until Translation's cross-CPU shootdown lands, so a process that
# migrates may write through a stale entry without faulting.)
run smp2-xas-call 33 "$XAS" "xas_client: 1000 round trips" "xas_intruder: ok" "xas_client: ok" \
	"procs: /bin/xas_server exited with status 3" ! "$NOCRASH" "FAIL"
# Several clients calling one server from both CPUs: every result checked,
# xmm5 kept on both sides, every call counted.  The server works in each
# call so that calls overlap (queued callers, served by the server's own
# strand): a client that finds the server's strand still leaving its CPU
# must not borrow its kernel stack (kernel/portal.c, portal_do_call).
run smp2-xas-stress-many 33 "exts=/ext/xas.o init=/bin/xas_stress many 3 1000 3000" \
	"xas_stress: 3 clients x 1000 calls, 3006 served" "xas_stress: many ok" \
	"init: /bin/xas_stress exited with status 0" ! "$NOCRASH" "FAIL"
# The server exits with calls running and queued from both CPUs: each
# client sees -EPIPE after right answers only.
run smp2-xas-stress-die 33 "exts=/ext/xas.o init=/bin/xas_stress die 3 1500" \
	"xas_stress: die ok" "init: /bin/xas_stress exited with status 0" ! "$NOCRASH" "FAIL"
run smp2-xas-stress-life 33 "exts=/ext/xas.o init=/bin/xas_stress life" \
	"xas_stress: life ok" "init: /bin/xas_stress exited with status 0" ! "$NOCRASH" "FAIL"
run smp2-many 33 "procs=/bin/fpu,/bin/fpu,/bin/fault,/bin/hello,/bin/mmap,/bin/brk" \
	"fpu: ok (1.644933733515)" "mmap: ok" "procs: /bin/fault exited with status 142" \
	"procs: /bin/brk exited with status 0" "procs: all 6 ended" ! "$NOCRASH" "FAIL"
run smp2-hostile 33 "init=/bin/hostile" " passed, 0 failed" ! "$NOCRASH" "FAIL"
run smp2-forktest 33 "init=/bin/forktest" "forktest: ok" " passed, 0 failed" ! "$NOCRASH" "FAIL"
run smp2-sigtest 33 "init=/bin/sigtest" "sigtest: ok" " passed, 0 failed" ! "$NOCRASH" "FAIL"
if cpio -it --quiet <"$rootfs" | grep -qx bin/busybox; then
	run smp2-busybox-cow 33 \
		"init=/bin/busybox sh -c 'x=parent; for i in 1 2 3 4 5 6; do (x=\$i; echo sub\$x) | cat; done; echo out \$x'" \
		"sub1" "sub6" "out parent" "init: /bin/busybox exited with status 0" ! "$NOCRASH"
	run smp2-busybox-pipes 33 \
		"init=/bin/busybox sh -c 'ls /bin | wc -l | sed s/^/count=/; echo a b | cat | cat'" \
		"count=$nls" "a b" "init: /bin/busybox exited with status 0" ! "$NOCRASH"
fi
SMP=1
run no-such-program 35 "init=/bin/nope" "init: cannot start /bin/nope (-2)" ! "$NOCRASH"
run not-executable 35 "init=/etc/motd" "init: cannot start /etc/motd (-8)" ! "$NOCRASH"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
