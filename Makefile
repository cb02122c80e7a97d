# vmcall: libvmcall (static + shared), the vmcall CLI, the guest SDK, examples, tests and benchmarks.
# `make demo` runs the hello guest; `make check` runs the whole suite, then again under ASan+UBSan.

CC ?= cc
GUEST_CC ?= gcc
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
# Guests do not depend on host sanitizer flags: every build variant shares these.
GBUILD ?= build/guest
SAN ?=
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS ?= -O2 -g
HOST_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -Iinclude -D_GNU_SOURCE -pthread -fPIC
HOST_LDFLAGS := -pthread $(LDFLAGS)
LIBS :=
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SAN),thread)
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
endif
HOST_CFLAGS += $(SANFLAGS)
HOST_LDFLAGS += $(SANFLAGS)

LIB_SRCS := src/util.c src/sandbox.c src/kvm.c src/memory.c src/bus.c src/io.c src/msr.c src/cpuid.c src/sched.c src/event.c \
            src/timer.c src/hypercall.c src/exit.c src/vcpu.c src/vmcs.c src/report.c src/loader.c src/vm.c \
            src/arch/x86_64/mmu.c src/arch/x86_64/insn.c src/arch/x86_64/regs.c src/arch/x86_64/layout.c \
            src/hc/table.c src/hc/core.c src/hc/memop.c src/hc/vcpu_op.c \
            src/xen/table.c src/xen/boot.c src/xen/calls.c src/xen/memory.c src/xen/evtchn.c \
            src/linux/table.c src/linux/boot.c src/linux/fs.c src/linux/mm.c src/linux/proc.c src/linux/thread.c src/linux/signal.c src/linux/poll.c src/linux/tree.c src/linux/procfs.c \
            src/dev/device.c src/dev/console.c src/dev/input.c src/dev/platform.c src/dev/debugcon.c src/dev/uart.c src/dev/block.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBA := $(BUILD)/lib/libvmcall.a
LIBSO := $(BUILD)/lib/libvmcall.so
VMCALL := $(BUILD)/bin/vmcall

# Guest SDK and guests (built with the guest compiler, freestanding).
GUEST_FLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pie -fno-stack-protector -fcf-protection=none \
               -fno-asynchronous-unwind-tables -mgeneral-regs-only -mno-red-zone -Iinclude \
               -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
SDK_SRCS := guest/start.c guest/console.c guest/string.c guest/stdlib.c guest/printf.c guest/printf_float.c \
            guest/hypercall.c guest/irq.c
SDK_OBJS := $(SDK_SRCS:guest/%.c=$(GBUILD)/sdk/%.o)
# User-mode guests run the full ISA natively: their SDK has floating point (printf's f e g a).
SDK_USER_OBJS := $(SDK_SRCS:guest/%.c=$(GBUILD)/sdk-user/%.o)
GUEST_USER_FLAGS := $(filter-out -mgeneral-regs-only,$(GUEST_FLAGS)) -DVMCG_USER_MODE
SDK_LIB := $(GBUILD)/sdk
VMCALL_CC := $(GBUILD)/vmcall-cc
SDK32_OBJS := $(SDK_SRCS:guest/%.c=$(GBUILD)/sdk32/%.o) $(GBUILD)/sdk32/libgcc32.o
SDK := $(SDK_LIB)/libvmcg.a $(SDK_LIB)/libvmcg-user.a $(SDK_LIB)/crt0.o $(SDK_LIB)/guest.lds $(VMCALL_CC) \
       $(SDK_LIB)/libvmcg32.a $(SDK_LIB)/crt0_32.o $(SDK_LIB)/guest32.lds

EXAMPLES := $(GBUILD)/examples/hello.elf $(GBUILD)/examples/mandelbrot.elf $(GBUILD)/examples/embed-guest.elf
EMBED := $(BUILD)/examples/embed
KERNEL_TESTS := assert hello echo args exitcode pf ud gp triple nullptr stack_overflow spin unclaimed bigbss \
                printf internal hc_basic hc_regs hc_xen hc_read memop block hc_custom hc_msr compat32 events \
                smp ipi timer smp_fault io msr cpuid vmcs hostile printf_fp libc
