/* SPDX-License-Identifier: MIT */
/* Library test: the libvmcall contract: config errors, loading errors, a device registered by the
 * embedder, results of crashes, cancellation from another thread, timeouts and resuming. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "../tap.h"
#include "common.h"
#include "vmcall/abi.h"
#include "vmcall/vmcall.h"

static struct vmc_kvm *kvm;

static struct vmc_vm *new_vm(struct vmc_config *cfg, struct capture *cap)
{
    struct vmc_vm *vm;
    char err[256];
    cfg->console_out_fd = cap ? cap->wr : -1;
    if (vmc_vm_create(kvm, cfg, &vm, err, sizeof(err)) != 0) {
        printf("# create: %s\n", err);
        return NULL;
    }
    return vm;
}

static void test_config_errors(void)
{
    struct vmc_config cfg;
    struct vmc_vm *vm = (struct vmc_vm *)1;
    char err[256];
    vmc_config_init(&cfg);
    is_u64(cfg.mem_size, 64 << 20, "default RAM is 64 MiB");
    cfg.mem_size = 1 << 20;
    is_int(vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)), -EINVAL, "1 MiB is too small");
    ok(vm == NULL && strstr(err, "out of range"), "no VM, and a message: %s", err);
    cfg.mem_size = 3 << 20;
    is_int(vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)), -EINVAL, "3 MiB is not a multiple of 2 MiB");
    cfg.mem_size = 4ull << 30;
    is_int(vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)), -EINVAL, "4 GiB is above the 3 GiB limit");
    vmc_config_init(&cfg);
    static char longarg[5000];
    memset(longarg, 'x', sizeof(longarg) - 1);
    const char *argv[] = { longarg };
    cfg.argc = 1;
    cfg.argv = argv;
    is_int(vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)), -E2BIG, "a 5000-byte command line is refused");
    ok(strstr(err, "too long") != NULL, "with a message: %s", err);
    vmc_config_init(&cfg);
    cfg.vcpus = 65;
    is_int(vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)), -EINVAL, "65 vCPUs are refused");
    vmc_config_init(&cfg);
    cfg.io_default = 3;
    is_int(vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)), -EINVAL, "an unknown I/O default is refused");
}

/* An embedder's MSR handler: reads return a value derived from the last write. */
static int msr_fn(struct vmc_vcpu *vcpu, void *opaque, uint32_t index, bool write, uint64_t *value)
{
    (void)vcpu;
    uint64_t *store = opaque;
    if (index != 0x4b000100)
        return -1;
    if (write) {
        if (*value == 0xbad)
            return -1; /* refused: the guest gets #GP */
        *store = *value;
    } else {
        *value = *store + 1;
    }
    return 0;
}

