#!/bin/sh
# Guest tests (TAP): run SDK guests under `vmcall run` and check exact console output, exit status and
# the first line of stderr.
. "$(dirname "$0")/lib.sh"

crash='^vmcall: '
# --- examples/embed: a host program with its own device and hypercall -----------------------------------
n=$((n + 1))
printf 'temperature 21000 m°C\ntemperature 21250 m°C\ntemperature 21500 m°C\nsum=87, with a bad pointer=-14 (-EFAULT)\nembed: the guest exited with 0 after 3 thermometer reads; setpoint 19500\n' > "$tmp/want"
if "${BUILD:-build}/examples/embed" "$G/examples/embed-guest.elf" > "$tmp/out" 2> "$tmp/err" && cmp -s "$tmp/want" "$tmp/out"; then
    echo "ok $n - examples/embed: the embedder's device and hypercall serve its guest"
else failed=$((failed + 1)); echo "not ok $n - examples/embed"; sed 's/^/#  /' "$tmp/out" "$tmp/err"; fi

# --- guests that succeed -------------------------------------------------------------------------------
check "hello (kernel mode)" 0 @tests/guest/hello.out "" -- run "$T/hello.elf"
check "hello (user mode)" 0 @tests/guest/hello.out "" -- run --user "$T/user/hello.elf"
check "hello in the smallest VM" 0 @tests/guest/hello.out "" -- run --mem 2M "$T/hello.elf"
check "arguments and command line" 3 @tests/guest/args.out \
    "" -- run "$T/args.elf" -- one "two words" ""
check "no arguments" 0 @tests/guest/args.2.out "" -- run -m 128M "$T/args.elf"
check "exit status 7" 7 @tests/guest/exitcode.out "" -- run "$T/exitcode.elf" -- 7
check "exit status 123" 123 @tests/guest/exitcode.out "" -- run "$T/exitcode.elf" -- 123
check "exit status 300 becomes 123" 123 @tests/guest/exitcode.out '^vmcall: guest exit status 300 is above 123; exiting with 123$' \
    -- run "$T/exitcode.elf" -- 300
check "serial echo from stdin" 2 @tests/guest/echo.out "" 'one\ntwo\n' -- run "$T/echo.elf"
check "serial echo, last line unterminated" 2 @tests/guest/echo.2.out "" 'x\nyz' \
    -- run "$T/echo.elf"
check "serial echo in user mode" 1 @tests/guest/echo.3.out "" 'abc\n' -- run --user "$T/user/echo.elf"
"${BUILD:-build}/tests/printf_host" > "$tmp/printf.want"
check "printf: %f %e %g %a %o and flags exactly as glibc prints them (kernel mode)" 0 "@$tmp/printf.want" "" \
    -- run "$T/printf_fp.elf"
check "... and in user mode (the SSE SDK)" 0 "@$tmp/printf.want" "" -- run --user "$T/user_printf_fp.elf"
printf '#include "vmcall/guest.h"\nint main(void) { printf("%%d %%s\\n", "oops", 3); return 0; }\n' > "$tmp/badfmt.c"
n=$((n + 1))
if ! "$G/vmcall-cc" -Wall -Werror -c -o "$tmp/badfmt.o" "$tmp/badfmt.c" 2> "$tmp/err" && grep -q "format" "$tmp/err"; then
    echo "ok $n - a printf call with the wrong arguments does not compile with -Wall -Werror (format attribute)"
else failed=$((failed + 1)); echo "not ok $n - printf's format attribute"; sed 's/^/#  /' "$tmp/err"; fi
check "libc: heap, qsort, bsearch, strings, numbers, ctype (kernel mode)" 0 @tests/guest/libc.out "" -- run "$T/libc.elf"
check "libc: the heap from 4 vCPUs at once (user mode)" 0 @tests/guest/libc.2.out "" -- run --user --vcpus 4 "$T/user/libc.elf"
check "the heap grows past boot RAM with memory_op when --mem-max allows" 0 "12 MiB in a 4 MiB VM: allocated and written\n" "" \
    -- run --mem 4M --mem-max 32M "$T/libc.elf" -- grow