USER_TESTS := user_fp user_pf user_port user_hc user_smp user_io user_printf_fp
# Kernel-mode guests some tests also run in user mode: built a second time with vmcall-cc --user (their
# note says which mode each build is for, and vmcall runs each only in its own).
USER_BUILDS := hello echo libc hc_basic block spin hostile args hc_custom smp_fault
TEST_GUESTS := $(KERNEL_TESTS:%=$(GBUILD)/tests/%.elf) $(USER_TESTS:%=$(GBUILD)/tests/%.elf) \
               $(USER_BUILDS:%=$(GBUILD)/tests/user/%.elf) \
               $(GBUILD)/tests/flat.bin $(GBUILD)/tests/xen_flood.bin $(GBUILD)/tests/pvh.elf

# The Linux personality's test programs (tests/linux/, built as users build them: musl-gcc -static).
LINUX_TESTS := basic crash files mem threads respawn signals faults sigthreads timers
LINUX_BINS := $(LINUX_TESTS:%=build/linux/%) build/linux/basic-glibc-pie build/linux/threads-glibc \
              build/linux/faults-glibc
UNIT_TESTS := test_exit test_iobus test_uart test_loader test_memory test_abi test_hypercall test_xen
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/%)
LIB_TESTS := $(BUILD)/tests/test_two_vms $(BUILD)/tests/test_library $(BUILD)/tests/test_events \
             $(BUILD)/tests/test_sandbox $(BUILD)/tests/test_window
BENCH_BINS := $(BUILD)/bench/vmcbench $(BUILD)/bench/rawproc

.SECONDARY:
.PHONY: all lib sdk guests demo check test check-asan check-tsan host-bins test-bins mutate bench install clean deps format fuzz fuzz-short lint xtf
all: lib $(VMCALL) sdk guests $(EMBED)

lib: $(LIBA) $(LIBSO)
host-bins: $(VMCALL) $(LIB_TESTS)
test-bins: all $(UNIT_BINS) $(LIB_TESTS) $(BUILD)/tests/printf_host $(LINUX_BINS)
sdk: $(SDK)
guests: $(EXAMPLES) $(TEST_GUESTS)

deps:
	$(Q)scripts/deps.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory $(VMCALL) $(GBUILD)/examples/hello.elf
	$(VMCALL) run $(GBUILD)/examples/hello.elf -- from make demo

check: deps
	$(Q)$(MAKE) --no-print-directory test
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory check-asan
	$(Q)$(MAKE) --no-print-directory check-tsan
	$(Q)$(MAKE) --no-print-directory fuzz-short

# The suite: unit tests, library tests, guest tests and the Xen Test Framework, as TAP under prove.
test: all $(UNIT_BINS) $(LIB_TESTS) $(BUILD)/tests/printf_host build/xtf/built $(LINUX_BINS)
	$(Q)VMCALL=$(VMCALL) GUESTS=$(GBUILD) BUILD=$(BUILD) prove -e '' $(UNIT_BINS) $(LIB_TESTS) tests/guest.t tests/cli.t tests/hardening.t \
	    tests/xtf.t tests/linux.t $(if $(SAN),,tests/install.t)

# The Linux personality's test programs: static musl executables (musl-tools), as any user would build them.
build/linux/threads-glibc: tests/linux/threads.c
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -static -pthread -O2 -Wall -Wextra -Werror -o $@ $<
build/linux/faults-glibc: tests/linux/faults.c
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
build/linux/basic-glibc-pie: tests/linux/basic.c
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -static-pie -O2 -Wall -Wextra -Werror -o $@ $<
build/linux/%: tests/linux/%.c
	@mkdir -p $(dir $@)
	$(Q)musl-gcc -static -pthread -O2 -Wall -Wextra -Werror -o $@ $<

# XTF's hvm64 tests, built from XTF_DIR (default ../shared/third_party/xtf) in a scratch copy; without
# it tests/xtf.t says it skipped them and why. `make xtf` rebuilds.
XTF_DIR ?= ../shared/third_party/xtf
export XTF_DIR
build/xtf/built:
	$(Q)scripts/xtf-build.sh build/xtf
xtf:
	$(Q)scripts/xtf-build.sh build/xtf

# The same suite with a sanitizer build of every host binary (clang when present: both compilers build).
ASAN_CC := $(shell command -v clang >/dev/null 2>&1 && echo clang || echo $(CC))
check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=1 CC=$(ASAN_CC) test