static void test_msr_policy(void)
{
    struct vmc_config cfg;
    struct capture cap;
    capture_open(&cap);
    vmc_config_init(&cfg);
    const char *args[] = { "rd:0x4b000100",       "wr:0x4b000100=0x41", "rd:0x4b000100",
                           "wr:0x4b000100=0xbad", "rd:0xc0000102",      "rd:0x174" };
    cfg.argc = 6;
    cfg.argv = args;
    struct vmc_vm *vm = new_vm(&cfg, &cap);
    uint64_t store = 0;
    is_int(vmc_msr_register(vm, 0x4b000100, msr_fn, &store), 0, "MSR handler registered");
    is_int(vmc_msr_register(vm, 0x4b000100, msr_fn, &store), -EBUSY, "a second handler for it is refused");
    is_int(vmc_msr_register(vm, VMC_MSR_HYPERCALL_PAGE, msr_fn, &store), -EBUSY,
           "the VMM's own MSR is refused");
    is_int(vmc_msr_register(vm, 0x10, NULL, NULL), -EINVAL, "no handler: refused");
    is_int(vmc_vm_set_msr_policy(vm, 0x174, VMC_MSR_DENY), 0, "deny SYSENTER_CS");
    is_int(vmc_vm_set_msr_policy(vm, 0x174, (enum vmc_msr_policy)5), -EINVAL, "an unknown policy is refused");
    vmc_vm_load_elf(vm, guest_path("msr"));
    struct vmc_result res;
    is_int(vmc_vm_run(vm, &res), 0, "MSR guest ran");
    is_int(res.stop, VMC_STOP_EXIT, "and exited");
    is_str(capture_read(&cap),
           "rd:0x4b000100 -> 0x1\nwr:0x4b000100=0x41 -> ok\nrd:0x4b000100 -> 0x42\n"
           "wr:0x4b000100=0xbad -> #GP at the instruction=1\nrd:0xc0000102 -> 0x0\n"
           "rd:0x174 -> #GP at the instruction=1\n",
           "handled, refused and denied MSRs as the guest sees them");
    is_u64(store, 0x41, "the handler saw the write");
    vmc_vm_destroy(vm);
    capture_close(&cap);

    /* More clusters than KVM's filter has ranges: refused when the filter is built, the VM not run. */
    vmc_config_init(&cfg);
    vm = new_vm(&cfg, NULL);
    for (uint32_t i = 0; i < 17; i++)
        vmc_vm_set_msr_policy(vm, 0x1000u * (i + 1), VMC_MSR_DENY);
    vmc_vm_load_elf(vm, guest_path("hello"));
    is_int(vmc_vm_run(vm, &res), -ENOSPC, "17 MSR clusters do not fit the filter");
    ok(strstr(vmc_vm_strerror(vm), "16 clusters") != NULL, "message: %s", vmc_vm_strerror(vm));
    vmc_vm_destroy(vm);
}

/* CPUID overrides as the VM's table holds them (what KVM_SET_CPUID2 gets at the first run). */
static void test_cpuid_policy(void)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    struct vmc_vm *vm = new_vm(&cfg, NULL);
    struct vmc_cpuid_leaf l;
    is_int(vmc_vm_get_cpuid(vm, 0x40000000, 0, &l), 0, "vmcall's base leaf is there");
    is_u64(l.ebx, VMC_CPUID_SIG_EBX, "with the signature");
    is_int(vmc_vm_get_cpuid(vm, 1, 0, &l), 0, "leaf 1");
    ok(!(l.ecx & (1u << 5)) && (l.ecx & (1u << 31)), "VMX hidden, hypervisor bit set (ecx=0x%x)", l.ecx);
    struct vmc_cpuid_leaf all = { 1, 0, 0x11, 0x22, 0xffffffff, 0x44 };
    is_int(vmc_vm_set_cpuid(vm, &all), 0, "override leaf 1 with every ECX bit");
    vmc_vm_get_cpuid(vm, 1, 0, &l);
    ok(l.eax == 0x11 && l.edx == 0x44 && l.ecx == (0xffffffffu & ~(1u << 5)), "VMX stays hidden (ecx=0x%x)",
       l.ecx);
    struct vmc_cpuid_leaf sub = { 7, 0, 0, 0x5, 0, 0 };
    is_int(vmc_vm_set_cpuid(vm, &sub), 0, "override subleaf 7.0");
    vmc_vm_get_cpuid(vm, 7, 0, &l);
    is_u64(l.ebx, 5, "7.0 EBX as set");
    is_int(vmc_vm_get_cpuid(vm, 0x40000123, 0, &l), -ENOENT, "an absent leaf");
    vmc_vm_load_elf(vm, guest_path("hello"));
    struct vmc_result res;
    vmc_vm_run(vm, &res);
    is_int(vmc_vm_set_cpuid(vm, &sub), -EBUSY, "no CPUID change after the first run");
    vmc_vm_destroy(vm);
}

/* A Linux program's CR4 has OSXSAVE exactly when the VM's CPUID offers XSAVE (leaf 1 ECX bit 26): then
 * XCR0 lets it use AVX on any host, and its signal frames carry the whole XSAVE image. */