check "... and malloc returns NULL when it cannot" 1 "12 MiB in a 4 MiB VM: NULL\n" "" -- run --mem 4M "$T/libc.elf" -- grow
check "free() of a pointer malloc never returned stops the guest with a report" 126 \
    "ASSERT FAILED guest/stdlib.c:145: free/realloc of a pointer malloc did not return (or freed twice)\n" \
    "${crash}guest reported a crash" -- run "$T/libc.elf" -- badfree
check "printf conversions" 0 @tests/guest/printf.out \
    "" -- run "$T/printf.elf"
check "6 MiB BSS zero-filled in an 8 MiB VM" 0 @tests/guest/bigbss.out "" \
    -- run --mem 8M "$T/bigbss.elf"
check "user mode: SSE and x87 floating point" 0 @tests/guest/user_fp.out "" \
    -- run --user "$T/user_fp.elf"
check "flat binary at 0x200000" 42 @tests/guest/flat.out "" -- run --flat 0x200000 "$T/../tests/flat.bin"
check "unclaimed ports read all-ones" 0 @tests/guest/unclaimed.out \
    '^exit reason +count +total_us +mean_us$' -- run --stats "$T/unclaimed.elf"
check_err_has "--stats counts unclaimed writes per port" '^0x80 +0 +0 +0 +2 +0 +0$'
check_err_has "--stats counts unclaimed reads per port" '^0x1234 +0 +0 +1 +0 +0 +0$'
check_err_has "--stats has a row per exit reason" '^IO_INSTRUCTION\(30\) +[0-9]+ +[0-9.]+ +[0-9.]+$'
end=$(readelf -lW "$G/examples/hello.elf" | awk '$1 == "LOAD" { print $3, $6 }' |
      { m=0; while read -r a s; do e=$((a + s)); [ $e -gt $m ] && m=$e; done; printf '%x' $m; })
check "demo hello example" 0 \
    "Hello from a vmcall guest!\n  kernel mode, 64 MiB of RAM, image at [0x100000, 0x$end), vCPU 1 of 1\n  argv[1] = \"x\"\n" \
    "" -- run "$G/examples/hello.elf" -- x

# --- hypercalls -------------------------------------------------------------------------------------------
check "hypercalls from CPL0: every core call, success and error paths" 0 @tests/guest/hc_basic.out "" -- run "$T/hc_basic.elf"
check "an entry that shuts the VM down ends a multicall: the rest never runs" 9 "before\n" "" -- run "$T/hc_basic.elf" -- mc_stop
check "... also from CPL3" 9 "before\n" "" -- run --user "$T/user/hc_basic.elf" -- mc_stop
check "console_read returns input, then 0 at its end" 0 @tests/guest/hc_read.out "" 'abc' -- run "$T/hc_read.elf"
check "hypercalls preserve every register but RAX (KVM convention)" 0 @tests/guest/hc_regs.out "" \
    -- run "$T/hc_regs.elf"
check "CPL3 callers: user-callable calls only, U/W-checked handles" 0 @tests/guest/user_hc.out \
    "" -- run --user "$T/user_hc.elf"
check "allow-list: other calls get -EPERM and are counted" 0 @tests/guest/hello.out '^exit reason' \
    -- run --stats --allow-hypercalls console_write,4 "$T/hello.elf"
check_err_has "--stats has a row per hypercall" '^console_write\(2\) +1 +0 +0 +[0-9.]+ +[0-9.]+$'
check "allow-list without sched_op: exit falls back to the exit port" 3 @tests/guest/exitcode.out '^exit reason' \
    -- run --stats --allow-hypercalls console_write "$T/exitcode.elf" -- 3
check_err_has "the refused shutdown is counted as denied" '^sched_op\(4\) +0 +0 +1 '
check "unknown name in the allow-list" 125 '' "^vmcall: --allow-hypercalls: unknown hypercall 'nope'$" \
    -- run --allow-hypercalls version,nope "$T/hello.elf"

check "discovery: CPUID leaves, WRMSR fills a page of the guest's choosing" 0 @tests/guest/hc_msr.out \
    "" -- run "$T/hc_msr.elf"
for bad in misaligned outside vmm; do
    check "hypercall-page MSR: $bad address raises #GP" 126 @tests/guest/hc_msr.2.out \
        "${crash}guest #GP\(0x0\) at rip=0x10[0-9a-f]{4}$" -- run "$T/hc_msr.elf" -- $bad