# ThreadSanitizer (clang) over what runs threads: the library tests and the SMP, cancel and console
# guests, bounded in time; any report fails the run. Not the sandbox: the TSan runtime needs system calls
# of its own that the allow-list refuses.
TSAN_GUESTS := smp ipi timer smp_fault user_smp hostile memop
check-tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/tsan SAN=thread CC=clang host-bins guests build/linux/crash build/linux/threads build/linux/respawn build/linux/sigthreads build/linux/timers
	$(Q)TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" VMCALL=build/tsan/bin/vmcall GUESTS=$(GBUILD) \
	    timeout 300 prove -e '' $(filter-out %/test_sandbox,$(LIB_TESTS:$(BUILD)/%=build/tsan/%)) tests/tsan.t

# Mutation testing (not in make check: minutes): each mutant of tests/mutants.txt in a scratch copy,
# against the tests it names; prints each fate and the kill ratio (docs/mutation.md).
mutate:
	$(Q)scripts/mutate.sh

# libFuzzer (clang): a short bounded run in `make check`, a long one with `make fuzz`.
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=gnu11 -g -O1 -Iinclude -D_GNU_SOURCE -pthread -fsanitize=address,undefined \
              -fno-sanitize-recover=all
FUZZ_BIN := build/fuzz/fuzz_hypercall
$(FUZZ_BIN): $(LIB_SRCS) tests/fuzz/fuzz_hypercall.c tests/unit/fakevm.h $(wildcard src/*.h src/*/*.h src/*/*/*.h) \
             build/gen/sandbox_bpf.h
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -Ibuild/gen -fsanitize=fuzzer -o $@ $(LIB_SRCS) tests/fuzz/fuzz_hypercall.c $(LIBS)

# tests/fuzz/seeds: inputs that once found a bug, run first every time (libFuzzer reads every corpus
# directory given; it writes new inputs to the first).
fuzz-short: $(FUZZ_BIN)
	$(Q)mkdir -p build/fuzz/corpus && $(FUZZ_BIN) -runs=$(or $(FUZZ_RUNS),200000) -max_len=8192 \
	    -print_final_stats=0 build/fuzz/corpus tests/fuzz/seeds 2>build/fuzz/short.log && echo "fuzz: $(or $(FUZZ_RUNS),200000) inputs, no crash" \
	    || { tail -40 build/fuzz/short.log; exit 1; }

fuzz: $(FUZZ_BIN)
	mkdir -p build/fuzz/corpus && $(FUZZ_BIN) -max_total_time=$(or $(FUZZ_SECONDS),600) -max_len=8192 build/fuzz/corpus \
	    tests/fuzz/seeds

$(BUILD)/bench/hcloop.bin: bench/hcloop.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -DLAPS=40 -DK=50 -c $< -o $@.o
	$(Q)ld -Ttext=0x100000 --oformat=binary -o $@ $@.o

$(GBUILD)/tests/pvh.elf: tests/guest/pvh.S tests/guest/pvh.lds
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -m32 -c $< -o $@.o
	$(Q)ld -m elf_i386 -N -T tests/guest/pvh.lds --no-warn-rwx-segments -o $@ $@.o

$(GBUILD)/tests/xen_flood.bin: tests/guest/xen_flood.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -c $< -o $@.o
	$(Q)ld -Ttext=0x100000 --oformat=binary -o $@ $@.o

$(BUILD)/bench/xenloop.bin: bench/hcloop.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -DXEN -DLAPS=40 -DK=50 -c $< -o $@.o
	$(Q)ld -Ttext=0x100000 --oformat=binary -o $@ $@.o

$(BUILD)/bench/ioloop.bin: bench/hcloop.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -DIOLOOP -DLAPS=40 -DK=50 -c $< -o $@.o
	$(Q)ld -Ttext=0x100000 --oformat=binary -o $@ $@.o

$(GBUILD)/bench/guest_io.elf: bench/guest_io.c $(SDK)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) -Wall -Wextra -Werror -o $@ $<

build/linux/lx_syscall: bench/lx_syscall.c
	@mkdir -p $(dir $@)
	$(Q)musl-gcc -static -O2 -Wall -Wextra -Werror -o $@ $<

bench: all $(BENCH_BINS) build/linux/lx_syscall $(BUILD)/bench/hcloop.bin $(BUILD)/bench/ioloop.bin $(BUILD)/bench/xenloop.bin build/xtf/built \
       $(GBUILD)/bench/guest_io.elf \
       $(GBUILD)/tests/smp_fault.elf $(GBUILD)/tests/user/smp_fault.elf
	$(Q)BUILD=$(BUILD) GUESTS=$(GBUILD) bench/run.sh