static void test_linux_xsave(void)
{
    for (int with = 0; with < 2; with++) {
        struct vmc_config cfg;
        vmc_config_init(&cfg);
        const char *const argv[] = { "null" };
        cfg.personality = VMC_PERSONALITY_LINUX;
        cfg.argc = 1;
        cfg.argv = argv;
        struct vmc_vm *vm = new_vm(&cfg, NULL);
        struct vmc_cpuid_leaf l;
        vmc_vm_get_cpuid(vm, 1, 0, &l);
        l.ecx = with ? l.ecx | (1u << 26) : l.ecx & ~(1u << 26);
        vmc_vm_set_cpuid(vm, &l);
        is_int(vmc_vm_load_elf(vm, "build/linux/crash"), 0, "a Linux program (XSAVE %s)",
               with ? "on" : "off");
        struct vmc_result res;
        vmc_vm_run(vm, &res);
        ok(res.stop == VMC_STOP_CRASH && res.vector == 14, "... ends in its fault (#PF, stop %d)", res.stop);
        is_int(!!(res.regs.cr4 & (1u << 18)), with, "... with CR4.OSXSAVE %s", with ? "set" : "clear");
        vmc_vm_destroy(vm);
    }
}

/* A CPL0 VM running the spin guest, stopped by a timeout of ms milliseconds. */
static struct vmc_vm *timed_spin_vm(uint64_t ms)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.timeout_ns = ms * 1000000ull;
    struct vmc_vm *vm = new_vm(&cfg, NULL);
    vmc_vm_load_elf(vm, guest_path("spin"));
    return vm;
}

/* The control block: entry state before the first run, save and restore, the entry event. */
static void test_vmcs(void)
{
    struct vmc_vm *vm = timed_spin_vm(100);
    struct vmc_vcpu *v0 = vmc_vm_vcpu(vm, 0);
    struct vmc_vmcs a, b;
    is_int(vmc_vcpu_get_vmcs(v0, &a), 0, "control block before the first run");
    ok(a.guest.rip >= 0x100000 && a.guest.rsp == VMC_LAYOUT_STACK_TOP && a.guest.rdi == VMC_LAYOUT_BOOT_INFO,
       "it holds the entry state (rip=0x%llx)", (unsigned long long)a.guest.rip);
    ok(a.guest.cs.selector == VMC_SEL_KCODE64 && a.guest.cs.access_rights == 0xa09b && a.entry.ia32e_mode,
       "64-bit code segment in VMX access-rights form, IA-32e entry");
    a.guest.r12 = 0x1234;
    is_int(vmc_vcpu_set_vmcs(v0, &a), 0, "set before the first run");
    struct vmc_result res;
    is_int(vmc_vm_run(vm, &res), 0, "run");
    is_int(res.stop, VMC_STOP_TIMEOUT, "the spin guest timed out");
    is_int(vmc_vcpu_get_vmcs(v0, &a), 0, "control block after the run");
    is_u64(a.guest.r12, 0x1234, "the register set before the run survived it (spin does not touch r12)");
    ok(a.host.runs == 1 && a.host.thread_id > 0, "host area: one run, a thread id");
    is_int(vmc_vcpu_set_vmcs(v0, &a), 0, "write it back unchanged");
    is_int(vmc_vcpu_get_vmcs(v0, &b), 0, "and read it again");
    ok(memcmp(&a.guest, &b.guest, sizeof(a.guest)) == 0, "guest state round-trips exactly");
    b.entry.interruption_info = VMC_INTR_INFO_VALID | (7u << 8) | 3;
    is_int(vmc_vcpu_set_vmcs(v0, &b), -EINVAL, "an event type that cannot be injected is refused");
    b.entry.interruption_info = VMC_INTR_INFO_VALID | VMC_INTR_TYPE_HW_EXC | 13;
    is_int(vmc_vcpu_set_vmcs(v0, &b), -EINVAL, "#GP without its error code is refused");
    b.entry.interruption_info = VMC_INTR_INFO_VALID | VMC_INTR_TYPE_HW_EXC | VMC_INTR_DELIVER_CODE | 13;
    b.entry.exception_error_code = 0x18;
    is_int(vmc_vcpu_set_vmcs(v0, &b), 0, "#GP(0x18) as the entry event");
    vmc_vcpu_get_vmcs(v0, &a);
    ok(a.entry.interruption_info == b.entry.interruption_info && a.entry.exception_error_code == 0x18,
       "pending: 0x%x", a.entry.interruption_info);
    is_int(vmc_vm_run(vm, &res), 0, "run with the event");
    ok(res.stop == VMC_STOP_CRASH && res.vector == 13 && res.error_code == 0x18,
       "the guest's default IDT reported #GP(0x18): %s", res.summary);
    vmc_vm_destroy(vm);
}

