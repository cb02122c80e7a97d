/* SPDX-License-Identifier: MIT */
/* Unit tests: the Xen personality on a fake VM: Xen's numbers, structs, errors, CPL rule, copy-once. */
#include "../../src/xen/xen.h"
#include "../tap.h"
#include "fakevm.h"

#define BUF 0x200000u /* guest-physical scratch: handles are physical with paging off */
static struct vmc_vm *vm;
static struct kvm_regs *r;

static uint8_t *gp(uint64_t gpa)
{
    return vm->mem.host + gpa;
}

/* A 64-bit hypercall with Xen's registers (RDI, RSI, RDX, R10, R8): RAX afterwards. */
static int64_t xcall(uint32_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    *r = (struct kvm_regs){ .rax = nr, .rdi = a0, .rsi = a1, .rdx = a2, .rbx = 0xb0b, .rip = 0x100002 };
    memset(&fake_act, 0, sizeof(fake_act));
    return (int64_t)fake_ring(vm, 1);
}

/* The same from 32-bit code (EBX, ECX, EDX): the result as the 32-bit caller sees it. */
static int32_t xcall32(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2)
{
    fake_mode(vm, 32, 0, 0);
    *r = (struct kvm_regs){ .rax = nr, .rbx = a0, .rcx = a1, .rdx = a2 };
    memset(&fake_act, 0, sizeof(fake_act));
    int32_t v = (int32_t)fake_ring(vm, 1);
    fake_mode(vm, 64, 0, 0);
    vm->vcpus[0].run->s.regs.sregs.cr0 = 0x33;
    return v;
}

static void test_discovery(void)
{
    struct vmc_cpuid_leaf l;
    vmc_vm_get_cpuid(vm, 0x40000000, 0, &l);
    char sig[13] = { 0 };
    memcpy(sig, &l.ebx, 4), memcpy(sig + 4, &l.ecx, 4), memcpy(sig + 8, &l.edx, 4);
    is_str(sig, "XenVMMXenVMM", "CPUID 0x40000000: Xen's signature in place of vmcall's");
    is_u64(l.eax, 0x40000004, "... and leaves up to 0x40000004");
    vmc_vm_get_cpuid(vm, 0x40000001, 0, &l);
    is_u64(l.eax, 0x0004000e, "leaf 1: Xen 4.14, the headers' interface version");
    vmc_vm_get_cpuid(vm, 0x40000002, 0, &l);
    ok(l.eax == 1 && l.ebx == 0x40000000, "leaf 2: one hypercall page, MSR 0x40000000");
    vmc_vm_get_cpuid(vm, 0x40000004, 0, &l);
    ok(l.eax == (XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT) && l.ebx == 0 && l.ecx == 1,
       "leaf 4: vCPU id 0 and domain id 1 present");
    is_int(vmc_hypercall_lookup_in(VMC_PERSONALITY_XEN, "console_io"), __HYPERVISOR_console_io,
           "Xen calls are looked up by Xen's names");
    is_int(vmc_hypercall_lookup_in(VMC_PERSONALITY_VMCALL, "console_io"), -ENOENT,
           "... which vmcall's table does not have");
    is_int(vmc_hypercall_lookup_in(VMC_PERSONALITY_XEN, "console_write"), -ENOENT,
           "... nor Xen's vmcall's names");
}

