#!/bin/sh
# The threaded paths under ThreadSanitizer (make check-tsan): SMP guests, IPIs, timers, a fault on one
# vCPU stopping the others, the timeout, the console writer under a flood and a signal, without the
# sandbox (the TSan runtime makes system calls of its own, e.g. reading /proc/self/maps). VMCALL is the
# TSan build; any race report ends the binary with status 66 and fails the check.
. "$(dirname "$0")/lib.sh"

check "4 vCPUs at CPL0" 0 @tests/guest/smp.out "" -- run --no-sandbox --vcpus 4 "$T/smp.elf" -- 200
check "8 vCPUs at CPL3" 0 @tests/guest/user_smp.out "" -- run --no-sandbox --vcpus 8 --user "$T/user_smp.elf" -- 50000
check "IPI ping-pong" 0 @tests/guest/ipi.out '' -- run --no-sandbox --vcpus 2 "$T/ipi.elf"
check "timers" 0 @tests/guest/timer.out '' -- run --no-sandbox "$T/timer.elf"
check "a fault on one vCPU stops the others" 126 '' '^vmcall: vCPU 3: guest #UD' -- run --no-sandbox --vcpus 4 "$T/smp_fault.elf"
check "timeout of 4 spinning vCPUs" 124 '' '^vmcall: vCPU [0-9]: guest timed out' \
    -- run --no-sandbox --vcpus 4 --timeout 0.3 "$T/smp_fault.elf" -- spin
check "Linux threads: futexes and clone across 5 vCPUs" 0 \
    "counter=80000 (want 80000) turns=200 results=60 distinct tids=1\nmore threads than vCPUs: refused (EAGAIN)\n" \
    "" -- run --no-sandbox --linux --vcpus 5 build/linux/threads
check "Linux threads: a thread created again as its vCPU goes down (clone waits for it)" 0 \
    "1000 threads, one after another: sum 500500\n" "" -- run --no-sandbox --linux --vcpus 2 build/linux/respawn
build/linux/sigthreads > "$tmp/sigthreads.native" 2> /dev/null
check "Linux signals across threads: per-thread masks, faults caught on 3 vCPUs at once" 0 \
    @"$tmp/sigthreads.native" "" -- run --no-sandbox --linux --vcpus 4 build/linux/sigthreads
build/linux/timers > "$tmp/timers.native" 2> /dev/null
check "Linux timers and signals that interrupt threads" 142 @"$tmp/timers.native" \
    '^vmcall: vCPU [0-9]: program killed by signal 14' -- run --no-sandbox --linux --vcpus 2 build/linux/timers
check "exchange racing a list rewrite" 0 @tests/guest/memop.3.out "" \
    -- run --no-sandbox --vcpus 2 --mem 16M --mem-max 32M "$T/memop.elf" -- race
bytes=$("$VMCALL" run --no-sandbox --user "$T/user/hostile.elf" -- flood 100000 2> "$tmp/err" | wc -c)
n=$((n + 1))
if [ "$bytes" = 3200000 ] && [ ! -s "$tmp/err" ]; then echo "ok $n - console flood through a pipe"; else
    failed=$((failed + 1)); echo "not ok $n - console flood ($bytes bytes)"; sed 's/^/#  /' "$tmp/err"; fi
"$VMCALL" run --no-sandbox --user --vcpus 2 "$T/user/hostile.elf" -- threads > "$tmp/out" 2> "$tmp/err" &
pid=$!
i=0
while ! grep -q ready "$tmp/out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
st=$?
n=$((n + 1))
if [ $st = 143 ]; then echo "ok $n - SIGTERM with every thread busy"; else
    failed=$((failed + 1)); echo "not ok $n - SIGTERM with every thread busy (status $st)"; sed 's/^/#  /' "$tmp/err"; fi

finish
