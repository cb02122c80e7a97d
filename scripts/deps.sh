#!/bin/sh
# Install the Debian packages the build and tests need, when they are missing (root only).
set -eu
need=""
command -v gcc >/dev/null 2>&1 || need="$need gcc"
command -v c++ >/dev/null 2>&1 || need="$need g++"
command -v make >/dev/null 2>&1 || need="$need make"
command -v ld >/dev/null 2>&1 || need="$need binutils"
command -v prove >/dev/null 2>&1 || need="$need perl"
command -v clang >/dev/null 2>&1 || need="$need clang"
# Sanitizer runtimes: libasan/libubsan for gcc come with gcc; clang's with libclang-rt-dev.
if command -v clang >/dev/null 2>&1 && [ -z "$(clang -print-file-name=libclang_rt.asan-x86_64.a | grep /)" ]; then
    need="$need libclang-rt-dev"
fi
[ -f /usr/include/linux/kvm.h ] || need="$need linux-libc-dev"
[ -f /usr/include/seccomp.h ] || need="$need libseccomp-dev"
command -v man >/dev/null 2>&1 || need="$need man-db" # the man pages are checked to render cleanly
command -v objcopy >/dev/null 2>&1 || need="$need binutils"
# Xen's public headers: the Xen personality's numbers and layouts (a build dependency only).
[ -f /usr/include/xen/arch-x86/hvm/start_info.h ] || need="$need libxen-dev"
command -v python3 >/dev/null 2>&1 || need="$need python3" # XTF's build generates files with it
# The Linux personality's tests: programs built with musl, and busybox's applets compared with native runs.
command -v musl-gcc >/dev/null 2>&1 || need="$need musl-tools"
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need="$need libc6-dev" # glibc static and static-PIE test programs
[ -x /bin/busybox ] || need="$need busybox-static"
if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing packages:$need (run as root: apt-get install -y$need)" >&2
        exit 1
    fi
    echo "installing:$need"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
