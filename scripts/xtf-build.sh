#!/bin/sh
# Build the Xen Test Framework's hvm64 tests from XTF_DIR into OUT (default build/xtf), never into the repo.
# XTF builds inside its own tree, so it is built in a scratch copy under OUT: XTF_DIR stays untouched.
# Writes OUT/test-hvm64-NAME for each test and OUT/built; or OUT/why saying why there are none.
set -eu
XTF_DIR=${XTF_DIR:-../shared/third_party/xtf}
OUT=${1:-build/xtf}
mkdir -p "$OUT"
rm -f "$OUT/built" "$OUT/why"
if [ ! -f "$XTF_DIR/Makefile" ] || [ ! -d "$XTF_DIR/tests" ]; then
    echo "no Xen Test Framework at XTF_DIR=$XTF_DIR (set XTF_DIR to an XTF checkout)" > "$OUT/why"
    echo "xtf: skipped: $(cat "$OUT/why")"
    exit 0
fi
for tool in gcc ld objcopy python3; do
    command -v $tool >/dev/null 2>&1 || { echo "XTF needs $tool" > "$OUT/why"; echo "xtf: skipped: $(cat "$OUT/why")"; exit 0; }
done
src=$(cd "$OUT" && pwd)/src
rm -rf "$src"
mkdir -p "$src"
cp -a "$XTF_DIR/." "$src/"
xmake() { make -s -C "$src/tests/$1" ROOT="$src" CC=gcc LD=ld OBJCOPY=objcopy PYTHON=python3 "test-hvm64-$1"; }
# example first: it builds the objects every test shares; then the rest in parallel. A test without an
# hvm64 environment has no such target and is left out.
xmake example >/dev/null
ls "$src/tests" | grep -vx example | xargs -P "$(nproc)" -I{} sh -c \
    'make -s -C "$1/tests/$2" ROOT="$1" CC=gcc LD=ld OBJCOPY=objcopy PYTHON=python3 "test-hvm64-$2" >/dev/null 2>&1 || true' \
    sh "$src" {}
n=0
for f in "$src"/tests/*/test-hvm64-*; do
    [ -f "$f" ] || continue
    cp "$f" "$OUT/"
    n=$((n + 1))
done
echo "$n" > "$OUT/built"
echo "xtf: built $n hvm64 tests from $XTF_DIR"