/* The I/O policy API: effective policies, and every invalid request refused. */
static void test_io_policy(void)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.io_default = VMC_IO_IGNORE;
    struct vmc_vm *vm = new_vm(&cfg, NULL);
    is_int(vmc_vm_io_policy(vm, 0x80), VMC_IO_IGNORE, "an unclaimed port takes the default");
    is_int(vmc_vm_io_policy(vm, VMC_PORT_COM1), VMC_IO_PASS, "a device port passes");
    is_int(vmc_vm_set_io_policy(vm, 0x3f8, 8, VMC_IO_DENY), 0, "deny COM1");
    is_int(vmc_vm_io_policy(vm, 0x3ff), VMC_IO_DENY, "a port's own policy wins over its device");
    is_int(vmc_vm_set_io_policy(vm, 0xfff0, 17, VMC_IO_DENY), -EINVAL, "a range past 0xffff is refused");
    is_int(vmc_vm_set_io_policy(vm, 0x80, 0, VMC_IO_DENY), -EINVAL, "an empty range is refused");
    is_int(vmc_vm_set_io_policy(vm, 0x80, 1, (enum vmc_io_policy)7), -EINVAL, "an unknown policy is refused");
    is_int(vmc_vm_io_policy(vm, 0x80), VMC_IO_IGNORE, "refused requests changed nothing");
    vmc_vm_destroy(vm);
}

static void test_load_errors(void)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    struct vmc_vm *vm = new_vm(&cfg, NULL);
    struct vmc_result res;
    is_int(vmc_vm_run(vm, &res), -ENOEXEC, "running with no image fails");
    is_int(vmc_vm_load_elf(vm, "/nonexistent/guest.elf"), -ENOENT, "missing file: -ENOENT");
    ok(strstr(vmc_vm_strerror(vm), "/nonexistent/guest.elf") != NULL, "message names the file");
    is_int(vmc_vm_load_elf(vm, "/dev/null"), -ENOEXEC, "not a regular file");
    is_int(vmc_vm_load_elf(vm, guest_path("hello")), 0, "a good image loads");
    is_int(vmc_vm_load_elf(vm, guest_path("hello")), -EBUSY, "a second image is refused");
    uint8_t b[8];
    is_int(vmc_vm_read(vm, (64 << 20) - 4, b, 8), -EFAULT, "vmc_vm_read past RAM");
    is_int(vmc_vm_write(vm, UINT64_MAX - 2, b, 8), -EFAULT, "vmc_vm_write with wrapping address");
    is_int(vmc_vm_read(vm, VMC_LAYOUT_BOOT_INFO, b, 4), 0, "boot info readable");
    is_u64(*(uint32_t *)b, VMC_BOOT_MAGIC, "boot info magic");
    vmc_vm_destroy(vm);
}

struct dev_state {
    uint32_t written;
    int writes, reads;
};