# --- host objects -------------------------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

# The sandbox's BPF programs, compiled from src/sandbox_gen.c's allow-lists with libseccomp at build time.
SANDBOX_GEN := $(BUILD)/tools/sandbox-gen
$(SANDBOX_GEN): $(BUILD)/obj/src/sandbox_gen.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $^ $(HOST_LDFLAGS) -lseccomp
$(BUILD)/gen/sandbox_bpf.h: $(SANDBOX_GEN)
	@mkdir -p $(dir $@)
	$(Q)$(SANDBOX_GEN) $@
$(BUILD)/obj/src/sandbox.o: $(BUILD)/gen/sandbox_bpf.h
$(BUILD)/obj/src/sandbox.o: HOST_CFLAGS += -I$(BUILD)/gen

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBSO): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -shared -Wl,-soname,libvmcall.so.1 -o $@ $^ $(HOST_LDFLAGS) $(LIBS)

# The CLI links the static library, and links statically (sanitizer builds cannot): a process that
# lives a few milliseconds should not spend a tenth of them in the dynamic loader (0.3-0.4 ms here).
CLI_STATIC := $(if $(SAN),,-static)
$(VMCALL): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/vmcall/*.c)) $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CLI_STATIC) -o $@ $^ $(HOST_LDFLAGS) $(LIBS) -lm

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $^ $(HOST_LDFLAGS) $(LIBS)

# glibc's printf on the guest printf test's cases: the expected output of tests/guest/printf_fp.c.
$(BUILD)/tests/printf_host: tests/unit/printf_host.c tests/guest/printf_cases.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -Wall -Wno-format-zero-length -o $@ $<

$(LIB_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/lib/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $^ $(HOST_LDFLAGS) $(LIBS)

# abi.h must compile on its own as C99 (pedantic) and as C++11.
$(BUILD)/tests/test_abi: tests/abi/abi_c99.c tests/abi/abi_cxx.cc include/vmcall/abi.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c99 -pedantic-errors -Wall -Wextra -Werror -Iinclude -c tests/abi/abi_c99.c -o $@.c99.o
	$(Q)c++ -std=c++11 -pedantic-errors -Wall -Wextra -Werror -Iinclude -c tests/abi/abi_cxx.cc -o $@.cxx.o
	$(Q)c++ -o $@ $@.c99.o $@.cxx.o

$(BUILD)/bench/vmcbench: $(BUILD)/obj/bench/vmcbench.o $(BUILD)/obj/bench/raw.o $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -o $@ $^ $(HOST_LDFLAGS) $(LIBS) -lm

# The whole-process floor is static: no loader work, the least a process can do.
$(BUILD)/bench/rawproc: $(BUILD)/obj/bench/rawproc.o $(BUILD)/obj/bench/raw.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) -static -o $@ $^ $(HOST_LDFLAGS)

# --- guest SDK ----------------------------------------------------------------------------------------
SDK_HDRS := include/vmcall/guest.h include/vmcall/abi.h guest/printf.h
$(GBUILD)/sdk/%.o: guest/%.c $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_FLAGS) -c $< -o $@

$(GBUILD)/sdk-user/%.o: guest/%.c $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_USER_FLAGS) -c $< -o $@

$(SDK_LIB)/libvmcg-user.a: $(SDK_USER_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(GBUILD)/sdk32/%.o: guest/%.c $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -m32 -march=i686 $(GUEST_FLAGS) -c $< -o $@

$(SDK_LIB)/libvmcg32.a: $(SDK32_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SDK_LIB)/crt0_32.o: guest/crt0_32.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -m32 -c $< -o $@

$(SDK_LIB)/guest32.lds: guest/guest32.lds
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(SDK_LIB)/crt0.o: guest/crt0.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -c $< -o $@

$(SDK_LIB)/libvmcg.a: $(SDK_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SDK_LIB)/guest.lds: guest/guest.lds
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(VMCALL_CC): guest/vmcall-cc.in
	@mkdir -p $(dir $@)
	$(Q)sed -e "s|@SDK_INC@|$$(realpath --relative-to=$(dir $@) include)|" \
	        -e "s|@SDK_LIB@|$$(realpath -m --relative-to=$(dir $@) $(SDK_LIB))|" $< > $@ && chmod +x $@

# examples/embed: a host program embedding libvmcall (built like any embedder, against the static library)
# and its guest.
$(EMBED): examples/embed/embed.c $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LDFLAGS) $(LIBS)

$(GBUILD)/examples/embed-guest.elf: examples/embed/guest.c $(SDK)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) -Wall -Wextra -Werror -o $@ $<

$(GBUILD)/examples/%.elf: examples/%/*.c $(SDK)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) $(if $(filter mandelbrot,$*),--user) -Wall -Wextra -Werror -o $@ $(filter %.c,$^)

$(GBUILD)/tests/user_%.elf: tests/guest/user_%.c $(SDK) $(wildcard tests/guest/*.c)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) --user -Wall -Wextra -Werror -o $@ $<

$(GBUILD)/tests/hc_regs.elf: tests/guest/hc_regs.c tests/guest/hc_regs_asm.S $(SDK)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) -Wall -Wextra -Werror -o $@ $(filter %.c %.S,$^)

$(GBUILD)/tests/compat32.elf: tests/guest/compat32.c $(SDK)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) --m32 -Wall -Wextra -Werror -o $@ $<

$(GBUILD)/tests/hc_xen.elf: tests/guest/hc_xen.c $(SDK)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) -DVMCG_ABI_XEN -Wall -Wextra -Werror -o $@ $<

$(GBUILD)/tests/user/%.elf: tests/guest/%.c $(SDK)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) --user -Wall -Wextra -Werror -o $@ $<

$(GBUILD)/tests/%.elf: tests/guest/%.c $(SDK)
	@mkdir -p $(dir $@)
	$(Q)$(VMCALL_CC) -Wall -Wextra -Werror -o $@ $<

# A flat binary: position-dependent code linked at 0x200000, stripped to raw bytes.
$(GBUILD)/tests/flat.bin: tests/guest/flat.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -c $< -o $@.o
	$(Q)ld -Ttext=0x200000 --oformat=binary -o $@ $@.o

# --- install ------------------------------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/vmcall \
	           $(DESTDIR)$(PREFIX)/lib/vmcall/guest
	install -m 755 $(VMCALL) $(DESTDIR)$(PREFIX)/bin/vmcall
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/libvmcall.a
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/libvmcall.so.1
	ln -sf libvmcall.so.1 $(DESTDIR)$(PREFIX)/lib/libvmcall.so
	install -m 644 include/vmcall/vmcall.h include/vmcall/abi.h include/vmcall/guest.h \
	           $(DESTDIR)$(PREFIX)/include/vmcall/
	install -m 644 $(SDK_LIB)/libvmcg.a $(SDK_LIB)/libvmcg-user.a $(SDK_LIB)/crt0.o $(SDK_LIB)/guest.lds $(SDK_LIB)/libvmcg32.a \
	           $(SDK_LIB)/crt0_32.o $(SDK_LIB)/guest32.lds $(DESTDIR)$(PREFIX)/lib/vmcall/guest/
	sed -e 's|@SDK_INC@|../include|' -e 's|@SDK_LIB@|../lib/vmcall/guest|' guest/vmcall-cc.in \
	    > $(DESTDIR)$(PREFIX)/bin/vmcall-cc && chmod 755 $(DESTDIR)$(PREFIX)/bin/vmcall-cc
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 man/vmcall.1 man/vmcall-cc.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/libvmcall.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/^#define VMC_VERSION "\(.*\)"/\1/p' include/vmcall/vmcall.h)|' \
	    vmcall.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/vmcall.pc

format:
	clang-format -i $(shell git ls-files '*.c' '*.h' '*.cc')

# House rules checked by make check: no two src/ files call each other both ways, no function longer than
# 80 lines in src/ and tools/, every C file clang-formatted (when clang-format is installed).
lint: lib
	$(Q)OBJ=$(BUILD)/obj/src scripts/layers.sh
	$(Q)scripts/funclen.sh $(shell git ls-files 'src/*.c' 'tools/*.c') && echo "funclen: no function over 80 lines"
	$(Q)if command -v clang-format >/dev/null 2>&1; then \
	    clang-format --dry-run -Werror $(shell git ls-files '*.c' '*.h' '*.cc') && echo "format: clean"; \
	else echo "format: clang-format not installed, skipped"; fi

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