static void test_version(void)
{
    is_int(xcall(__HYPERVISOR_xen_version, XENVER_version, 0, 0), 0x0004000e, "XENVER_version: 4.14");
    ok(r->rdi == XENVER_version && r->rbx == 0xb0b && r->rip == 0x100002, "argument registers kept");
    memset(gp(BUF), 0xaa, 64);
    is_int(xcall(__HYPERVISOR_xen_version, XENVER_extraversion, BUF, 0), 0, "XENVER_extraversion");
    uint8_t want[16] = "-vmcall";
    ok(!memcmp(gp(BUF), want, 16) && gp(BUF)[16] == 0xaa,
       "the string, zero-filled to exactly its 16 bytes (XSA-122)");
    memset(gp(BUF), 0xaa, 1100);
    is_int(xcall(__HYPERVISOR_xen_version, XENVER_capabilities, BUF, 0), 0, "XENVER_capabilities");
    ok(!strcmp((char *)gp(BUF), "hvm-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p") && gp(BUF)[1023] == 0 &&
           gp(BUF)[1024] == 0xaa,
       "HVM capabilities, 1024 bytes");
    is_int(xcall(__HYPERVISOR_xen_version, XENVER_capabilities, vm->mem.size - 100, 0), -XEN_EFAULT,
           "a buffer running off RAM: -EFAULT");
    ok(gp(vm->mem.size - 100)[0] == 0, "... and nothing of it written");
    is_int(xcall(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0), 4096, "XENVER_pagesize");
    *(uint32_t *)gp(BUF) = 0;
    is_int(xcall(__HYPERVISOR_xen_version, XENVER_get_features, BUF, 0), 0, "XENVER_get_features");
    is_u64(*(uint32_t *)gp(BUF + 4), 1u << XENFEAT_auto_translated_physmap, "submap 0: auto-translated only");
    is_int(xcall(__HYPERVISOR_xen_version, XENVER_commandline, BUF, 0), -XEN_EPERM,
           "XENVER_commandline: the control domain's");
    is_int(xcall(__HYPERVISOR_xen_version, 99, BUF, 0), -XEN_ENOSYS, "unknown sub-op: -ENOSYS");
    is_int(xcall(__HYPERVISOR_iret, 0, 0, 0), -XEN_ENOSYS, "an unimplemented call: -ENOSYS");
    is_int(xcall32(__HYPERVISOR_xen_version, XENVER_platform_parameters, BUF, 0), 0,
           "compat platform_parameters");
    ok(*(uint32_t *)gp(BUF) == 0xf5800000u, "4 bytes for a 32-bit caller");

    fake_mode(vm, 64, 3, 0);
    vm->vcpus[0].run->s.regs.sregs.cr0 = 0x33;
    is_int(xcall(__HYPERVISOR_xen_version, XENVER_version, 0, 0), -XEN_EPERM,
           "any call from CPL3: -EPERM (Xen's rule for HVM guests)");
    fake_mode(vm, 64, 0, 0);
    vm->vcpus[0].run->s.regs.sregs.cr0 = 0x33;
}

static int64_t reservation(unsigned cmd, uint64_t frames, uint64_t nr, uint16_t domid)
{
    struct xen_memory_reservation m = { .nr_extents = nr, .domid = domid };
    memcpy(&m.extent_start, &frames, 8);
    memcpy(gp(BUF), &m, sizeof(m));
    return xcall(__HYPERVISOR_memory_op, cmd, BUF, 0);
}

