#!/bin/sh
# make mutate: apply each mutant of tests/mutants.txt to a scratch copy of the tree, rebuild, run the tests
# it names, and report which the tests caught. MUTANT=name runs one; MUTANTS=file another list.
set -u
root=$(pwd)
list=${MUTANTS:-$root/tests/mutants.txt}
work=${MUTATE_DIR:-$root/build/mutate}
only=${MUTANT:-}
tree=$work/tree
jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)

rm -rf "$tree" && mkdir -p "$tree" || exit 2
git ls-files -z | xargs -0 tar -cf - | tar -xf - -C "$tree" || exit 2
cd "$tree" || exit 2
export VMCALL=build/bin/vmcall GUESTS=build/guest
build() { make -j"$jobs" --no-print-directory test-bins </dev/null >build.log 2>&1; }

# The list as records "name<TAB>file<TAB>from<TAB>to<TAB>test" (\n in from/to stays escaped here).
records=$(awk '
    /^#/ { next }
    /^$/ { if (name != "") print name "\t" file "\t" from "\t" to "\t" test; name = ""; next }
    { key = $0; sub(/:.*/, "", key); val = $0; sub(/^[a-z]+: ?/, "", val) }
    key == "name" { name = val } key == "file" { file = val } key == "from" { from = val }
    key == "to" { to = val } key == "test" { test = val }
    END { if (name != "") print name "\t" file "\t" from "\t" to "\t" test }' "$list")

echo "mutate: building the unmutated tree in $tree"
build || { tail -20 build.log; echo "mutate: the unmutated tree does not build" >&2; exit 2; }
# Every test command must pass before any mutant is judged by it.
printf '%s\n' "$records" | cut -f5 | sort -u | while IFS= read -r t; do
    timeout 600 sh -c "$t" </dev/null >"$work/baseline.log" 2>&1 ||
        { tail -20 "$work/baseline.log"; echo "mutate: '$t' fails on the unmutated tree" >&2; exit 1; }
done || exit 2

# apply FILE FROM TO: replace the one occurrence of FROM (\n = newline) in FILE; fails unless exactly one.
apply() {
    FROM=$2 TO=$3 perl -0777 -i -pe '
        BEGIN { ($f, $t) = ($ENV{FROM}, $ENV{TO}); s/\\n/\n/g for $f, $t }
        $n = () = /\Q$f\E/g;
        if ($n != 1) { print STDERR "found $n times\n"; exit 3 }
        s/\Q$f\E/$t/;' "$1"
}

total=0 killed=0 survivors=""
tab=$(printf '\t')
printf '%s\n' "$records" >"$work/records"
while IFS="$tab" read -r name file from to test; do
    [ -n "$only" ] && [ "$only" != "$name" ] && continue
    total=$((total + 1))
    t0=$(date +%s)
    cp "$file" "$work/orig"
    if ! apply "$file" "$from" "$to" 2>"$work/apply.err"; then
        fate="STALE ($(cat "$work/apply.err"))"
        survivors="$survivors $name"
    elif ! build; then
        fate="killed by the build"
        killed=$((killed + 1))
    elif timeout 600 sh -c "$test" </dev/null >"$work/$name.log" 2>&1; then
        fate="SURVIVED ($test)"
        survivors="$survivors $name"
    else
        fate="killed"
        killed=$((killed + 1))
    fi
    cp "$work/orig" "$file" && touch "$file"
    printf '%-32s %-40s %3ss\n' "$name" "$fate" "$(($(date +%s) - t0))"
done <"$work/records"
build || echo "mutate: warning: the restored tree does not build" >&2

end=$(date +%s)
[ "$total" -gt 0 ] || { echo "mutate: no mutant selected"; exit 2; }
echo "mutate: $killed of $total mutants killed ($((100 * killed / total))%) in $((end - start)) s"
[ -z "$survivors" ] || echo "mutate: survivors:$survivors (docs/mutation.md says why each may remain)"
exit 0
