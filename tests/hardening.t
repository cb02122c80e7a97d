#!/bin/sh
# Hardening tests (TAP): a hostile guest or operator situation must cost only what was granted and end
# with a precise status: flooded consoles, stuck and closed readers, signals, FIFOs, locked disks, the
# seccomp sandbox and the jail.
. "$(dirname "$0")/lib.sh"

H=$T/hostile.elf
HU=$T/user/hostile.elf # the same built for user mode: what most tests here run (native speed)
# ok_if NAME CONDITION-STATUS DETAILS: one TAP line from a shell test's status
ok_if() {
    n=$((n + 1))
    if [ "$2" = 0 ]; then echo "ok $n - $1"; else
        failed=$((failed + 1)); echo "not ok $n - $1"; printf '%s\n' "$3" | sed 's/^/#  /'; fi
}
# bounded PID SECS: wait for PID, killing it after SECS (a hang becomes status 137, not a stuck suite)
bounded() {
    (
        sleep "$2" &
        trap 'kill $! 2>/dev/null; exit' TERM
        wait $!
        kill -KILL "$1" 2>/dev/null
    ) > /dev/null 2>&1 &
    dog=$!
    wait "$1"
    st=$?
    kill "$dog" 2>/dev/null
    wait "$dog" 2>/dev/null
    return $st
}
# check_status NAME STATUS WANT
check_status() { ok_if "$1" "$([ "$2" = "$3" ] && echo 0 || echo 1)" "status $2, want $3; stderr: $(cat "$tmp/err")"; }
# wait_for FILE PATTERN: until FILE has a line matching PATTERN (at most 20 s)
wait_for() {
    i=0
    while ! grep -q -- "$2" "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
}

# --- console output limit -------------------------------------------------------------------------------
check "console limit keeps the first bytes" 0 "flood line 00000000000000000000\nflood line 00000" \
    '^vmcall: console output limit of 48 bytes reached: 3152 bytes dropped$' \
    -- run --user --console-limit 48B "$HU" -- flood 100
check "a flood under the limit is whole" 0 @tests/guest/flood3.out '' -- run --user --console-limit 96B "$HU" -- flood 3

# --- a reader that stops reading: the timeout and signals still end the VM -------------------------------
mkfifo "$tmp/fifo"
exec 3<>"$tmp/fifo" # a reader that never reads: the pipe fills and writes block
"$VMCALL" run --user --timeout 0.5 "$HU" -- flood > "$tmp/fifo" 2> "$tmp/err" &
bounded $! 20
check_status "timeout ends a VM whose stdout is blocked (124)" $? 124
check_err_has "the timeout is reported, 0.5 s to 2.5 s after the start" '^vmcall: guest timed out after (0\.[5-9]|[12]\.)[0-9]{2,3} s \(limit 0.500 s\)'
check_err_has "output given up on is reported" '^vmcall: [0-9]+ bytes of console output were not written: the reader stopped reading$'
exec 3>&-

for s in TERM:143 INT:130 HUP:129; do
    exec 3<>"$tmp/fifo"
    env --default-signal=INT "$VMCALL" run --user "$HU" -- flood > "$tmp/fifo" 2> "$tmp/err" &
    pid=$!
    sleep 0.3
    kill -"${s%:*}" $pid
    bounded $pid 20
    check_status "SIG${s%:*} ends a VM whose stdout is blocked (${s#*:})" $? "${s#*:}"
    check_err_has "SIG${s%:*} is reported" "^vmcall: stopped by SIG${s%:*} at rip=0x[0-9a-f]+: exiting with ${s#*:}$"
    exec 3>&-
done

# --- the console's reader goes away or fails -------------------------------------------------------------
{ "$VMCALL" run --user "$HU" -- flood 2> "$tmp/err"; echo $? > "$tmp/status"; } | head -c 100 > /dev/null
check_status "a closed pipe ends the run quietly (141)" "$(cat "$tmp/status")" 141
ok_if "... with nothing on stderr" "$([ -s "$tmp/err" ] && echo 1 || echo 0)" "$(cat "$tmp/err")"
"$VMCALL" run "$T/hello.elf" > /dev/full 2> "$tmp/err"
check_status "a full disk on stdout stops the VM (125)" $? 125
check_err_has "... and says why" '^vmcall: console output: No space left on device; the VM was stopped$'

