#!/bin/sh
# The Xen Test Framework's hvm64 tests (built from XTF_DIR by scripts/xtf-build.sh, never part of this
# repository) under `vmcall run`, each against its line in tests/xtf-expected.txt.
. tests/lib.sh
X=${XTF_BUILD:-build/xtf}
E=tests/xtf-expected.txt
if [ ! -f "$X/built" ]; then
    echo "1..0 # SKIP $(cat "$X/why" 2>/dev/null || echo "XTF not built (make xtf)")"
    exit 0
fi
# Which column applies: kvm-pvm emulates CPL0 and differs at CPL3 (../docs/host-kvm.md in the project).
col=3
[ -d /sys/module/kvm_pvm ] && col=2
got_result() { sed -n 's/^Test result: \([A-Z]*\).*/\1/p' "$tmp/out" | head -n 1; } # XTF ends lines with CR LF
while read -r name here other reason; do
    case $name in '' | \#*) continue ;; esac
    want=$here
    [ $col = 3 ] && want=$other
    n=$((n + 1))
    if [ "$want" = NOTRUN ]; then
        echo "ok $n - $name # SKIP $reason"
        continue
    fi
    timeout 120 "$VMCALL" run --timeout 60 "$X/test-hvm64-$name" > "$tmp/out" 2> "$tmp/err"
    status=$?
    result=$(got_result)
    case $want in
        CRASH:*)
            good=0
            for alt in $(printf '%s' "$want" | tr '|' ' '); do
                text=$(printf '%s' "${alt#CRASH:}" | tr _ ' ')
                [ $status = 126 ] && cat "$tmp/out" "$tmp/err" | grep -qF -- "$text" && good=1
            done ;;
        RESULT) good=0; [ $status = 0 ] && [ -n "$result" ] && good=1 ;;
        *) good=0; [ $status = 0 ] && printf '|%s|' "$want" | grep -qF -- "|$result|" && good=1 ;;
    esac
    if [ $good = 1 ]; then
        echo "ok $n - $name: ${result:-status $status} ($reason)"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name: want $want, got status $status, result '${result}'"
        tail -n 5 "$tmp/out" "$tmp/err" | sed 's/^/#    /'
    fi
done < "$E"
# The interface around the Xen personality, with XTF's example as the PVH guest.
ex=$X/test-hvm64-example
check "a PVH image selects the Xen personality: XTF's example, exact output" 0 @tests/xtf-example.out "" -- run "$ex"
check "--abi xen says the same" 0 @tests/xtf-example.out "" -- run --abi xen "$ex"
check "--stats names Xen's calls" 0 @tests/xtf-example.out '^exit reason' -- run --stats "$ex"
check_err_has "... console_io, four writes" '^console_io\(18\) +4 +0 +0 '
check_err_has "... hvm_op: STORE_PFN, STORE_EVTCHN, and CONSOLE_PFN refused" '^hvm_op\(34\) +3 +1 +0 '
check "--allow-hypercalls by Xen's names: without hvm_op, XTF panics and shuts down as crashed" 126 \
    "******************************\r\nPANIC: Failed to get XenStore PFN: -1\r\n******************************\r\n" \
    '^vmcall: guest shut down as crashed \(Xen SHUTDOWN_crash\) at rip=0x' \
    -- run --allow-hypercalls console_io,xen_version,sched_op,memory_op "$ex"
check "a vmcall name is unknown to the Xen personality" 125 "" \
    "^vmcall: --allow-hypercalls: unknown hypercall 'console_write' \\(Xen personality\\)$" \
    -- run --allow-hypercalls console_write "$ex"
check "--abi vmcall on a PVH image: refused, naming the personality it needs" 125 "" \
    "^vmcall: $ex: a Xen PVH guest; run it with the Xen personality \\(--abi xen\\)$" -- run --abi vmcall "$ex"
check "--abi xen on a vmcall-cc guest: refused" 125 "" \
    "built with vmcall-cc for vmcall's own ABI; the Xen personality boots PVH images$" -- run --abi xen "$T/hello.elf"
check "one vCPU only" 125 "" '^vmcall: the Xen personality runs one vCPU$' -- run --vcpus 2 "$ex"
check "--user does not apply" 125 "" 'do not apply to Xen PVH guests' -- run --user "$ex"

[ $n = "$(($(cat "$X/built") + 11))" ] || { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - every built test has a line in $E"; }
echo "1..$n"
[ $failed = 0 ]
