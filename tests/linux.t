#!/bin/sh
# The Linux personality: static programs (tests/linux/*.c, musl) and Debian's busybox-static applets,
# compared with the same program run natively on the same input (output and exit status).
. tests/lib.sh
L=${LINUX_BUILD:-build/linux}
BB=/bin/busybox
R=$tmp/root
mkdir -p "$R/dir/sub" "$R/etc"
seq 1 3000 | awk '{ print ($1 * 7919) % 3001 }' > "$R/nums.txt"
printf 'the quick brown fox\njumps over\nthe lazy dog\n' > "$R/words.txt"
echo x > "$R/dir/a"
echo y > "$R/dir/sub/b"
echo inside-root > "$R/etc/passwd"
ln -s /etc/hostname "$R/escape"
ln -s ../.. "$R/up"

# same NAME INPUT ARGS...: busybox ARGS natively (in the root, no environment) and under vmcall with
# that root: stdout, stderr and status must be identical.
same() {
    name=$1 input=$2
    shift 2
    (cd "$R" && env -i "$BB" "$@" < "$input" > "$tmp/n.out" 2> "$tmp/n.err"; echo $? > "$tmp/n.st")
    (cd "$R" && timeout 60 "$OLDPWD/$VMCALL" run --linux --root "$R" "$BB" -- "$@" < "$input" > "$tmp/v.out" \
        2> "$tmp/v.err"; echo $? > "$tmp/v.st")
    n=$((n + 1))
    if cmp -s "$tmp/n.out" "$tmp/v.out" && cmp -s "$tmp/n.err" "$tmp/v.err" && cmp -s "$tmp/n.st" "$tmp/v.st"; then
        echo "ok $n - busybox $name: as natively (status $(cat "$tmp/v.st"))"
    else
        failed=$((failed + 1))
        echo "not ok $n - busybox $name differs from the native run"
        diff "$tmp/n.out" "$tmp/v.out" | head -5 | sed 's/^/#    /'
        diff "$tmp/n.err" "$tmp/v.err" | head -5 | sed 's/^/#    /'
        echo "#    status native $(cat "$tmp/n.st"), vmcall $(cat "$tmp/v.st")"
    fi
}
# as_natively NATIVE VMCALL WHAT: one check that the run under vmcall left what the native run did.
as_natively() {
    n=$((n + 1))
    if cmp -s "$1" "$2"; then
        echo "ok $n - $3, as natively"
    else
        failed=$((failed + 1))
        echo "not ok $n - $3: differs from the native run"
        diff "$1" "$2" | head -8 | sed 's/^/#    /'
    fi
}
W=$R/words.txt
same echo /dev/null echo hello, world
same cat "$W" cat
same "cat FILE" /dev/null cat words.txt
same sha256sum /dev/null sha256sum nums.txt
same md5sum "$W" md5sum
same "sort -n" /dev/null sort -n nums.txt
same "sort -r" "$W" sort -r
same wc /dev/null wc nums.txt words.txt
same head /dev/null head -n 4 nums.txt
same tr "$W" tr a-z A-Z
same sed /dev/null sed -e 's/the/THE/g' -e 3d words.txt
same awk /dev/null awk '{ s += $1 } END { print s, NR }' nums.txt
same grep /dev/null grep -n -e the -e fox words.txt
same "grep (no match)" /dev/null grep zebra words.txt
same od /dev/null od -A x -t x1z words.txt
same ls /dev/null ls -R dir
same "cat (missing file)" /dev/null cat nosuch.txt
same false /dev/null false
same "sh -c 'exit 3'" /dev/null sh -c 'exit 3'
same "sh -c 'exit 200' (a status above vmcall's own range is the program's)" /dev/null sh -c 'exit 200'
same uniq "$W" uniq -c
same cut /dev/null cut -d ' ' -f 2 words.txt
same tail /dev/null tail -n 3 nums.txt
same seq /dev/null seq 1 7 50
same nl "$W" nl
same base64 /dev/null base64 words.txt
same expr /dev/null expr 6 '*' 7
same printf /dev/null printf '%s=%05d\n' x 42
same factor /dev/null factor 360 1001
same find /dev/null find dir
same "stat -c" /dev/null stat -c '%s %F' words.txt dir
same "sh pipeline-free script" /dev/null sh -c 'x=0; for i in 1 2 3; do x=$((x + i)); done; echo $x'
# Standard output and standard error on one pipe: the program's order holds (write(2) is not buffered:
# dd's unfinished last line comes before its report on stderr).
(cd "$R" && "$BB" dd if=words.txt bs=7 count=2 < /dev/null > "$tmp/n.both" 2>&1)
(cd "$R" && timeout 60 "$OLDPWD/$VMCALL" run --linux --root "$R" "$BB" -- dd if=words.txt bs=7 count=2 \
    < /dev/null > "$tmp/v.both" 2>&1)