# --- standard descriptors closed at start ----------------------------------------------------------------
"$VMCALL" run "$T/hello.elf" >&- 2> "$tmp/err"
check_status "closed stdout is an error (125)" $? 125
check_err_has "... reported on stderr" '^vmcall: stdout is closed: the console has nowhere to go$'
"$VMCALL" run "$T/hello.elf" 2>&- > "$tmp/err"
check_status "closed stderr is an error (125)" $? 125
check_err_has "... reported on stdout" '^vmcall: stderr is closed: errors would go nowhere$'
"$VMCALL" run "$T/echo.elf" <&- > "$tmp/out" 2> "$tmp/err"
check_status "closed stdin reads as end of input" $? 0
ok_if "... and the guest sees it" "$(cmp -s "$tmp/out" tests/guest/echo.eof.out; echo $?)" "$(cat "$tmp/out")"

# --- waiting for input costs no CPU (console_read waits in the VMM; it used to poll the UART) -----------
mkfifo "$tmp/stdin-fifo"
"$VMCALL" run --stats "$T/echo.elf" < "$tmp/stdin-fifo" > "$tmp/out" 2> "$tmp/err" &
pid=$!
exec 5> "$tmp/stdin-fifo"
sleep 1
ticks=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
printf 'hi\n' >&5
exec 5>&-
bounded $pid 20
check_status "a guest waiting a second for input" $? 1
ok_if "... got it" "$(printf '1: hi\neof after 3 bytes\n' | cmp -s - "$tmp/out"; echo $?)" "$(cat "$tmp/out")"
ok_if "... and used almost no CPU meanwhile ($ticks ticks of $(getconf CLK_TCK)/s)" \
    "$([ "$ticks" -lt "$(($(getconf CLK_TCK) / 4))" ] && echo 0 || echo 1)" "$ticks ticks"
exits=$(awk '$1 == "total" { print $2; exit }' "$tmp/err")
ok_if "... and made few exits ($exits)" "$([ "$exits" -lt 200 ] && echo 0 || echo 1)" "$(cat "$tmp/err")"

# --- FIFOs are refused without blocking -------------------------------------------------------------------
check "a FIFO as GUEST is refused" 125 '' "^vmcall: $tmp/fifo: not a regular file$" -- run "$tmp/fifo"
check "a FIFO as disk is refused" 125 '' "^vmcall: disk $tmp/fifo: not a regular file or a block device$" \
    -- run --disk "$tmp/fifo" "$T/hello.elf"

# --- disk images are locked -----------------------------------------------------------------------------------
truncate -s 1M "$tmp/disk"
exec 4< "$tmp/disk"
flock -x 4 # this shell holds the lock another VMM would
check "a disk in use read-write is refused" 125 '' "^vmcall: disk $tmp/disk: in use by another VM \(it is locked\)$" \
    -- run --disk "$tmp/disk" "$T/hello.elf"
check "... also read-only" 125 '' "^vmcall: disk $tmp/disk: in use by another VM" -- run --disk "$tmp/disk,ro" "$T/hello.elf"
flock -s 4
check "a shared disk may be opened read-only" 0 @tests/guest/hello.out '' -- run --disk "$tmp/disk,ro" "$T/hello.elf"
check "... but not read-write" 125 '' "^vmcall: disk $tmp/disk: in use by another VM" -- run --disk "$tmp/disk" "$T/hello.elf"
exec 4<&-

# --- SIGTERM during disk writes: every reported write is in the image ------------------------------------
truncate -s 64M "$tmp/disk"
"$VMCALL" run --user --disk "$tmp/disk" "$HU" -- disk > "$tmp/out" 2> "$tmp/err" &
pid=$!
wait_for "$tmp/out" '^wrote 1000$'
kill -TERM $pid
bounded $pid 20
check_status "SIGTERM during disk writes (143)" $? 143
last=$(grep '^wrote' "$tmp/out" | tail -n 1 | cut -d' ' -f2)
sector() { dd if="$tmp/disk" bs=512 skip="$1" count=1 2>/dev/null | head -c 16; }
want=$(printf 'sector %08d' "$last")
ok_if "the last reported write ($last) is in the image" "$([ "$(sector "$last")" = "$want" ] && echo 0 || echo 1)" \
    "sector $last holds '$(sector "$last")'"
ok_if "... and the first" "$([ "$(sector 0)" = "sector 00000000" ] && echo 0 || echo 1)" "sector 0: '$(sector 0)'"