static void test_memory(void)
{
    uint64_t frames = BUF + 0x1000, pfn = 0x300;
    memcpy(gp(frames), &pfn, 8);
    memset(gp(pfn << 12), 0x5a, 4096);
    int64_t cur = xcall(__HYPERVISOR_memory_op, XENMEM_current_reservation, BUF + 0x800, 0);
    *(uint16_t *)gp(BUF + 0x800) = DOMID_SELF;
    cur = xcall(__HYPERVISOR_memory_op, XENMEM_current_reservation, BUF + 0x800, 0);
    is_int(cur, (int64_t)(vm->mem.size >> 12), "current_reservation: every boot page");
    is_int(reservation(XENMEM_decrease_reservation, frames, 1, DOMID_SELF), 1, "decrease one frame: 1 done");
    ok(gp(pfn << 12)[0] == 0 && gp(pfn << 12)[4095] == 0, "the frame reads zero");
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_current_reservation, BUF + 0x800, 0), cur - 1,
           "current_reservation: one page less");
    is_int(reservation(XENMEM_decrease_reservation, frames, 1, DOMID_SELF), 0,
           "the same frame again: 0 done (XSA-277)");
    is_int(reservation(XENMEM_populate_physmap, frames, 1, DOMID_SELF), 1, "populate it again: 1 done");
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_current_reservation, BUF + 0x800, 0), cur,
           "back to every page");
    is_int(reservation(XENMEM_decrease_reservation, frames, 1, 0), -XEN_EPERM, "another domain's: -EPERM");
    is_int(reservation(XENMEM_increase_reservation, frames, 1, DOMID_SELF), 0,
           "increase_reservation: nothing for an auto-translated guest");
    uint64_t two[2] = { 0x301, 0x302 };
    memcpy(gp(frames), two, 16);
    is_int(reservation(XENMEM_decrease_reservation | (1 << XEN_MEMOP_EXTENT_SHIFT), frames, 2, DOMID_SELF), 2,
           "a continuation's start extent: extents from 1, result counts from 0");
    memset(gp(0x301000), 0x11, 1);
    is_int(reservation(XENMEM_decrease_reservation, frames, 1, DOMID_SELF), 1,
           "... so extent 0 was left alone");
    /* 600 frames: a pass does 512, then the call continues from extent 512 (cmd carries it). */
    uint64_t many = BUF + 0x2000;
    for (uint64_t i = 0; i < 600; i++)
        memcpy(gp(many + 8 * i), &(uint64_t){ 0x400 + i }, 8);
    memset(gp(0x400000), 0x77, 600 * 4096);
    is_int(reservation(XENMEM_decrease_reservation, many, 600, DOMID_SELF), __HYPERVISOR_memory_op,
           "600 extents: after a first pass RAX still holds the call number");
    ok(fake_act.restart && r->rdi == (XENMEM_decrease_reservation | 512u << XEN_MEMOP_EXTENT_SHIFT) &&
           r->rsi == BUF && r->rax == __HYPERVISOR_memory_op,
       "... it continues: cmd carries start extent 512, the other arguments kept");
    ok(gp(0x5ff000)[0] == 0 && gp(0x600000)[0] == 0x77, "... after 512 extents");
    memset(&fake_act, 0, sizeof(fake_act));
    is_int((int64_t)fake_ring(vm, 1), 600, "the call made again finishes: 600 extents done");
    ok(!fake_act.restart && gp(0x657000)[0] == 0, "... without another continuation");
    is_int(reservation(XENMEM_populate_physmap, many, 600, DOMID_SELF), __HYPERVISOR_memory_op,
           "populate them back: continues too");
    memset(&fake_act, 0, sizeof(fake_act));
    is_int((int64_t)fake_ring(vm, 1), 600, "... and finishes");
    struct multicall_entry mce = { .op = __HYPERVISOR_memory_op,
                                   .args = { XENMEM_decrease_reservation, BUF } };
    memcpy(gp(BUF + 0x100), &mce, sizeof(mce));
    struct xen_memory_reservation big = { .nr_extents = 600, .domid = DOMID_SELF };
    memcpy(&big.extent_start, &many, 8);
    memcpy(gp(BUF), &big, sizeof(big));
    is_int(xcall(__HYPERVISOR_multicall, BUF + 0x100, 1, 0), 0, "inside a multicall");
    is_int(((struct multicall_entry *)gp(BUF + 0x100))->result, 512,
           "... a pass's 512 extents are the result");
    reservation(XENMEM_populate_physmap, many, 600, DOMID_SELF);
    memset(&fake_act, 0, sizeof(fake_act));
    fake_ring(vm, 1);
    struct xen_memory_reservation m = { .nr_extents = 1, .domid = DOMID_SELF, .extent_order = 10 };
    memcpy(&m.extent_start, &frames, 8);
    memcpy(gp(BUF), &m, sizeof(m));
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_populate_physmap, BUF, 0), 0,
           "order 10: none done (Xen's max 9)");
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, vm->mem.size - 8, 0), -XEN_EFAULT,
           "a reservation past RAM: -EFAULT");

    /* compat: 20-byte reservation, 4-byte frames */
    uint32_t c[5] = { (uint32_t)frames + 0x100, 1, 0, 0, DOMID_SELF };
    *(uint32_t *)gp(frames + 0x100) = 0x303;
    memcpy(gp(BUF), c, sizeof(c));
    is_int(xcall32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, BUF, 0), 1,
           "compat decrease: 1 done");
    is_int(xcall32(__HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0, 0), (int32_t)(vm->mem.size >> 12),
           "compat maximum_ram_page (XSA-454)");

    struct xen_memory_map mm = { .nr_entries = 1 };
    uint64_t e820 = BUF + 0x400;
    memcpy(&mm.buffer, &e820, 8);
    memcpy(gp(BUF), &mm, sizeof(mm));
    memset(gp(e820), 0xaa, 64);
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_memory_map, BUF, 0), 0, "memory_map with room for one");
    ok(*(uint32_t *)gp(BUF) == 1 && *(uint64_t *)gp(e820) == 0 && *(uint64_t *)gp(e820 + 8) == 0x100000 &&
           *(uint32_t *)gp(e820 + 16) == 2 && gp(e820 + 20)[0] == 0xaa,
       "one 20-byte E820 entry (the reserved first MiB), nr_entries 1");
    mm.nr_entries = 8;
    memcpy(gp(BUF), &mm, sizeof(mm));
    xcall(__HYPERVISOR_memory_op, XENMEM_memory_map, BUF, 0);
    uint64_t size1;
    memcpy(&size1, gp(e820 + 28), sizeof(size1)); /* 20-byte entries: the second is not 8-byte aligned */
    ok(*(uint32_t *)gp(BUF) == 2 && size1 == vm->mem.size - 0x100000 && *(uint32_t *)gp(e820 + 36) == 1,
       "room for eight: two entries, then the RAM");

    struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .gpfn = 0x50 };
    memcpy(gp(BUF), &x, sizeof(x));
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0), -XEN_EINVAL,
           "shared_info in the VMM-owned first MiB: -EINVAL");
    x.gpfn = 0x310;
    memcpy(gp(BUF), &x, sizeof(x));
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0), 0, "shared_info mapped");
    struct shared_info *si = (struct shared_info *)gp(0x310000);
    ok(si->evtchn_mask[0] == ~0ul && si->evtchn_mask[63] == ~0ul &&
           si->vcpu_info[0].evtchn_upcall_mask == 1 && si->evtchn_pending[0] == 0 && si->wc_sec > 1600000000u,
       "every channel and upcall masked, the wallclock set");
    x.space = XENMAPSPACE_grant_table, x.idx = 32;
    memcpy(gp(BUF), &x, sizeof(x));
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0), -XEN_EINVAL,
           "grant frame 32: -EINVAL");
    x.space = XENMAPSPACE_gmfn, x.idx = 0;
    memcpy(gp(BUF), &x, sizeof(x));
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0), -XEN_EOPNOTSUPP,
           "gmfn: -EOPNOTSUPP");
    uint32_t cx[4] = { DOMID_SELF, XENMAPSPACE_grant_table, 3, 0x311 };
    memcpy(gp(BUF), cx, sizeof(cx));
    is_int(xcall32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0), 0,
           "compat grant frame 3 (16 bytes)");
    is_int(xcall(__HYPERVISOR_memory_op, XENMEM_machine_memory_map, BUF, 0), -XEN_EPERM,
           "machine_memory_map: the control domain's");
}