as_natively "$tmp/n.both" "$tmp/v.both" "busybox dd with stdout and stderr on one pipe: in the program's order"
# Changing the tree in a writable root, command by command as natively in a copy: modes, times, sizes,
# links, FIFOs, cp -p, then what the tree looks like.
mkdir -p "$tmp/tree.n" "$tmp/tree.v"
: > "$tmp/tree.n.out"
: > "$tmp/tree.v.out"
while IFS= read -r cmd; do
    eval "set -- $cmd"
    (cd "$tmp/tree.n" && env -i "$BB" "$@" >> "$tmp/tree.n.out" 2>&1; echo "$1: $?" >> "$tmp/tree.n.out")
    timeout 60 "$VMCALL" run --linux --root "$tmp/tree.v,rw" "$BB" -- "$@" >> "$tmp/tree.v.out" 2>&1
    echo "$1: $?" >> "$tmp/tree.v.out"
done << 'END'
touch t
mkdir -p d/e
ln -s t s
ln t h
truncate -s 10 t
mkfifo -m 600 p
chmod 640 h
cp -p t c
touch -d "2020-01-02 03:04:05" t
stat -c "%n %a %s %F %h" t s h p d d/e c
stat -c %Y t
readlink s
rm h
rmdir d/e
chmod 4755 /nosuch
ls
END
as_natively "$tmp/tree.n.out" "$tmp/tree.v.out" \
    "changing the tree: chmod, touch -d, truncate, ln, ln -s, mkfifo, cp -p, rm, rmdir"
# Links the program makes are followed beneath the root only: through them, nothing on the host changes.
esc=$tmp/escape-target
echo keep > "$esc"
mode0=$(stat -c %a "$esc")
mkdir -p "$tmp/tree.e"
for cmd in "ln -s $esc abs" "ln -s ../../../../../../../../.. up" "truncate -s 0 abs" "chmod 777 abs" \
    "touch -d 2001-01-01 abs" "truncate -s 0 up$esc" "ln up$esc hard" "mkfifo up$tmp/made-outside"; do
    timeout 60 "$VMCALL" run --linux --root "$tmp/tree.e,rw" "$BB" -- $cmd > /dev/null 2>&1
done
n=$((n + 1))
if [ "$(cat "$esc")" = keep ] && [ "$(stat -c %a "$esc")" = "$mode0" ] &&
    [ "$(stat -c %Y "$esc")" -gt 978307200 ] && [ ! -e "$tmp/made-outside" ]; then
    echo "ok $n - links the program makes lead nowhere outside the root (truncate, chmod, touch, ln, mkfifo)"
else
    failed=$((failed + 1))
    echo "not ok $n - a link the program made reached the host: $(ls -l "$esc" "$tmp/made-outside" 2>&1)"
fi
check "--mem 16M is enough for busybox: the stack, its guard gap and the page tables fit beside it" 0 "small\n" "" \
    -- run --linux --mem 16M "$BB" -- echo small
check "... --mem 12M is not, and vmcall says so" 125 "" \
    "^vmcall: $BB: does not fit with a stack in the VM's RAM \\(raise --mem\\)$" -- run --linux --mem 12M "$BB" -- echo small