# --- the sandbox: every thread under seccomp with no_new_privs while the guest runs -----------------------
# sandbox_state PID: "Seccomp NoNewPrivs" of every thread, one line each, sorted and counted
sandbox_state() {
    for f in /proc/"$1"/task/*/status; do
        awk '/^Seccomp:/ { s = $2 } /^NoNewPrivs:/ { p = $2 } END { print s, p }' "$f"
    done | sort | uniq -c | awk '{ print $2, $3 }'
}
# run_threads [OPTIONS]: a guest with every kind of VMM thread busy, in the background ($pid), until "ready"
run_threads() {
    ${PRE:-} "$VMCALL" run --user --vcpus 2 "$@" "$HU" -- threads > "$tmp/out" 2> "$tmp/err" &
    pid=$!
    wait_for "$tmp/out" '^ready$'
}
run_threads
state=$(sandbox_state $pid)
nthreads=$(ls /proc/$pid/task | wc -l)
kill -TERM $pid; bounded $pid 20
ok_if "every thread ($nthreads) runs under seccomp with no_new_privs" "$([ "$state" = "2 1" ] && echo 0 || echo 1)" \
    "Seccomp NoNewPrivs per thread: $state"
ok_if "... vCPUs, timer, console writer and signal threads were all there" "$([ "$nthreads" -ge 5 ] && echo 0 || echo 1)" \
    "$nthreads threads"
run_threads --no-sandbox
state=$(sandbox_state $pid)
kill -TERM $pid; bounded $pid 20
ok_if "--no-sandbox leaves every thread without a filter" "$([ "$state" = "0 0" ] && echo 0 || echo 1)" \
    "Seccomp NoNewPrivs per thread: $state"

# --- the jail (needs root: chroot and setresuid) -----------------------------------------------------------
mkdir "$tmp/jail"
if [ "$(id -u)" = 0 ]; then
    # Started with supplementary groups (setpriv, util-linux): the jail must drop them.
    PRE="setpriv --groups 4,24" run_threads --jail "$tmp/jail" --uid 65534 --gid 65533
    st=/proc/$pid/status
    ids=$(awk '/^(Uid|Gid):/ { print $1, $2, $3, $4, $5 } /^Groups:/ { print $0 }
               /^Cap(Inh|Prm|Eff|Bnd|Amb):/ { print $1, $2 }' "$st" | tr '\t' ' ' | sed 's/ *$//')
    root=$(readlink /proc/$pid/root)
    kill -TERM $pid; bounded $pid 20
    want="Uid: 65534 65534 65534 65534
Gid: 65533 65533 65533 65533
Groups:
CapInh: 0000000000000000
CapPrm: 0000000000000000
CapEff: 0000000000000000
CapBnd: 0000000000000000
CapAmb: 0000000000000000"
    ok_if "the jail: uid and gid dropped, no groups, no capabilities" "$([ "$ids" = "$want" ] && echo 0 || echo 1)" "$ids"
    ok_if "the jail: the root is the jail directory" "$([ "$root" = "$(cd "$tmp/jail" && pwd -P)" ] && echo 0 || echo 1)" \
        "root is $root"
else
    n=$((n + 2)); echo "ok $((n - 1)) # skip the jail needs root"; echo "ok $n # skip the jail needs root"
fi
touch "$tmp/jail/file"
check "a jail that is not empty is refused" 125 '' "^vmcall: --jail $tmp/jail: the directory is not empty$" \
    -- run --jail "$tmp/jail" --uid 65534 --gid 65534 "$T/hello.elf"

# --- an MMIO flood: per-address counters stay a bounded table --------------------------------------------------
check "20000 unclaimed MMIO addresses read as all-ones" 0 "read 20000 addresses: 0xffffffff\n" '' -- run "$H" -- mmio 20000
"$VMCALL" run --stats "$H" -- mmio 20000 > /dev/null 2> "$tmp/err"
check_err_has "... the first 256 are counted one by one, the rest in one row" '^other +0 +0 +19744 +0$'
ok_if "... and --stats stays a screenful" "$([ "$(wc -l < "$tmp/err")" -lt 300 ] && echo 0 || echo 1)" \
    "$(wc -l < "$tmp/err") lines"
rss_flood=$(sed -n 's/^peak RSS \([0-9]*\) KiB$/\1/p' "$tmp/err")
"$VMCALL" run --stats "$H" -- mmio 100 > /dev/null 2> "$tmp/err"
rss_few=$(sed -n 's/^peak RSS \([0-9]*\) KiB$/\1/p' "$tmp/err")
ok_if "... and the VMM's memory does not grow with the addresses (${rss_few} KiB for 100, ${rss_flood} KiB for 20000)" \
    "$([ -n "$rss_few" ] && [ -n "$rss_flood" ] && [ $((rss_flood - rss_few)) -lt 512 ] && echo 0 || echo 1)" \
    "peak RSS: $rss_few KiB after 100 addresses, $rss_flood KiB after 20000"

finish
