#!/bin/sh
# CLI tests (TAP): option parsing, sizes, usage errors (status 125 and one line naming what was typed),
# help and version.
. "$(dirname "$0")/lib.sh"

hello="Hello from a vmcall guest!\n"
# --- sizes: a bare number is MiB; K, M, G, T with optional iB/B; every error echoes what was typed -----
check "--mem 64 is 64 MiB" 0 '' '' -- run --mem 64 "$T/exitcode.elf"
check "--mem 2048K" 0 '' '' -- run --mem 2048K "$T/exitcode.elf"
check "--mem 4MiB" 0 '' '' -- run --mem 4MiB "$T/exitcode.elf"
check "--mem 1G" 0 '' '' -- run --mem 1G "$T/exitcode.elf"
check "--mem 2097152B" 0 '' '' -- run --mem 2097152B "$T/exitcode.elf"
check "too little memory" 125 '' '^vmcall: --mem 1M: guest RAM must be a multiple of 2M from 2M to 3G$' \
    -- run --mem 1M "$T/exitcode.elf"
check "too much memory" 125 '' '^vmcall: --mem 4G: guest RAM must be a multiple of 2M from 2M to 3G$' \
    -- run --mem 4G "$T/exitcode.elf"
check "not a multiple of 2M" 125 '' '^vmcall: --mem 3: guest RAM must be a multiple of 2M' \
    -- run --mem 3 "$T/exitcode.elf"
check "bad size" 125 '' '^vmcall: --mem 12Q: not a size \(e.g. 64M, 1G; a bare number is MiB\)$' \
    -- run --mem 12Q "$T/exitcode.elf"
check "negative size" 125 '' '^vmcall: --mem -64: not a size' -- run --mem -64 "$T/exitcode.elf"
check "size overflow" 125 '' '^vmcall: --mem 99999999999T: not a size' -- run --mem 99999999999T "$T/exitcode.elf"
check "bad --mem-max" 125 '' '^vmcall: --mem-max 0: not a size' -- run --mem-max 0 "$T/exitcode.elf"
check "bad --console-limit" 125 '' '^vmcall: --console-limit 1X: not a size' -- run --console-limit 1X "$T/exitcode.elf"

# --- option values --------------------------------------------------------------------------------------
check "bad timeout" 125 '' '^vmcall: --timeout -1: not a positive number of seconds$' -- run --timeout -1 "$T/exitcode.elf"
check "bad mode" 125 '' '^vmcall: --mode 16: must be 64 or 32$' -- run --mode 16 "$T/exitcode.elf"
check "bad abi" 125 '' '^vmcall: --abi hv: must be vmcall or xen$' -- run --abi hv "$T/exitcode.elf"
check "bad flat address" 125 '' '^vmcall: --flat 1x: not an address$' -- run --flat 1x "$T/exitcode.elf"
check "unknown disk option names it" 125 '' "^vmcall: --disk img,RO: unknown disk option 'RO' \(known: ro, rw\)$" \
    -- run --disk img,RO "$T/exitcode.elf"
check "disk with no file" 125 '' '^vmcall: --disk ,ro: no file named$' -- run --disk ,ro "$T/exitcode.elf"
check "--jail without ids" 125 '' '^vmcall: --jail needs --uid and --gid' -- run --jail "$tmp" "$T/exitcode.elf"
check "--uid without --jail" 125 '' '^vmcall: --uid and --gid apply to --jail DIR' -- run --uid 1000 --gid 1000 "$T/exitcode.elf"
check "--uid 0 refused" 125 '' '^vmcall: --uid 0: the jail needs an unprivileged id, not 0$' \
    -- run --jail "$tmp" --uid 0 --gid 1 "$T/exitcode.elf"
check "--gid not a number" 125 '' '^vmcall: --gid staff: not a numeric id$' -- run --jail "$tmp" --uid 1 --gid staff "$T/exitcode.elf"

# --- usage errors ------------------------------------------------------------------------------------------
check "missing GUEST" 125 '' "^vmcall: missing GUEST \(try 'vmcall help run'\)$" -- run
check "stray argument" 125 '' "^vmcall: unexpected argument 'x' \(guest arguments go after --\)$" \
    -- run "$T/exitcode.elf" x