check "nproc: one CPU per vCPU (sched_getaffinity)" 0 "3\n" "" -- run --linux --vcpus 3 "$BB" -- nproc
# ... also when standard output is behind: 256 KiB to a pipe read 4 KiB every 10 ms, stderr to a pipe of
# its own. When stderr's line comes, at most the stdout pipe's 64 KiB may still be unread: the console's
# own queue (another 64 KiB) was written out first.
mkfifo "$tmp/order.err"
(timeout 60 "$VMCALL" run --linux "$L/crash" -- order 2> "$tmp/order.err" |
    python3 -c 'import sys, time
while True:
    b = sys.stdin.buffer.read1(4096)
    if not b:
        break
    sys.stdout.buffer.write(b)
    sys.stdout.buffer.flush()
    time.sleep(0.01)' > "$tmp/order.out") &
read -r line < "$tmp/order.err"
seen=$(wc -c < "$tmp/order.out")
wait $!
n=$((n + 1))
if [ "$line" = "stderr last" ] && [ "$seen" -ge $((6 + 262144 - 65536 - 8192)) ] &&
    [ "$(wc -c < "$tmp/order.out")" = $((6 + 262144)) ]; then
    echo "ok $n - standard error waits until all standard output before it is written (a pipe drained slowly)"
else
    failed=$((failed + 1))
    echo "not ok $n - standard error came with only $seen bytes of standard output out ('$line')"
fi
# ... and when nobody reads standard output at all: 32 KiB to a 4 KiB pipe leaves 28 KiB in the
# console's queue, so standard error must not come (3 s) until the reader starts; then all of it, in order.
n=$((n + 1))
got=$(python3 - "$VMCALL" "$L/crash" <<'PY'
import fcntl, os, select, subprocess, sys
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)
p = subprocess.Popen([sys.argv[1], "run", "--linux", sys.argv[2], "--", "order-small"], stdout=w,
                     stderr=subprocess.PIPE)
os.close(w)
early = bool(select.select([p.stderr], [], [], 3)[0])
out = b""
while True:
    b = os.read(r, 65536)
    if not b:
        break
    out += b
err = p.stderr.read()
print("early" if early else "waited", len(out), err.decode().strip(), p.wait())
PY
)
if [ "$got" = "waited 32780 stderr last 0" ]; then
    echo "ok $n - standard error waits while standard output sits unread in the console's queue"
else
    failed=$((failed + 1))
    echo "not ok $n - standard error did not wait for standard output nobody read: $got"
fi
# A prompt without a newline reaches the terminal before the program waits for its answer.
mkfifo "$tmp/answer"
"$VMCALL" run --linux --timeout 30 "$BB" -- sh -c 'printf "name? "; read x; echo "hi $x"' \
    < "$tmp/answer" > "$tmp/prompt.out" 2>&1 &
exec 3> "$tmp/answer"
for i in $(seq 200); do grep -q "name? " "$tmp/prompt.out" && break; sleep 0.05; done
seen=$(cat "$tmp/prompt.out")
(trap '' PIPE; echo bob >&3) 2> /dev/null # a program gone already must fail this check, not the script
exec 3>&-
wait $!
n=$((n + 1))
if [ "$seen" = "name? " ] && [ "$(cat "$tmp/prompt.out")" = "name? hi bob" ]; then
    echo "ok $n - a prompt (no newline) is out before the program reads its answer"
else
    failed=$((failed + 1))
    echo "not ok $n - a prompt (no newline) is out before the program reads its answer: saw '$seen'"
fi
# cp needs a writable root
(cd "$R" && timeout 60 "$OLDPWD/$VMCALL" run --linux --root "$R,rw" "$BB" -- cp words.txt copy.txt > /dev/null 2>&1)
n=$((n + 1))
if cmp -s "$R/words.txt" "$R/copy.txt"; then echo "ok $n - busybox cp in a writable root"; else
    failed=$((failed + 1)); echo "not ok $n - busybox cp in a writable root"; fi
check "cp in a read-only root: EROFS" 1 "" "^cp: can't create '/copy2.txt': Read-only file system$" \
    -- run --linux --root "$R" "$BB" -- cp /words.txt /copy2.txt

# musl programs: exact output, the same natively where the host can say (basic).
env -i VAR=v "$L/basic" x 3 < /dev/null > "$tmp/basic.native"
check "a C program: argv, environment, auxv, floating point, heap, qsort, getrandom, sleep, EFAULT" 3 \
    @"$tmp/basic.native" "" -- run --linux --env VAR=v "$L/basic" -- x 3
env -i VAR=v "$L/basic-glibc-pie" x 3 < /dev/null > "$tmp/pie.native"
check "the same program built by glibc as a static PIE" 3 @"$tmp/pie.native" "" \
    -- run --linux --env VAR=v "$L/basic-glibc-pie" -- x 3
check "files in a writable root; escapes through .., absolute and relative links stay inside" 0 \
    @tests/linux/files.out "" -- run --linux --root "$R,rw" "$L/files"
check "statfs of a read-only root: the host's numbers, no host identity, read-only" 0 \
    "statfs /: 0\nfstatfs 1: 0\nfstatfs /: 0\nfsid=0,0 read-only=1 names=1 same type=1\nstatfs bad buffer: -1 Bad address\nstatfs /nosuch: -1 No such file or directory\n" \
    "" -- run --linux --root "$R" "$L/files" -- statfs
for lib in "" -glibc; do
    check "threads${lib:+ (glibc)}: 4 on vCPUs, a mutex, a condition variable, join; a 5th past --vcpus is EAGAIN" 0 \
        "counter=80000 (want 80000) turns=200 results=60 distinct tids=1\nmore threads than vCPUs: refused (EAGAIN)\n" \
        "" -- run --linux --vcpus 5 --timeout 20 "$L/threads$lib"