static void test_events(void)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    memcpy(gp(BUF), &a, sizeof(a));
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, BUF, 0), 0, "alloc_unbound");
    is_u64(((struct evtchn_alloc_unbound *)gp(BUF))->port, 1, "port 1 (0 is reserved)");
    struct evtchn_status s = { .dom = DOMID_SELF, .port = 1 };
    memcpy(gp(BUF), &s, sizeof(s));
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_status, BUF, 0), 0, "status");
    memcpy(&s, gp(BUF), sizeof(s));
    ok(s.status == EVTCHNSTAT_unbound && s.u.unbound.dom == 1, "unbound, for domain 1 (DOMID_SELF resolved)");
    int64_t rc = 0;
    unsigned n = 1;
    for (; n < 2000 && rc == 0; n++) {
        memcpy(gp(BUF), &a, sizeof(a));
        rc = xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, BUF, 0);
    }
    ok(rc == -XEN_ENOSPC && n == 1024, "-ENOSPC once ports 1..1023 are taken (XSA-317; at %u)", n);
    *(uint32_t *)gp(BUF) = 7;
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, BUF, 0), 0,
           "send to an unbound port: dropped, 0");
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_close, BUF, 0), 0, "close it");
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_close, BUF, 0), -XEN_EINVAL,
           "close it again: -EINVAL");
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, BUF, 0), -XEN_EINVAL, "send to a closed port");
    *(uint32_t *)gp(BUF) = 1u << 20;
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_close, BUF, 0), -XEN_EINVAL,
           "a port past the limit");
    struct evtchn_init_control ic = { .control_gfn = (uint64_t)-2 };
    memcpy(gp(BUF), &ic, sizeof(ic));
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_init_control, BUF, 0), -XEN_EINVAL,
           "init_control with a bad frame: -EINVAL (XSA-188)");
    ic.control_gfn = 0x320, ic.vcpu = 1;
    memcpy(gp(BUF), &ic, sizeof(ic));
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_init_control, BUF, 0), -XEN_ENOENT,
           "... vCPU 1: -ENOENT");
    ic.vcpu = 0;
    memcpy(gp(BUF), &ic, sizeof(ic));
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_init_control, BUF, 0), -XEN_EOPNOTSUPP,
           "... valid: -EOPNOTSUPP, the guest stays 2-level");
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_expand_array, BUF, 0), -XEN_EOPNOTSUPP,
           "expand_array");
    is_int(xcall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, BUF, 0), -XEN_ENOSYS, "bind_ipi: -ENOSYS");

    is_int(xcall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, BUF, 2), -XEN_EINVAL,
           "query_size, count 2");
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    memcpy(gp(BUF), &q, sizeof(q));
    is_int(xcall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, BUF, 1), 0, "query_size");
    memcpy(&q, gp(BUF), sizeof(q));
    ok(q.nr_frames == 4 && q.max_nr_frames == 32 && q.status == GNTST_okay,
       "4 frames mapped (0..3), 32 at most");
    *(uint32_t *)gp(BUF) = 3;
    is_int(xcall(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, BUF, 1), -XEN_EINVAL, "set_version 3");
    is_u64(*(uint32_t *)gp(BUF), 1, "... and the current version written back");
    *(uint32_t *)gp(BUF) = 2;
    is_int(xcall(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, BUF, 1), 0, "set_version 2");
    is_int(xcall(__HYPERVISOR_grant_table_op, GNTTABOP_cache_flush, BUF, 1), -XEN_ENOSYS,
           "cache_flush: not for HVM guests (XSA-232)");
}

