# Shared by the shell tests (TAP): the `check` helper runs vmcall and compares status, stdout and stderr.
# Sourced with VMCALL and GUESTS naming the binary and the guest build directory.
set -u
VMCALL=${VMCALL:-build/bin/vmcall}
G=${GUESTS:-build/guest}
T=$G/tests
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

# check NAME STATUS STDOUT STDERR_ERE [STDIN] -- ARGS...
#   STDOUT is compared exactly (printf %b escapes, or @FILE for a file's contents); STDERR_ERE must match the first stderr line ("" =
#   stderr must be empty). STDIN is fed to the guest (default: empty). PIN, when set, prefixes the command
#   (taskset: every vCPU thread on one host CPU).
check() {
    name=$1 want_status=$2 want_out=$3 want_err=$4
    shift 4
    input=""
    if [ "$1" != "--" ]; then input=$1; shift; fi
    shift
    printf '%b' "$input" > "$tmp/in"
    timeout 60 ${PIN-} "$VMCALL" "$@" < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
    status=$?
    case $want_out in
        @*) cp "${want_out#@}" "$tmp/want" ;;
        *) printf '%b' "$want_out" > "$tmp/want" ;;
    esac
    n=$((n + 1))
    problems=""
    [ "$status" = "$want_status" ] || problems="$problems status=$status(want $want_status)"
    cmp -s "$tmp/out" "$tmp/want" || problems="$problems stdout-differs"
    first=$(head -n 1 "$tmp/err")
    if [ -z "$want_err" ]; then
        [ -s "$tmp/err" ] && problems="$problems stderr-not-empty"
    else
        printf '%s\n' "$first" | grep -Eq -- "$want_err" || problems="$problems stderr-mismatch"
    fi
    if [ -z "$problems" ]; then
        echo "ok $n - $name"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name"
        echo "#  $problems"
        echo "#  stdout:"; sed 's/^/#    /' "$tmp/out"
        echo "#  stderr:"; sed 's/^/#    /' "$tmp/err"
    fi
}

# like check, then require an extra ERE somewhere in stderr
check_err_has() {
    n=$((n + 1))
    if grep -Eq -- "$2" "$tmp/err"; then echo "ok $n - $1"; else
        failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/#    /' "$tmp/err"; fi
}

sym() { nm "$1" | awk -v s="$2" '$3 == s { sub(/^0+/, "", $1); print $1 }'; }


# check_help NAME FILE WORD...: FILE (a help text) names every WORD
check_help() {
    name=$1 file=$2
    shift 2
    missing=""
    for w in "$@"; do grep -q -- "$w" "$file" || missing="$missing $w"; done
    n=$((n + 1))
    if [ -z "$missing" ]; then echo "ok $n - $name"; else
        failed=$((failed + 1)); echo "not ok $n - $name"; echo "#  missing:$missing"; fi
}

# the TAP plan and the status
finish() {
    echo "1..$n"
    [ "$failed" = 0 ]
}
