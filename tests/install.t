#!/bin/sh
# Install test (TAP): `make install` into a scratch prefix, then build an embedder with pkg-config and a
# guest with the installed vmcall-cc, and run the guest with the installed vmcall.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
p=$tmp/prefix
n=0 failed=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }

make -s install PREFIX="$p" > "$tmp/log" 2>&1; t $? "make install PREFIX=..."
for f in bin/vmcall bin/vmcall-cc lib/libvmcall.a lib/libvmcall.so lib/pkgconfig/vmcall.pc \
         include/vmcall/vmcall.h include/vmcall/abi.h include/vmcall/guest.h lib/vmcall/guest/libvmcg.a \
         share/man/man1/vmcall.1 share/man/man1/vmcall-cc.1 share/man/man3/libvmcall.3; do
    [ -e "$p/$f" ]; t $? "installed $f"
done
cat > "$tmp/embed.c" <<'C'
#include <vmcall/vmcall.h>
#include <stdio.h>
int main(void)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    printf("%s %llu\n", VMC_VERSION, (unsigned long long)(cfg.mem_size >> 20));
    return 0;
}
C
PKG_CONFIG_PATH=$p/lib/pkgconfig
export PKG_CONFIG_PATH
cc -o "$tmp/embed" "$tmp/embed.c" $(pkg-config --cflags --libs vmcall) -Wl,-rpath,"$p/lib"; t $? "embedder builds with pkg-config"
[ "$("$tmp/embed")" = "0.2.0 64" ]; t $? "embedder runs against the shared library"
cat > "$tmp/g.c" <<'C'
#include "vmcall/guest.h"
int main(int argc, char **argv) { printf("installed sdk: %s\n", argc > 1 ? argv[1] : "-"); return 5; }
C
"$p/bin/vmcall-cc" -o "$tmp/g.elf" "$tmp/g.c"; t $? "guest builds with the installed vmcall-cc"
out=$("$p/bin/vmcall" run "$tmp/g.elf" -- ok); st=$?
[ "$out" = "installed sdk: ok" ] && [ $st = 5 ]; t $? "installed vmcall runs it"
# The installed tree moved elsewhere (a relocated package), and a DESTDIR staging: vmcall-cc finds its SDK
# relative to itself.
mv "$p" "$tmp/moved"
"$tmp/moved/bin/vmcall-cc" -o "$tmp/g2.elf" "$tmp/g.c"; t $? "vmcall-cc works from a moved install tree"
out=$("$tmp/moved/bin/vmcall" run "$tmp/g2.elf" -- moved); st=$?
[ "$out" = "installed sdk: moved" ] && [ $st = 5 ]; t $? "... and its guest runs"
make -s install PREFIX=/usr DESTDIR="$tmp/stage" > "$tmp/log" 2>&1; t $? "make install DESTDIR=... PREFIX=/usr"
"$tmp/stage/usr/bin/vmcall-cc" --user -o "$tmp/g3.elf" "$tmp/g.c"; t $? "vmcall-cc --user works from the staging tree"
out=$("$tmp/stage/usr/bin/vmcall" run "$tmp/g3.elf" -- staged); st=$?
[ "$out" = "installed sdk: staged" ] && [ $st = 5 ]; t $? "... and its user-mode guest runs without --user"
echo "1..$n"
[ $failed = 0 ]