static void test_sched(void)
{
    *(uint32_t *)gp(BUF) = SHUTDOWN_suspend;
    is_int(xcall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, BUF, 0), -XEN_EOPNOTSUPP, "shutdown(suspend)");
    is_int(fake_act.kind, VMC_ACT_CONTINUE, "... the VM goes on");
    *(uint32_t *)gp(BUF) = 9;
    is_int(xcall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, BUF, 0), -XEN_EINVAL, "shutdown(9): -EINVAL");
    is_int(xcall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, vm->mem.size, 0), -XEN_EFAULT,
           "shutdown, bad handle");
    *(uint32_t *)gp(BUF) = SHUTDOWN_reboot;
    xcall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, BUF, 0);
    ok(fake_act.kind == VMC_ACT_STOP && fake_act.stop.stop == VMC_STOP_EXIT && fake_act.stop.status == 0 &&
           fake_act.stop.reboot,
       "shutdown(reboot): the VM exits with 0 and says it was asked to reboot");
    *(uint32_t *)gp(BUF) = SHUTDOWN_poweroff;
    xcall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, BUF, 0);
    ok(fake_act.kind == VMC_ACT_STOP && fake_act.stop.stop == VMC_STOP_EXIT && !fake_act.stop.reboot,
       "shutdown(poweroff): exit 0");
    *(uint32_t *)gp(BUF) = SHUTDOWN_watchdog;
    xcall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, BUF, 0);
    ok(fake_act.kind == VMC_ACT_STOP && fake_act.stop.stop == VMC_STOP_CRASH &&
           fake_act.stop.crash == VMC_CRASH_GUEST,
       "shutdown(watchdog): a guest crash");

    uint64_t ports = BUF + 0x100;
    struct sched_poll p = { .nr_ports = 1, .timeout = 1 };
    memcpy(&p.ports, &ports, 8);
    *(uint32_t *)gp(ports) = 5;
    memcpy(gp(BUF), &p, sizeof(p));
    is_int(xcall(__HYPERVISOR_sched_op, SCHEDOP_poll, BUF, 0), 0, "poll with a past timeout: 0 at once");
    is_int(fake_act.kind, VMC_ACT_CONTINUE, "... without blocking");
    *(uint32_t *)gp(ports) = 4096;
    is_int(xcall(__HYPERVISOR_sched_op, SCHEDOP_poll, BUF, 0), -XEN_EINVAL,
           "poll on port 4096: -EINVAL (XSA-221)");
    p.nr_ports = 129;
    memcpy(gp(BUF), &p, sizeof(p));
    is_int(xcall(__HYPERVISOR_sched_op, SCHEDOP_poll, BUF, 0), -XEN_EINVAL, "poll on 129 ports: -EINVAL");
    p.nr_ports = 1, p.timeout = 0;
    *(uint32_t *)gp(ports) = 5;
    memcpy(gp(BUF), &p, sizeof(p));
    is_int(xcall(__HYPERVISOR_sched_op, SCHEDOP_poll, BUF, 0), 0, "poll without timeout");
    ok(fake_act.kind == VMC_ACT_BLOCK && fake_act.until == 0, "... blocks until an event");

    is_int(xcall32(__HYPERVISOR_set_timer_op, 0x9abcdef0, 0x12, 0), 0, "compat set_timer_op");
    is_u64(vm->xen->timer_ns, 0x129abcdef0ull, "... EBX low, ECX high");
    is_int(xcall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0), 0, "block");
    ok(fake_act.kind == VMC_ACT_BLOCK && fake_act.until == vm->xen->boot_ns + 0x129abcdef0ull,
       "... until the timer, in Xen system time");
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = 1, .flags = VCPU_SSHOTTMR_future };
    memcpy(gp(BUF), &t, sizeof(t));
    is_int(xcall(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, BUF), -XEN_ETIME,
           "a singleshot timer in the past, future required: -ETIME");
    is_int(xcall(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0), -XEN_ENOENT, "vCPU 1 does not exist");
    is_int(xcall(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 0, 0), 1, "vCPU 0 is up");
}