done
check "32-bit guest: compat path, compat multicall and memory_op layouts" 7 @tests/guest/compat32.out "" -- run --mode 32 --mem-max 80M "$T/compat32.elf" -- a b
check "32-bit guest: #UD through the 32-bit default IDT" 126 @tests/guest/compat32.2.out \
    "${crash}guest #UD at rip=0x10[0-9a-f]{4}$" -- run --mode 32 "$T/compat32.elf" -- ud
check_err_has "32-bit crash report: CS is the 32-bit code segment, paging off" 'cpl=0 cs=0x0040 ss=0x0010'
# Images without the guest note (hand-written guests) run as the options say.
objcopy --remove-section .note.vmcall "$T/compat32.elf" "$tmp/plain32.elf"
objcopy --remove-section .note.vmcall "$T/hello.elf" "$tmp/plain64.elf"
check "an ELF32 guest without the note needs --mode 32" 125 '' 'not ELF64: a 32-bit guest needs --mode 32$' -- run "$tmp/plain32.elf"
check "--mode 32 runs ELF32 only" 125 '' 'not ELF32: --mode 32 runs 32-bit guests only$' -- run --mode 32 "$tmp/plain64.elf"
check "an image without the note runs with the options given" 0 @tests/guest/hello.out "" -- run --user "$tmp/plain64.elf"
check "--mode 32 with --vcpus 2 is refused" 125 '' '^vmcall: a 32-bit guest runs on one vCPU \(its SDK cannot start others\)$' -- run --mode 32 --vcpus 2 "$T/compat32.elf"
check "--mode 32 with --user" 125 '' '^vmcall: user mode needs 64-bit mode$' -- run --mode 32 --user "$T/flat.bin"

# --- the guest note: vmcall-cc records the mode and ABI; vmcall run follows it ------------------------------
check "a guest built with --user runs in user mode without --user" 0 @tests/guest/hello.out "" -- run "$T/user/hello.elf"
check "a 32-bit guest runs in 32-bit mode without --mode 32" 7 @tests/guest/compat32.out "" \
    -- run --mem-max 80M "$T/compat32.elf" -- a b
check "--user on a guest built for kernel mode names both" 125 '' \
    "^vmcall: $T/hello.elf was built for kernel mode \\(vmcall-cc\\); --user conflicts with it$" -- run --user "$T/hello.elf"
check "--mode 32 on a 64-bit guest names both" 125 '' \
    "^vmcall: $T/user/hello.elf was built for user mode \\(vmcall-cc --user\\); --mode 32 conflicts with it$" \
    -- run --mode 32 "$T/user/hello.elf"
printf '\007\000\000\000\010\000\000\000\001\000\000\000vmcall\000\000\143\000\000\000\000\000\000\000' > "$tmp/note99"
objcopy --update-section .note.vmcall="$tmp/note99" "$T/hello.elf" "$tmp/abi99.elf"
check "a guest built for a newer ABI is refused" 125 '' \
    "^vmcall: $tmp/abi99.elf: built for guest ABI 99; this vmcall has ABI 4 \\(a newer vmcall runs it\\)$" -- run "$tmp/abi99.elf"
check "a Linux program gets a one-line explanation" 125 '' \
    "^vmcall: /bin/true: built for Linux \\(PT_INTERP: dynamically linked\\); run it with the Linux personality \\(vmcall run --linux\\)$" \
    -- run /bin/true
check "memory_op: populate, release, exchange, quota and every check" 0 @tests/guest/memop.out "" \
    -- run --mem 16M --mem-max 20M "$T/memop.elf"
check "memory_op exchange reads the guest's lists once: a second vCPU rewriting them cannot make it release a VMM page" \
    0 @tests/guest/memop.3.out "" -- run --vcpus 2 --mem 16M --mem-max 32M "$T/memop.elf" -- race
check "memory_op: the whole limit is reachable in 4 KiB extents (adjacent ones merge)" 0 @tests/guest/memop.2.out "" \
    -- run --mem 4M --mem-max 8M "$T/memop.elf" -- small