static int dev_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    struct dev_state *d = opaque;
    (void)vcpu;
    (void)addr;
    if (write) {
        memcpy(&d->written, data, len < 4 ? len : 4);
        d->writes++;
    } else {
        uint32_t v = d->written + 1;
        memcpy(data, &v, len < 4 ? len : 4);
        d->reads++;
    }
    return 0;
}

static void test_device(void)
{
    struct vmc_config cfg;
    struct capture cap;
    capture_open(&cap);
    vmc_config_init(&cfg);
    struct vmc_vm *vm = new_vm(&cfg, &cap);
    struct dev_state d = { 0 };
    is_int(vmc_io_register(vm, 0x3fa, 2, dev_io, &d), -EBUSY, "a range overlapping COM1 is refused");
    is_int(vmc_io_register(vm, 0xfffe, 4, dev_io, &d), -EINVAL, "a range past port 0xffff is refused");
    is_int(vmc_mmio_register(vm, 0x1000, 16, dev_io, &d), -EINVAL, "MMIO over RAM is refused");
    is_int(vmc_mmio_register(vm, 0xd0000000, 4096, dev_io, &d), 0, "MMIO above RAM is accepted");
    is_int(vmc_io_register(vm, 0x510, 4, dev_io, &d), 0, "register a port device at 0x510");
    vmc_vm_load_elf(vm, guest_path("unclaimed"));
    struct vmc_result res;
    is_int(vmc_vm_run(vm, &res), 0, "run");
    is_int(res.stop, VMC_STOP_EXIT, "guest exited");
    is_str(capture_read(&cap), "inb(0x1234)=0xff inl(0x2000)=0xffffffff inl(0x510)=0xc0ffef\n",
           "guest saw the device's answer and all-ones elsewhere");
    ok(d.written == 0xc0ffee && d.writes == 1 && d.reads == 1, "device saw the guest's write and read");
    struct vmc_addr_stat st[16];
    size_t n = vmc_vm_addr_stats(vm, false, st, 16);
    int found80 = 0, found1234 = 0;
    for (size_t i = 0; i < n; i++) {
        if (st[i].addr == 0x80 && st[i].unclaimed_writes == 2)
            found80 = 1;
        if (st[i].addr == 0x1234 && st[i].unclaimed_reads == 1)
            found1234 = 1;
    }
    ok(found80 && found1234, "unclaimed accesses counted per port");
    struct vmc_exit_stat es[8];
    n = vmc_vm_exit_stats(vm, es, 8);
    uint64_t io = 0, vmcall = 0;
    for (size_t i = 0; i < n && i < 8; i++) {
        io += es[i].reason == VMC_EXIT_IO ? es[i].count : 0;
        vmcall += es[i].reason == VMC_EXIT_VMCALL ? es[i].count : 0;
    }
    ok(io > 5, "exit stats count I/O exits (%llu)", (unsigned long long)io);
    ok(vmcall >= 2, "and hypercalls as VMCALL exits, once each (%llu)", (unsigned long long)vmcall);
    is_int(vmc_vm_run(vm, &res), -EINVAL, "a VM that exited cannot run again");
    vmc_vm_destroy(vm);
    capture_close(&cap);
}

