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
            text=$(printf '%s' "${want#CRASH:}" | tr _ ' ')
            good=0
            [ $status = 126 ] && cat "$tmp/out" "$tmp/err" | grep -qF -- "$text" && good=1 ;;
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
[ $n = "$(cat "$X/built")" ] || { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - every built test has a line in $E"; }
echo "1..$n"
[ $failed = 0 ]