done
# On one host CPU the joiner often runs before the joined thread's vCPU thread has left: the race is
# met in most runs (1000 rounds), on any host.
PIN="taskset -c $(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')" # the first CPU this test may use
check "a thread created again as soon as the last is joined: the vCPU it gave back is free (1000 rounds, one spare vCPU)" \
    0 "1000 threads, one after another: sum 500500\n" "" -- run --linux --vcpus 2 --timeout 30 "$L/respawn"
PIN=
check "memory beyond the VM's RAM is ENOMEM; unmapped memory reads zero when mapped again" 0 \
    @tests/linux/mem.out "" -- run --linux --mem 64M "$L/mem"
for c in "segv 139 guest #GP" "null 139 guest #PF at rip=0x[0-9a-f]+ cr2=0x2 \\(read, not-present, user\\)" \
    "abort 134 program killed by signal 6 \\(ABRT\\)" "ill 132 guest #UD" "fpe 136 guest #DE" \
    "term 143 program killed by signal 15 \\(TERM\\)"; do
    set -- $c
    how=$1 st=$2
    shift 2
    check "killed by a signal ($how): status $st, as a shell reports it" "$st" "$how\n" "^vmcall: $*" \
        -- run --linux "$L/crash" -- "$how"
done
check "a handler that spoils the XSAVE header in its frame: the return is refused with SIGSEGV, as Linux does" \
    139 "bad-xstate\n" '^vmcall: program killed by signal 11 \(SEGV\) \(status 139\)$' -- run --linux "$L/crash" -- bad-xstate
check "memory given back with munmap faults: SIGSEGV, status 139, the report names the address" 139 \
    "unmapped\nstill mapped: 0\n" "^vmcall: guest #PF at rip=0x[0-9a-f]+ cr2=0x[0-9a-f]+000 \\(read, not-present, user\\)$" \
    -- run --linux "$L/crash" -- unmapped
check "a write to a pipe without reader: SIGPIPE ends the program (141), never the VMM" 141 "epipe\n" \
    "^vmcall: program killed by signal 13 \\(PIPE\\)" -- run --linux "$L/crash" -- epipe
check "... and EPIPE when the program ignores SIGPIPE" 4 "epipe-ignored\nwrite=-1 Broken pipe\n" "" \
    -- run --linux "$L/crash" -- epipe-ignored
check "a page made read-only: reads go on, read(2) into it is EFAULT, a write is SIGSEGV" 139 \
    "readonly\nread 7, read(2) into it: -1 Bad address\n" \
    "^vmcall: guest #PF at rip=0x[0-9a-f]+ cr2=0x[0-9a-f]+000 \\(write, protection, user\\)$" \
    -- run --linux "$L/crash" -- readonly
check "a fault whose signal is blocked ends the program, its handler not run (Linux's force_sig_fault)" 139 \
    "segv-blocked\n" "^vmcall: guest #PF at rip=0x[0-9a-f]+ cr2=0x2 \\(read, not-present, user\\)$" \
    -- run --linux --timeout 20 "$L/crash" -- segv-blocked
check "a page read by one thread while another takes execute from it and gives it back: never a fault" 0 \
    "rights-race\nread throughout: 0\n" "" -- run --linux --vcpus 2 --timeout 60 "$L/crash" -- rights-race
fetch="^vmcall: guest #PF at rip=(0x[0-9a-f]+) cr2=\\1 \\(fetch, protection, user\\)$"
check "no-exec: code in memory mapped without PROT_EXEC faults when called (SIGSEGV)" 139 "nx\n" "$fetch" \
    -- run --linux "$L/crash" -- nx
check "... and on the stack (PT_GNU_STACK without PF_X)" 139 "stack-exec\n" "$fetch" \
    -- run --linux "$L/crash" -- stack-exec
check "... PROT_EXEC given runs it, taken away (read-only stays) stops it again" 139 \
    "jit\nrx: 42\nr: 184, calling it\n" "$fetch" -- run --linux "$L/crash" -- jit
check "a program waiting on its own empty pipe is still stopped by --timeout" 124 "pipe\n" \
    "^vmcall: guest timed out after (1\\.|2\\.0)[0-9]+ s \\(limit 1.000 s\\)" -- run --linux --timeout 1 "$L/crash" -- pipe
"$L/signals" > "$tmp/signals.native" 2> /dev/null
check "signal handlers: SA_SIGINFO, a blocked signal delivered when unblocked, SA_RESETHAND, as natively" 138 \
    @"$tmp/signals.native" '^vmcall: program killed by signal 10 \(USR1\) \(status 138\)$' -- run --linux "$L/signals"