static void test_crash_results(void)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    struct vmc_vm *vm = new_vm(&cfg, NULL);
    vmc_vm_load_elf(vm, guest_path("pf"));
    struct vmc_result res;
    is_int(vmc_vm_run(vm, &res), 0, "a crashing guest is not a library error");
    is_int(res.stop, VMC_STOP_CRASH, "#PF: crash");
    is_int(res.crash, VMC_CRASH_EXCEPTION, "#PF: exception");
    ok(res.vector == 14 && res.has_error_code && res.error_code == 2, "vector 14, error code 2 (write)");
    is_u64(res.regs.cr2, 0x7ead00000000ull, "cr2");
    is_u64(res.exit.reason, 0, "exit record: exception or NMI");
    is_u64(res.exit.intr_info, 0x80000b0e, "interruption info: valid, error code, hw exception, 14");
    is_u64(res.exit.qualification, 0x7ead00000000ull, "qualification: the faulting address");
    ok(res.regs.rip >= 0x100000 && res.regs.rip < 0x101000, "rip inside the guest's text");
    is_int(res.regs.cpl, 0, "cpl 0");
    vmc_vm_destroy(vm);

    vm = new_vm(&cfg, NULL);
    vmc_vm_load_elf(vm, guest_path("triple"));
    vmc_vm_run(vm, &res);
    is_int(res.crash, VMC_CRASH_TRIPLE_FAULT, "triple fault");
    is_u64(res.exit.reason, 2, "exit record: reason 2");
    vmc_vm_destroy(vm);
}