static void test_hvm_and_control(void)
{
    struct xen_hvm_param hp = { .domid = DOMID_SELF, .index = HVM_PARAM_STORE_PFN };
    memcpy(gp(BUF), &hp, sizeof(hp));
    is_int(xcall(__HYPERVISOR_hvm_op, HVMOP_get_param, BUF, 0), 0, "get STORE_PFN");
    is_u64(((struct xen_hvm_param *)gp(BUF))->value, VMC_XEN_STORE_PAGE >> 12, "... the zero page");
    hp.index = HVM_PARAM_CONSOLE_PFN;
    memcpy(gp(BUF), &hp, sizeof(hp));
    is_int(xcall(__HYPERVISOR_hvm_op, HVMOP_get_param, BUF, 0), -XEN_ENOENT, "CONSOLE_PFN: no PV console");
    hp.index = HVM_NR_PARAMS;
    memcpy(gp(BUF), &hp, sizeof(hp));
    is_int(xcall(__HYPERVISOR_hvm_op, HVMOP_get_param, BUF, 0), -XEN_EINVAL, "a parameter past the last");
    hp.index = HVM_PARAM_STORE_PFN;
    memcpy(gp(BUF), &hp, sizeof(hp));
    is_int(xcall(__HYPERVISOR_hvm_op, HVMOP_set_param, BUF, 0), -XEN_EPERM, "set STORE_PFN: the builder's");
    hp.domid = 5;
    memcpy(gp(BUF), &hp, sizeof(hp));
    is_int(xcall(__HYPERVISOR_hvm_op, HVMOP_get_param, BUF, 0), -XEN_ESRCH, "another domain: -ESRCH");

    uint32_t head[2] = { 0, 0 };
    memcpy(gp(BUF), head, 8);
    is_int(xcall(__HYPERVISOR_sysctl, BUF, 0, 0), -XEN_EACCES, "sysctl, wrong interface version: -EACCES");
    head[1] = XEN_SYSCTL_INTERFACE_VERSION;
    memcpy(gp(BUF), head, 8);
    is_int(xcall(__HYPERVISOR_sysctl, BUF, 0, 0), -XEN_EPERM, "sysctl, right version: -EPERM");
    is_int(xcall(__HYPERVISOR_domctl, vm->mem.size - 4, 0, 0), -XEN_EFAULT, "domctl, bad handle: -EFAULT");

    struct multicall_entry mc[3] = { { .op = __HYPERVISOR_xen_version, .args = { XENVER_pagesize } },
                                     { .op = __HYPERVISOR_multicall },
                                     { .op = __HYPERVISOR_xen_version, .args = { XENVER_version } } };
    memcpy(gp(BUF), mc, sizeof(mc));
    is_int(xcall(__HYPERVISOR_multicall, BUF, 3, 0), 0, "multicall with Xen's multicall_entry");
    memcpy(mc, gp(BUF), sizeof(mc));
    ok(mc[0].result == 4096 && (long)mc[1].result == -XEN_EINVAL && mc[2].result == 0x0004000e,
       "results in order; a nested multicall is -EINVAL");
    struct vmc_hypercall_stat hs[16];
    size_t n = vmc_vm_hypercall_stats(vm, hs, 16);
    int named = 0;
    for (size_t i = 0; i < n && i < 16; i++)
        named += !strcmp(hs[i].name, "xen_version") && hs[i].nr == __HYPERVISOR_xen_version;
    is_int(named, 1, "--stats names Xen's calls by Xen's names");
}

int main(void)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.mem_size = 16 << 20;
    cfg.console_out_fd = -1;
    cfg.personality = VMC_PERSONALITY_XEN;
    vm = fake_vm_cfg(&cfg);
    r = &vm->vcpus[0].run->s.regs.regs;
    fake_mode(vm, 64, 0, 0);
    vm->vcpus[0].run->s.regs.sregs.cr0 = 0x33; /* paging off: handles are guest-physical */
    test_discovery();
    test_version();
    test_memory();
    test_events();
    test_sched();
    test_hvm_and_control();
    vmc_vm_destroy(vm);

    cfg.vcpus = 2;
    char err[256];
    struct vmc_vm *bad;
    is_int(vmc_vm_create(fake_kvm, &cfg, &bad, err, sizeof(err)), -EINVAL,
           "a Xen VM with two vCPUs: refused");
    is_str(err, "the Xen personality runs one vCPU", "... saying why");
    return tap_done();
}