check "unknown option" 125 '' "^vmcall: unknown option '--frobnicate' \(try 'vmcall help run'\)$" \
    -- run --frobnicate "$T/exitcode.elf"
check "unknown short option" 125 '' "^vmcall: unknown option '-z' \(try 'vmcall help run'\)$" -- run -z "$T/exitcode.elf"
check "option without its value" 125 '' "^vmcall: option '--mem' needs a value \(try 'vmcall help run'\)$" -- run --mem
check "short option without its value" 125 '' "^vmcall: option '-t' needs a value" -- run -t
check "flag given a value" 125 '' "^vmcall: option '--user' takes no value" -- run --user=1 "$T/exitcode.elf"
check "unknown command" 125 '' "^vmcall: unknown command 'walk' \(try 'vmcall help'\)$" -- walk
check "help for an unknown command" 125 '' "^vmcall: unknown command 'walk'" -- help walk
check "no command" 125 '' '^usage: vmcall ' --

# --- operator errors: status 125 and one line naming the problem ---------------------------------------
check "missing guest file" 125 '' "^vmcall: $T/nope.elf: No such file or directory$" -- run "$T/nope.elf"
printf 'not an elf' > "$tmp/text"
check "not an ELF file" 125 '' "^vmcall: $tmp/text: not an ELF file \(bad magic\)$" -- run "$tmp/text"
cp "$T/exitcode.elf" "$tmp/pie" && printf '\003\000' | dd of="$tmp/pie" bs=1 seek=16 conv=notrunc 2>/dev/null
check "a PIE is refused" 125 '' "^vmcall: $tmp/pie: not an executable: position-independent" -- run "$tmp/pie"
check "image larger than RAM" 125 '' "^vmcall: $T/bigbss.elf: segment [0-9]+ .* lies outside guest RAM" \
    -- run --mem 4M "$T/bigbss.elf"
check "flat image in the reserved region" 125 '' "overlaps the VMM's reserved region" \
    -- run --flat 0x1000 "$T/flat.bin"
VMCALL_KVM_DEVICE=/nonexistent/kvm check "no KVM device" 125 '' '^vmcall: /nonexistent/kvm: no such device' \
    -- run "$T/exitcode.elf"

# --- help and version --------------------------------------------------------------------------------------
check "--version" 0 "vmcall 0.2.0 (guest ABI 4)\n" "" -- --version
"$VMCALL" --help > "$tmp/help"
"$VMCALL" run --help > "$tmp/runhelp"
check "vmcall help is vmcall --help" 0 "@$tmp/help" '' -- help
check "vmcall help run is vmcall run --help" 0 "@$tmp/runhelp" '' -- help run
check_help "help names the commands" "$tmp/help" 'run ' 'help ' --version
check_help "run help describes every option" "$tmp/runhelp" --mem --mem-max --user --mode --flat --vcpus \
    --disk --timeout --console-limit --abi --allow-hypercalls --io-default --io-allow --io-ignore --io-deny \
    --linux --root --env --trace \
    --msr-deny --msr-allow --cpuid --no-sandbox --jail --uid --gid --stats --dump-vmcs --help
check_help "run help gives every exit status" "$tmp/runhelp" '0-123' 124 125 126 '128+N' 130 143 129 141

# --- man pages: they render without warnings and document every option ----------------------------------
for m in man/vmcall.1 man/vmcall-cc.1 man/libvmcall.3; do
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" > "$tmp/man.out" 2> "$tmp/man.err"
    ok=$?; [ -s "$tmp/man.err" ] && ok=1; [ -s "$tmp/man.out" ] || ok=1
    n=$((n + 1))
    if [ $ok = 0 ]; then echo "ok $n - $m renders without warnings"; else
        failed=$((failed + 1)); echo "not ok $n - $m renders without warnings"; sed 's/^/#  /' "$tmp/man.err"; fi
done
LC_ALL=C.UTF-8 MANWIDTH=200 man -l man/vmcall.1 2>/dev/null > "$tmp/man1"
check_help "vmcall(1) describes every option" "$tmp/man1" $(grep -o -- '--[a-z-]*' "$tmp/runhelp" | sort -u)
check_help "vmcall(1) gives every exit status" "$tmp/man1" '0-123' 124 125 126 '128+N' 130 143 129 141

finish