check "memory_op limit below RAM is refused" 125 '' '^vmcall: memory limit must be' \
    -- run --mem 16M --mem-max 8M "$T/memop.elf"

# A 16-sector disk whose sector i starts with "sector i".
mkdisk() {
    : > "$1"
    i=0
    while [ $i -lt 16 ]; do
        h="sector $i"
        { printf '%s' "$h"; head -c $((512 - ${#h})) /dev/zero | tr '\0' '.'; } >> "$1"
        i=$((i + 1))
    done
}
mkdisk "$tmp/disk"
check "block device: info, read, write, bounds, bad handles, flush" 0 @tests/guest/block.out "" \
    -- run --disk "$tmp/disk" "$T/block.elf" -- big
n=$((n + 1))
if [ "$(dd if="$tmp/disk" bs=512 skip=3 count=1 2>/dev/null | head -c 10)" = "persisted!" ] &&
   [ "$(dd if="$tmp/disk" bs=512 skip=11 count=1 2>/dev/null | head -c 4)" = "zzzz" ] &&
   [ "$(dd if="$tmp/disk" bs=512 skip=12 count=1 2>/dev/null | head -c 9)" = "sector 12" ]; then
    echo "ok $n - block writes are in the file after the VM exits (flushed or not), and only those"
else failed=$((failed + 1)); echo "not ok $n - block writes are in the file after the VM exits"; fi
mkdisk "$tmp/disk"
check "read-only disk refuses writes" 0 @tests/guest/block_ro.out "" -- run --disk "$tmp/disk,ro" "$T/block.elf"
n=$((n + 1))
if [ "$(dd if="$tmp/disk" bs=512 skip=3 count=1 2>/dev/null | head -c 8)" = "sector 3" ]; then
    echo "ok $n - read-only disk unchanged"; else failed=$((failed + 1)); echo "not ok $n - read-only disk unchanged"; fi
mkdisk "$tmp/disk"
check "block buffers: not in RAM, read-only, or supervisor at CPL3 are -EFAULT and change nothing" 0 \
    @tests/guest/block_rights.out "" -- run --disk "$tmp/disk" "$T/block.elf" -- rights
check "... the same rules for a CPL3 caller" 0 @tests/guest/block_rights.2.out "" \
    -- run --user --disk "$tmp/disk" "$T/user/block.elf" -- rights
n=$((n + 1))
if [ "$(dd if="$tmp/disk" bs=512 skip=5 count=1 2>/dev/null | head -c 8)" = "sector 5" ] &&
   [ "$(dd if="$tmp/disk" bs=512 skip=6 count=1 2>/dev/null | head -c 4)" = "kkkk" ]; then
    echo "ok $n - refused writes left the disk alone; the allowed one is there"
else failed=$((failed + 1)); echo "not ok $n - refused writes left the disk alone; the allowed one is there"; fi
head -c 1000 /dev/zero > "$tmp/odd"
check "disk not a multiple of 512 bytes" 125 '' "^vmcall: disk $tmp/odd: size 1000 is not a multiple of 512 bytes$" \
    -- run --disk "$tmp/odd" "$T/block.elf"
check "missing disk" 125 '' "^vmcall: disk $tmp/none: No such file or directory$" -- run --disk "$tmp/none" "$T/block.elf"

# --- vCPUs, IPIs, timers ---------------------------------------------------------------------------------
check "4 vCPUs at CPL0: spinlocked counter exact" 0 @tests/guest/smp.out "" \
    -- run --vcpus 4 "$T/smp.elf" -- 200
check "8 vCPUs at CPL3: spinlocked counter exact" 0 @tests/guest/user_smp.out "" \
    -- run --vcpus 8 --user "$T/user_smp.elf" -- 50000
check "64 vCPUs, each started and brought down" 0 @tests/guest/user_smp.2.out "" \
    -- run --vcpus 64 --user "$T/user_smp.elf" -- 100
check "one vCPU: the smp guest runs alone" 0 @tests/guest/smp.2.out "" \
    -- run "$T/smp.elf" -- 7
check "IPI ping-pong between two halting vCPUs" 0 @tests/guest/ipi.out '^exit reason' \
    -- run --vcpus 2 --stats "$T/ipi.elf"
check_err_has "--stats counts the IPIs injected" '^events injected +20$'
check_err_has "--stats counts halts that blocked" '^halts \(blocked\) +[0-9]+ '
check_err_has "--stats has the send_ipi row" '^send_ipi\(12\) +20 +0 +0 '
check "IPI to a vCPU that is down: no start, not lost" 0 @tests/guest/ipi.2.out "" -- run "$T/ipi.elf"
check "set_timer wakes a halted vCPU; sched_op block" 0 @tests/guest/timer.out \
    "" -- run "$T/timer.elf"
ud3=$(sym "$T/smp_fault.elf" ud_on_3)
check "a fault on vCPU 3 ends the VM and names vCPU 3" 126 '' "${crash}vCPU 3: guest #UD at rip=0x$ud3\$" \
    -- run --vcpus 4 "$T/smp_fault.elf"
check_err_has "the report's vCPU line" '^  vcpu 3, exit EXCEPTION_NMI'
check "timeout stops every spinning vCPU" 124 '' "${crash}vCPU [0-9]: guest timed out after (0\\.[3-9]|[12]\\.)[0-9]{2,3} s \\(limit 0.300 s\\)" \
    -- run --vcpus 4 --timeout 0.3 "$T/smp_fault.elf" -- spin
check "--vcpus out of range" 125 '' '^vmcall: --vcpus 65: must be 1 to 64$' -- run --vcpus 65 "$T/smp.elf"

# --- I/O policy (the VMM's I/O bitmap) --------------------------------------------------------------------
check "I/O default: unclaimed ports pass (all-ones, dropped); wrapping accesses are denied" 0 @tests/guest/io.out "" \
    -- run "$T/io.elf" -- outb:0x80 inb:0x80 outw:0xffff outl:0xfffe inw:0xffff
check "--io-deny: the guest's own #GP handler sees each denied access at its instruction" 0 @tests/guest/io.2.out '^exit reason' \
    -- run --stats --io-deny 0x71,0x80 "$T/io.elf" -- outb:0x80 outb_imm:0x80 inb:0x80 outb:0x70 inb:0x72
check_err_has "--stats counts denied accesses per port" '^0x80 +0 +0 +0 +0 +0 +3$'
check "multi-byte accesses are denied if any of their ports is" 0 @tests/guest/io.3.out "" \
    -- run --io-deny 0x71 "$T/io.elf" -- outw:0x70 inl:0x6e inw:0x6e outl:0x72
check "--io-default ignore: reads all-ones, writes dropped, counted; devices still work" 0 @tests/guest/io.4.out '^exit reason' \
    -- run --stats --io-default ignore "$T/io.elf" -- inb:0x81 outl:0x84 inb:0x3fd
check_err_has "--stats counts ignored accesses per port" '^0x84 +0 +0 +0 +0 +1 +0$'
check "--io-default deny with --io-allow: only allowed and device ports work" 0 @tests/guest/io.5.out "" \
    -- run --io-default deny --io-allow 0x90 "$T/io.elf" -- inb:0x81 outb:0x90 inb:0x3fd
check "--io-deny on a device port keeps the device from the guest" 0 @tests/guest/io.6.out "" \
    -- run --io-deny 0xe9 "$T/io.elf" -- outb:0xe9
check "denied string I/O (INS/OUTS, with and without REP, every size) has no effect: #GP(0) at the instruction" \
    0 @tests/guest/io.7.out '' -- run --io-deny 0x80,0xe9 "$T/io.elf" -- outsb:0x80 outsw:0x80 outsl:0x80 insb:0x80 \
    insw:0x80 insl:0x80 rep_outsb:0x80 rep_outsw:0x80 rep_outsl:0x80 rep_insb:0x80 rep_insw:0x80 rep_insl:0x80 \
    rep_outsb:0xe9 outsl:0xe9
check "allowed string I/O: every iteration reaches the port, registers advance" 0 @tests/guest/io.8.out '' \
    -- run "$T/io.elf" -- outsb:0x80 outsl:0x80 insw:0x80 rep_insb:0x80 rep_insl:0x80 rep_outsw:0x80 rep_outsb:0xe9
check "user mode: --io-allow opens a port in the TSS bitmap" 0 @tests/guest/user_io.out "" -- run --user --io-allow 0x80 "$T/user_io.elf" -- outb:0x80 inb:0x80
check "user mode: a port nobody opened raises #GP" 126 '' "${crash}guest #GP\\(0x0\\) at rip=0x10[0-9a-f]{4}$" \
    -- run --user "$T/user_io.elf" -- outb:0x80
check "user mode: --io-deny closes a console port for CPL3" 126 '' "${crash}guest #GP\\(0x0\\)" \
    -- run --user --io-deny 0x3f8-0x3ff "$T/user_io.elf" -- inb:0x3fd
check "bad port list" 125 '' '^vmcall: --io-deny 0x80-0x70: not a port list' -- run --io-deny 0x80-0x70 "$T/io.elf"
check "bad I/O default" 125 '' '^vmcall: --io-default open: must be pass, ignore or deny$' -- run --io-default open "$T/io.elf"

# --- MSR policy (KVM's MSR filter) ----------------------------------------------------------------------
check "MSRs: allowed ones reach KVM, unknown ones #GP, the hypercall-page MSR is the VMM's" 0 @tests/guest/msr.out \
    "" -- run "$T/msr.elf" -- rd:0xc0000102 wr:0xc0000102=0x123456789 rd:0xc0000102 rd:0x12345678 rd:0x40000000
check "--msr-deny: RDMSR and WRMSR of denied MSRs raise #GP; others still work" 0 @tests/guest/msr.2.out \
    "" -- run --msr-deny 0xc0000102,0x174 "$T/msr.elf" -- rd:0xc0000102 wr:0xc0000102=5 rd:0x174 rd:0xc0000100
check "--msr-allow after --msr-deny gives the MSR back to KVM" 0 @tests/guest/msr.3.out "" \
    -- run --msr-deny 0xc0000102 --msr-allow 0xc0000102 "$T/msr.elf" -- rd:0xc0000102
check "bad MSR list" 125 '' '^vmcall: --msr-deny 0x1,x: not a list of MSR indices$' -- run --msr-deny 0x1,x "$T/msr.elf"

# --- CPUID policy (tested from kernel mode: CPUID at CPL3 is not trapped on every host) ----------------
check "CPUID: VMX/SVM hidden, hypervisor bit, vmcall leaves" 0 @tests/guest/cpuid.out \
    "" -- run "$T/cpuid.elf" -- 0x40000001 0x40000002
check "--cpuid adds leaves and subleaves" 0 @tests/guest/cpuid.2.out \
    "" -- run --cpuid 0x40000100=1:2:3:4 --cpuid 0x40000101.2=10:11:12:13 "$T/cpuid.elf" -- 0x40000100 0x40000101.2
check "--cpuid overrides vmcall's own leaf" 0 @tests/guest/cpuid.3.out \
    "" -- run --cpuid 0x40000002=7:0x40000000:0:0 "$T/cpuid.elf" -- 0x40000002
check "bad --cpuid" 125 '' '^vmcall: --cpuid 7=1: expected LEAF\[.SUB\]=EAX:EBX:ECX:EDX$' -- run --cpuid 7=1 "$T/cpuid.elf"

# --- the control block (--dump-vmcs) ---------------------------------------------------------------------
# Host-area lines (thread id, CPU, counters), the CPUID leaf count, the unusable LDTR's access rights
# (VMX reads back 0x10000, others keep the type bits) and "use MSR bitmaps" (the MSR filter is installed
# for the hypercall-page MSR when the host's KVM implements Hyper-V MSRs) depend on the machine; the rest
# is exact.
hlt_at=$(sym "$T/vmcs.elf" vmcs_hlt)
rip=$(printf '0x%016x' $((0x$hlt_at + 1)))
"$VMCALL" run --dump-vmcs "$T/vmcs.elf" > "$tmp/out" 2> "$tmp/err"
status=$?
grep -v '^host\.\|^exec\.cpuid\.leaves \|^guest\.ldtr\.access_rights \|^exec\.primary_processor_based_controls ' \
    "$tmp/err" > "$tmp/dump"
sed "s/@RIP@/$rip/" tests/guest/vmcs.out > "$tmp/want"
n=$((n + 1))
if [ "$status" = 0 ] && cmp -s "$tmp/dump" "$tmp/want"; then echo "ok $n - --dump-vmcs: exact guest state, controls and exit record after HLT"; else
    failed=$((failed + 1)); echo "not ok $n - --dump-vmcs: exact guest state, controls and exit record after HLT"
    diff "$tmp/want" "$tmp/dump" | sed 's/^/#    /'; fi
check_err_has "--dump-vmcs: host area present" '^host\.thread_id [1-9][0-9]*$'
check_err_has "--dump-vmcs: primary controls: HLT and unconditional I/O exiting" \
    '^exec\.primary_processor_based_controls 0x(81|91)000080 hlt-exiting unconditional-io-exiting( use-msr-bitmaps)? activate-secondary-controls$'
check "--dump-vmcs: one block per vCPU and the I/O and MSR bitmaps" 0 '' '^vmcs\.vcpu 0$' \
    -- run --dump-vmcs --vcpus 2 --io-deny 0x70-0x71,0x8000 --msr-deny 0x174 "$T/vmcs.elf"
check_err_has "vCPU 1 never started: waiting for SIPI" '^guest\.activity_state 3 wait-for-sipi$'
check_err_has "vCPU 1 block" '^vmcs\.vcpu 1$'
check_err_has "I/O bitmap A counts intercepted ports" '^exec\.io_bitmap_a\.intercepted 2$'
check_err_has "I/O bitmap B counts intercepted ports" '^exec\.io_bitmap_b\.intercepted 1$'
check_err_has "MSR bitmap counts rules" '^exec\.msr_bitmap\.rules 1$'
check_err_has "an I/O policy and an MSR filter: use I/O and MSR bitmaps" \
    '^exec\.primary_processor_based_controls 0x92000080 hlt-exiting use-io-bitmaps use-msr-bitmaps activate-secondary-controls$'
check_err_has "entry controls: IA-32e mode guest" '^entry\.controls 0x00008200 ia-32e-mode-guest load-ia32-efer$'

# --- guests that must be stopped, with a precise report ------------------------------------------------
check "a failed VMCG_ASSERT names its file and line and crashes the VM" 126 @tests/guest/assert.out \
    "${crash}guest reported a crash \\(status 10837623\\) at rip=" -- run "$T/assert.elf"
check "VMCG_ASSERT_EQ prints both values" 126 @tests/guest/assert.2.out "${crash}guest reported a crash" \
    -- run "$T/assert.elf" -- eq
check "#PF on an unmapped write" 126 @tests/guest/pf.out \
    "${crash}guest #PF at rip=0x10[0-9a-f]{4} cr2=0x7ead00000000 \(write, not-present\)$" -- run "$T/pf.elf"
check_err_has "crash report has registers" '^  rax=0x[0-9a-f]{16} rbx='
check_err_has "crash report has control registers" '^  cr0=0x80010033 cr2=0x00007ead00000000 cr3=0x0000a000 cr4=0x00000620 efer=0x500$'
check_err_has "crash report has the CPL" 'cpl=0 cs=0x0008'
check "#PF on a NULL read" 126 '' "${crash}guest #PF at rip=0x10[0-9a-f]{4} cr2=0x0 \(read, not-present\)$" \
    -- run "$T/nullptr.elf"
ud=$(sym "$T/ud.elf" ud_here)
check "#UD at the ud2" 126 '' "${crash}guest #UD at rip=0x$ud\$" -- run "$T/ud.elf"
check "#GP on a non-canonical access" 126 '' "${crash}guest #GP\(0x0\) at rip=0x10[0-9a-f]{4}$" -- run "$T/gp.elf"
check "triple fault through an empty IDT" 126 '' "${crash}guest triple fault \(shutdown\) at rip=0x10[0-9a-f]{4}$" \
    -- run "$T/triple.elf"
check_err_has "triple fault exit record" 'exit TRIPLE_FAULT \(reason 2, kvm exit 8'
check "stack overflow hits the guard page" 126 '' \
    "${crash}guest #PF at rip=0x10[0-9a-f]{4} cr2=0x20[0-9a-f]{3} \(write, not-present\)$" -- run "$T/stack_overflow.elf"
check "executing MMIO is a KVM internal error" 126 '' \
    "${crash}KVM internal error: emulation failure \(suberror 1\) at rip=0xc0000000$" -- run "$T/internal.elf"
check "user mode: supervisor page protected" 126 '' \
    "${crash}guest #PF at rip=0x10[0-9a-f]{4} cr2=0x1000 \(read, protection, user\)$" -- run --user "$T/user_pf.elf"
check_err_has "user-mode crash reports cpl 3" 'cpl=3 cs=0x002b ss=0x0023'
check "user mode: ports outside the TSS bitmap raise #GP" 126 @tests/guest/user_port.out \
    "${crash}guest #GP\(0x0\) at rip=0x10[0-9a-f]{4}$" -- run --user "$T/user_port.elf"
check "timeout stops a spinning guest" 124 @tests/guest/spin.out \
    "${crash}guest timed out after (0\\.[3-9]|[12]\\.)[0-9]{2,3} s \\(limit 0.300 s\\) at rip=0x10[0-9a-f]{4}$" -- run --timeout 0.3 "$T/spin.elf"
for how in block halt; do
    check "timeout ends a guest waiting in the VMM for good ($how)" 124 "waiting\n" \
        "${crash}guest timed out after (0\\.[3-9]|[12]\\.)[0-9]{2,3} s \\(limit 0.300 s\\)" \
        -- run --timeout 0.3 "$T/hostile.elf" -- $how
done
check "timeout stops a spinning user-mode guest" 124 @tests/guest/spin.out "${crash}guest timed out after (0\\.[2-9]|[12]\\.)[0-9]{2,3} s \\(limit 0.200 s\\)" \
    -- run --user -t 0.2 "$T/user/spin.elf"

# A PVH guest of our own (no XTF needed): start info, Xen's CPUID leaves, the hypercall page by MSR,
# compat console_io, and each shutdown reason's status.
pvh="pvh: start info, CPUID, hypercall page ok; cmdline:"
check "PVH guest: poweroff, status 0, its arguments as the command line" 0 "$pvh 0 two words\n" "" \
    -- run "$T/pvh.elf" -- 0 two words
check "PVH guest: reboot, status 0 and a note" 0 "$pvh 1\n" \
    '^vmcall: guest asked for a reboot; vmcall does not restart guests \(status 0\)$' -- run "$T/pvh.elf" -- 1
check "PVH guest: crash, status 126 and a report" 126 "$pvh 3\n" \
    '^vmcall: guest shut down as crashed \(Xen SHUTDOWN_crash\) at rip=0x1[0-9a-f]{5}$' -- run "$T/pvh.elf" -- 3
check_err_has "... from 32-bit code, paging off" 'cr0=0x00000033 cr2=0x0+ cr3=0x0+ cr4=0x0+ efer=0x0$'
check "PVH guest: an unknown reason is refused, the guest goes on" 16 "$pvh 7\n" "" -- run "$T/pvh.elf" -- 7
check "PVH guest under --abi vmcall: refused" 125 "" 'a Xen PVH guest; run it with the Xen personality' \
    -- run --abi vmcall "$T/pvh.elf"

# Xen's console_io must write everything before it returns 0: behind a reader that waits a second, the
# 1 MiB fills the console queue and the calls continue (Xen's continuations) until all of it is out.
n=$((n + 1))
want=$(for i in $(seq 64); do head -c 16383 /dev/zero | tr '\0' x; echo; done | md5sum)
got=$( (timeout 60 "$VMCALL" run --abi xen --mem 4 --stats --flat 0x100000 "$T/xen_flood.bin" 2> "$tmp/err";
        echo $? > "$tmp/status") | (sleep 1; md5sum))
calls=$(awk '$1 == "console_io(18)" { print $2 }' "$tmp/err")
if [ "$got" = "$want" ] && [ "$(cat "$tmp/status")" = 0 ] && [ "${calls:-0}" -gt 65 ]; then
    echo "ok $n - Xen console_io behind a slow reader: 1 MiB exact, $calls calls for 65 (continuations), bad buffer -EFAULT"
else
    failed=$((failed + 1))
    echo "not ok $n - Xen console_io behind a slow reader: status $(cat "$tmp/status"), $calls calls, md5 $got"
fi

echo "1..$n"
[ "$failed" = 0 ]