for lib in "" -glibc; do
    "$L/faults$lib" > "$tmp/faults.native" 2> /dev/null
    check "fault handlers${lib:+ (glibc)}: SIGSEGV/SIGILL/SIGFPE with siginfo, return retries with every register, sigaltstack, as natively" \
        139 @"$tmp/faults.native" "^vmcall: guest #PF at rip=0x[0-9a-f]+ cr2=0x[0-9a-f]+000 \\(write, protection, user\\)$" \
        -- run --linux --timeout 20 "$L/faults$lib"
done
"$L/sigthreads" > "$tmp/sigthreads.native" 2> /dev/null
check "a signal mask per thread (a signal runs where it is not blocked); faults caught in 3 threads at once" 0 \
    @"$tmp/sigthreads.native" "" -- run --linux --vcpus 4 --timeout 20 "$L/sigthreads"
"$L/timers" > "$tmp/timers.native" 2> /dev/null
check "alarm and setitimer reach a computing thread, cut nanosleep, poll, a pipe read and sem_wait short (EINTR), a read runs again under SA_RESTART; a blocked signal interrupts the thread that can take it; an alarm without a handler ends the program (142)" \
    142 @"$tmp/timers.native" '^vmcall: vCPU [0-9]: program killed by signal 14 \(ALRM\) \(status 142\)$' \
    -- run --linux --vcpus 2 --timeout 30 "$L/timers"
check "a signal the program ignores does nothing" 5 "ignored\n" "" -- run --linux "$L/crash" -- ignored
check "--trace: each call as strace shows it" 1 "" '^brk\(0\) = 0x[0-9a-f]+$' \
    -- run --linux --trace --root "$R" "$BB" -- cat nosuch.txt
check_err_has "... with its arguments and result" '^write\(2, 0x[0-9a-f]+, [0-9]+\) = [0-9]+$'
check_err_has "... an error by name" '^open(at)?\(.*\) = -1 ENOENT \(No such file or directory\)$'
check_err_has "... and the end" '^exit_group\(1\) = 0$'
check_err_has "... paths as strings, the current directory by name" \
    '^openat\(AT_FDCWD, "nosuch\.txt", 0, 0\) = -1 ENOENT \(No such file or directory\)$'
check "/proc/meminfo: the VM's RAM" 0 "MemTotal:          65536 kB\n" "" \
    -- run --linux --mem 64M --root "$R" "$BB" -- head -n 1 /proc/meminfo
check "/proc/cpuinfo: one entry a vCPU" 0 "3\n" "" -- run --linux --vcpus 3 --root "$R" "$BB" -- grep -c processor /proc/cpuinfo
check "/sys/devices/system/cpu/online: the vCPUs" 0 "0-2\n" "" \
    -- run --linux --vcpus 3 --root "$R" "$BB" -- cat /sys/devices/system/cpu/online
check "/proc/mounts: the root, read-only as given" 0 "vmcall / vmcall ro 0 0\n" "" \
    -- run --linux --root "$R" "$BB" -- cat /proc/mounts
check "/proc/1/status is the program's (/proc/self)" 0 "Name:\tbusybox\nUmask:\t0022\n" "" \
    -- run --linux --root "$R" "$BB" -- head -n 2 /proc/1/status
check "/proc files are read-only (EACCES), even in a writable root" 1 "" "^sh: can't create /proc/meminfo: Permission denied$" \
    -- run --linux --root "$R,rw" "$BB" -- sh -c 'echo x > /proc/meminfo'
check "what /proc does not have is ENOENT" 1 "" "^cat: can't open '/proc/nosuch': No such file or directory$" \
    -- run --linux --root "$R" "$BB" -- cat /proc/nosuch
check "no root: no file system" 1 "" "^cat: can't open 'words.txt': No such file or directory$" \
    -- run --linux "$BB" -- cat words.txt
check "--root names a missing directory" 125 "" "^vmcall: --root $tmp/nosuch: No such file or directory$" \
    -- run --linux --root "$tmp/nosuch" "$BB" -- true
check "--root without --linux" 125 "" "^vmcall: --root and --env are for --linux$" -- run --root "$R" "$T/hello.elf"
check "a dynamically linked program is refused" 125 "" \
    "^vmcall: /bin/true: dynamically linked \\(PT_INTERP\\); the Linux personality runs static programs$" \
    -- run --linux /bin/true
echo "1..$n"
[ "$failed" = 0 ]