struct canceller {
    struct vmc_vm *vm;
    int delay_ms;
    int vmcs_rc;      /* vmc_vcpu_get_vmcs on the running vCPU 0 */
    double cancelled; /* when vmc_vm_cancel was called (monotonic s) */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *cancel_later(void *arg)
{
    struct canceller *c = arg;
    struct timespec ts = { c->delay_ms / 1000, (c->delay_ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    struct vmc_vmcs v;
    c->vmcs_rc = vmc_vcpu_get_vmcs(vmc_vm_vcpu(c->vm, 0), &v);
    c->cancelled = now_s();
    vmc_vm_cancel(c->vm);
    return NULL;
}

/* A default VM at CPL0 or CPL3 whose console goes to cap. */
static struct vmc_vm *captured_vm(bool user, struct capture *cap)
{
    struct vmc_config cfg;
    capture_open(cap);
    vmc_config_init(&cfg);
    cfg.user_mode = user;
    return new_vm(&cfg, cap);
}

static void test_cancel(bool user)
{
    const char *mode = user ? "CPL3" : "CPL0";
    struct capture cap;
    struct vmc_vm *vm = captured_vm(user, &cap);
    vmc_vm_load_elf(vm, guest_path_mode("spin", user));
    struct canceller c = { vm, 100, 0, 0 };
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    struct vmc_result res;
    is_int(vmc_vm_run(vm, &res), 0, "%s: run returns after a cancel", mode);
    double back = now_s();
    pthread_join(t, NULL);
    is_int(res.stop, VMC_STOP_CANCELLED, "%s: stopped as cancelled", mode);
    ok(back - c.cancelled < 2.0, "%s: within 2 s of the cancel (%.3f s)", mode, back - c.cancelled);
    is_int(c.vmcs_rc, -EBUSY, "%s: no control block from another thread while the vCPU runs", mode);
    is_str(capture_read(&cap), "spinning\n", "%s: the guest was running", mode);

    /* A watchdog cancels after 3 s: if it had to, the cancel before the run was lost (and nothing hangs). */
    struct canceller dog = { vm, 3000, 0, 0 };
    vmc_vm_cancel(vm);
    double t0 = now_s();
    pthread_create(&t, NULL, cancel_later, &dog);
    is_int(vmc_vm_run(vm, &res), 0, "%s: cancel before run", mode);
    ok(now_s() - t0 < 2.0, "%s: is not lost: the run stops at once (%.3f s)", mode, now_s() - t0);
    is_int(res.stop, VMC_STOP_CANCELLED, "%s: as cancelled", mode);
    pthread_join(t, NULL);
    vmc_vm_destroy(vm);
    capture_close(&cap);
}

/* Four vCPUs spinning (smp_fault with an argument): a cancel stops them all, and a resumed run gets
 * its threads back and can be cancelled again. */
static void test_cancel_smp(bool user)
{
    const char *mode = user ? "CPL3" : "CPL0";
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.user_mode = user;
    cfg.vcpus = 4;
    const char *args[] = { "spin" };
    cfg.argc = 1;
    cfg.argv = args;
    struct vmc_vm *vm = new_vm(&cfg, NULL);
    is_int(vmc_vm_load_elf(vm, guest_path_mode("smp_fault", user)), 0, "%s: 4-vCPU guest loaded", mode);
    for (int round = 0; round < 2; round++) {
        struct canceller c = { vm, 100, 0, 0 };
        pthread_t t;
        pthread_create(&t, NULL, cancel_later, &c);
        struct vmc_result res;
        is_int(vmc_vm_run(vm, &res), 0, "%s: 4 vCPUs, run %d returns after a cancel", mode, round);
        double back = now_s();
        pthread_join(t, NULL);
        is_int(res.stop, VMC_STOP_CANCELLED, "%s: run %d stopped as cancelled", mode, round);
        ok(back - c.cancelled < 2.0, "%s: every vCPU within 2 s of the cancel (%.3f s)", mode,
           back - c.cancelled);
        double after = 0;
        ok(sscanf(res.summary, "vCPU %*u: guest cancelled after %lf s at rip=", &after) == 1 && after >= 0.1,
           "%s: summary says when, after the 0.1 s the canceller waited: %s", mode, res.summary);
    }
    ok(vmc_vm_vcpu(vm, 3) != NULL && vmc_vm_vcpu(vm, 4) == NULL, "%s: vCPUs 0-3 exist, 4 does not", mode);
    vmc_vm_destroy(vm);
}

static void test_timeout(void)
{
    struct vmc_vm *vm = timed_spin_vm(200);
    struct vmc_result res;
    is_int(vmc_vm_run(vm, &res), 0, "timed run returns");
    is_int(res.stop, VMC_STOP_TIMEOUT, "stopped by the timeout");
    double after = 0;
    ok(sscanf(res.summary, "guest timed out after %lf s (limit 0.200 s)", &after) == 1 && after >= 0.2 &&
           after < 2.2,
       "it says when: 0.2 s to 2.2 s after the start: %s", res.summary);
    is_int(vmc_vm_run(vm, &res), 0, "a timed-out VM can be resumed");
    is_int(res.stop, VMC_STOP_TIMEOUT, "and times out again");
    vmc_vm_destroy(vm);
}

static int64_t echo_hc(struct vmc_vcpu *vcpu, void *opaque, const struct vmc_hypercall_args *a)
{
    int *calls = opaque;
    char in[16] = { 0 };
    (*calls)++;
    if (a->args[1] > 8 || vmc_vcpu_copy_from_guest(vcpu, in, a->args[0], a->args[1]))
        return -VMC_EFAULT;
    if (strcmp(in, "ping") || vmc_vcpu_copy_to_guest(vcpu, a->args[0], "pong", 5))
        return -VMC_EFAULT;
    return (int64_t)(a->args[2] + a->nr + a->cpl + a->compat); /* 0x77 + 64 */
}

static void test_custom_hypercall(bool user)
{
    struct capture cap;
    struct vmc_vm *vm = captured_vm(user, &cap);
    int calls = 0;
    is_int(vmc_hypercall_register(vm, 10, "x", echo_hc, &calls, 0), -EINVAL,
           "core numbers are not registrable");
    is_int(vmc_hypercall_register(vm, 128, "x", echo_hc, &calls, 0), -EINVAL,
           "numbers past the page are refused");
    is_int(vmc_hypercall_register(vm, 64, "echo", echo_hc, &calls, VMC_HC_F_USER), 0,
           "register hypercall 64");
    is_int(vmc_hypercall_register(vm, 64, "again", echo_hc, &calls, 0), -EBUSY,
           "a number is registered once");
    vmc_vm_load_elf(vm, guest_path_mode("hc_custom", user));
    struct vmc_result res;
    vmc_vm_run(vm, &res);
    is_int(res.stop, VMC_STOP_EXIT, "%s guest exited", user ? "user-mode" : "kernel-mode");
    is_str(capture_read(&cap), user ? "64=186 buf=pong 65=-38 bad=-14\n" : "64=183 buf=pong 65=-38 bad=-14\n",
           "handler saw the arguments and CPL, copied in and out through the guest handle");
    is_int(calls, 2, "handler ran for both calls to 64");
    struct vmc_hypercall_stat hs[8];
    size_t n = vmc_vm_hypercall_stats(vm, hs, 8);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (hs[i].nr == 64 && !strcmp(hs[i].name, "echo") && hs[i].count == 2 && hs[i].errors == 1)
            found = 1;
    ok(found, "stats: 64 \"echo\" called twice, one error");
    vmc_vm_destroy(vm);
    capture_close(&cap);
}

static void test_user_calls_forbidden(void)
{
    struct vmc_config cfg;
    struct capture cap;
    capture_open(&cap);
    vmc_config_init(&cfg);
    cfg.user_mode = true;
    cfg.allow_user_hypercalls = 0;
    struct vmc_vm *vm = new_vm(&cfg, &cap);
    vmc_vm_load_elf(vm, guest_path_mode("args", true));
    struct vmc_result res;
    vmc_vm_run(vm, &res);
    is_int(res.stop, VMC_STOP_EXIT, "user-mode guest with user hypercalls forbidden still runs");
    is_str(
        capture_read(&cap),
        "argc=1\nargv[0] names the program: args.elf\nargv[argc]=0x0\ncmdline=[] len=0\nmagic=42434d56 abi=4 "
        "size=112 ram=64M\n",
        "console_write refused: the SDK fell back to the UART, nothing lost");
    struct vmc_hypercall_stat hs[8];
    size_t n = vmc_vm_hypercall_stats(vm, hs, 8);
    ok(n >= 2 && hs[0].nr == VMC_HC_CONSOLE_WRITE && hs[0].denied > 0 && hs[0].count == 0,
       "console_write denied, never dispatched");
    vmc_vm_destroy(vm);
    capture_close(&cap);
}

/* vmcall's own calls with Xen's argument registers (config hypercall_abi; no CLI option since --abi
 * selects the personality): a guest built -DVMCG_ABI_XEN, every register but RAX preserved. */
static void test_xen_registers(void)
{
    static const struct {
        const char *guest, *out;
    } runs[] = {
        { "hc_xen", "xen convention: console_write\nresult=30 multicall=0/4 abi=1\n" },
        { "hc_regs", "changed registers mask=0x0\n" },
    };
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        struct vmc_config cfg;
        struct capture cap;
        capture_open(&cap);
        vmc_config_init(&cfg);
        cfg.hypercall_abi = VMC_HCABI_XEN;
        struct vmc_vm *vm = new_vm(&cfg, &cap);
        struct vmc_result res = { 0 };
        if (vm && vmc_vm_load_elf(vm, guest_path(runs[i].guest)) == 0)
            vmc_vm_run(vm, &res);
        is_int(res.stop, VMC_STOP_EXIT, "%s with Xen's argument registers: exits", runs[i].guest);
        is_str(capture_read(&cap), runs[i].out, "%s: arguments from RDI, RSI, RDX, R10, R8", runs[i].guest);
        vmc_vm_destroy(vm);
        capture_close(&cap);
    }
}

int main(void)
{
    kvm = open_kvm();
    test_xen_registers();
    test_config_errors();
    test_load_errors();
    test_device();
    test_crash_results();
    test_io_policy();
    test_msr_policy();
    test_cpuid_policy();
    test_linux_xsave();
    test_vmcs();
    test_cancel(false);
    test_cancel(true);
    test_cancel_smp(false);
    test_cancel_smp(true);
    test_timeout();
    test_custom_hypercall(false);
    test_custom_hypercall(true);
    test_user_calls_forbidden();
    vmc_kvm_close(kvm);
    return tap_done();
}
