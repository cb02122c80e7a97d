/* SPDX-License-Identifier: MIT */
/* Xen's console_io, xen_version, sched_op, set_timer_op, vcpu_op, hvm_op, sysctl and domctl. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <xen/features.h>

#include "../dev/console.h"
#include "../hc/console.h"
#include "calls.h"

/* ---- console_io ---------------------------------------------------------------------------------- */

/* Bytes one pass writes; a longer write continues (Xen preempts the same way). */
#define CONSOLE_CHUNK 65536u

/*
 * CONSOLEIO_write must write everything before it returns 0 (Xen's guest_console_write). A pass checks
 * its chunk first (a bad handle: -EFAULT, nothing written) and writes what the console queue takes; the
 * rest is a continuation: the guest's registers say what remains and the call is made again, after
 * waiting for room when nothing fit. Inside a multicall the entry cannot continue: -EAGAIN.
 */
static int64_t console_write(struct vmc_hcall *hc)
{
    uint64_t count = hc->a.compat ? (uint32_t)hc->a.args[1] : hc->a.args[1] & 0xffffffffu;
    uint64_t buf = hc->a.args[2], pass = count < CONSOLE_CHUNK ? count : CONSOLE_CHUNK;
    struct iovec iov[CONSOLE_CHUNK / 4096 + 1];
    int n = vmc_hc_iov(hc, buf, pass, false, iov, (int)ARRAY_SIZE(iov));
    if (n < 0)
        return -XEN_EFAULT;
    uint64_t done = vmc_hc_console_put(hc, iov, n);
    if (done == count)
        return 0;
    if (!vmc_hc_continue(hc))
        return -XEN_EAGAIN;
    hc->a.args[1] = count - done;
    hc->a.args[2] = buf + done;
    if (done == 0)
        vmc_hc_wait_console_room(hc);
    return 0;
}

/* CONSOLEIO_read: what input there is, without waiting (Xen's serial ring read); 0 when none. */
static int64_t console_read(struct vmc_hcall *hc)
{
    uint64_t count = (uint32_t)hc->a.args[1], buf = hc->a.args[2];
    uint8_t tmp[4096];
    if (count > sizeof(tmp))
        count = sizeof(tmp);
    if (vmc_hc_iov(hc, buf, count, true, (struct iovec[2]){ 0 }, 2) < 0)
        return -XEN_EFAULT;
    size_t n = vmc_console_read(vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE), tmp, count);
    return vmc_hc_copy_to(hc, buf, tmp, n) ? -XEN_EFAULT : (int64_t)n;
}

int64_t vmc_xen_console_io(struct vmc_hcall *hc)
{
    switch (hc->a.args[0]) {
    case CONSOLEIO_write:
        return console_write(hc);
    case CONSOLEIO_read:
        return console_read(hc);
    default:
        return -XEN_ENOSYS;
    }
}

/* ---- xen_version --------------------------------------------------------------------------------- */

/* A string sub-op: the whole buffer is written, zero-filled after the string (nothing of the VMM's
 * memory leaks into it: XSA-122). */
static int64_t put_string(struct vmc_hcall *hc, const char *s, size_t size)
{
    char buf[XEN_CAPABILITIES_INFO_LEN] = { 0 };
    snprintf(buf, size, "%s", s);
    return vmc_hc_copy_to(hc, hc->a.args[1], buf, size) ? -XEN_EFAULT : 0;
}

static int64_t version(struct vmc_hcall *hc, bool compat)
{
    switch (hc->a.args[0]) {
    case XENVER_version:
        return (__XEN_LATEST_INTERFACE_VERSION__ >> 16) << 16 |
               ((__XEN_LATEST_INTERFACE_VERSION__ >> 8) & 0xff);
    case XENVER_extraversion:
        return put_string(hc, "-vmcall", XEN_EXTRAVERSION_LEN);
    case XENVER_compile_info: {
        struct xen_compile_info ci = { 0 };
        snprintf(ci.compiler, sizeof(ci.compiler), "%s", "vmcall " VMC_VERSION);
        snprintf(ci.compile_by, sizeof(ci.compile_by), "%s", "vmcall");
        snprintf(ci.compile_domain, sizeof(ci.compile_domain), "%s", "vmcall");
        snprintf(ci.compile_date, sizeof(ci.compile_date), "%s", __DATE__);
        return vmc_hc_copy_to(hc, hc->a.args[1], &ci, sizeof(ci)) ? -XEN_EFAULT : 0;
    }
    case XENVER_capabilities:
        return put_string(hc, "hvm-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p", XEN_CAPABILITIES_INFO_LEN);
    case XENVER_changeset:
        return put_string(hc, "vmcall " VMC_VERSION, XEN_CHANGESET_INFO_LEN);
    case XENVER_platform_parameters: {
        /* Where Xen's own mappings start: meaningful to PV guests only, reported as Xen does. */
        uint64_t start = HYPERVISOR_VIRT_START;
        uint32_t start32 = 0xf5800000u; /* HYPERVISOR_VIRT_START of a PAE (compat) guest */
        return vmc_hc_copy_to(hc, hc->a.args[1], compat ? (void *)&start32 : (void *)&start, compat ? 4 : 8)
                   ? -XEN_EFAULT
                   : 0;
    }
    case XENVER_get_features: {
        struct xen_feature_info fi;
        if (vmc_hc_copy_from(hc, &fi, hc->a.args[1], sizeof(fi)))
            return -XEN_EFAULT;
        /* An HVM guest's physmap is translated; no callback vector or pvclock to offer. */
        fi.submap = fi.submap_idx == 0 ? 1u << XENFEAT_auto_translated_physmap : 0;
        return vmc_hc_copy_to(hc, hc->a.args[1], &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
    }
    case XENVER_pagesize:
        return 4096;
    case XENVER_guest_handle: {
        xen_domain_handle_t h = { 0 };
        return vmc_hc_copy_to(hc, hc->a.args[1], h, sizeof(h)) ? -XEN_EFAULT : 0;
    }
    case XENVER_commandline:
    case XENVER_build_id:
        return -XEN_EPERM; /* Xen's default policy shows these to the control domain only */
    default:
        return -XEN_ENOSYS;
    }
}

int64_t vmc_xen_version(struct vmc_hcall *hc)
{
    return version(hc, false);
}

int64_t vmc_xen_version_compat(struct vmc_hcall *hc)
{
    return version(hc, true);
}

/* ---- sched_op, set_timer_op, vcpu_op ------------------------------------------------------------- */

/* Block until the timer's deadline (or an injected interrupt, or the VM stops). */
static void block_until(struct vmc_hcall *hc, uint64_t system_time)
{
    struct vmc_xen *x = vmc_xen_of(hc);
    vmc_act_block(hc->act, system_time ? vmc_xen_deadline(x, system_time) : 0);
}

static int64_t shutdown(struct vmc_hcall *hc, unsigned reason)
{
    switch (reason) {
    case SHUTDOWN_poweroff:
        vmc_act_stop(hc->act, VMC_STOP_EXIT, 0);
        return 0;
    case SHUTDOWN_reboot:
        vmc_act_stop(hc->act, VMC_STOP_EXIT, 0);
        hc->act->stop.reboot = hc->act->stop.stop == VMC_STOP_EXIT;
        return 0;
    case SHUTDOWN_crash:
    case SHUTDOWN_watchdog:
        vmc_act_crash(hc->act, VMC_CRASH_GUEST, reason);
        return 0;
    case SHUTDOWN_suspend:
    case SHUTDOWN_soft_reset:
        return -XEN_EOPNOTSUPP; /* no toolstack to save or rebuild the guest */
    default:
        return -XEN_EINVAL;
    }
}

/*
 * SCHEDOP_poll: every port is checked (Xen: at most 128, each below the port limit, else -EINVAL);
 * none is ever pending here (no event delivery), so the call waits for its timeout: one in the past
 * returns at once, none waits for an interrupt or the end of the VM.
 */
static int64_t poll(struct vmc_hcall *hc, bool compat)
{
    uint64_t ports, nr, timeout;
    if (compat) {
        struct xen_compat_sched_poll p;
        if (vmc_hc_copy_from(hc, &p, hc->a.args[1], sizeof(p)))
            return -XEN_EFAULT;
        ports = p.ports, nr = p.nr_ports, timeout = (uint64_t)p.timeout_hi << 32 | p.timeout_lo;
    } else {
        struct sched_poll p;
        if (vmc_hc_copy_from(hc, &p, hc->a.args[1], sizeof(p)))
            return -XEN_EFAULT;
        ports = vmc_xen_handle(&p.ports), nr = p.nr_ports, timeout = p.timeout;
    }
    evtchn_port_t port[128];
    if (nr > ARRAY_SIZE(port))
        return -XEN_EINVAL;
    if (vmc_hc_copy_elems_from(hc, port, ports, 0, nr, sizeof(port[0])))
        return -XEN_EFAULT;
    for (uint64_t i = 0; i < nr; i++)
        if (port[i] >= VMC_XEN_EVTCHN_MAX)
            return -XEN_EINVAL;
    if (timeout && timeout <= vmc_xen_now(vmc_xen_of(hc)))
        return 0;
    block_until(hc, timeout);
    return 0;
}

static int64_t sched_op(struct vmc_hcall *hc, bool compat)
{
    struct sched_shutdown sd;
    switch (hc->a.args[0]) {
    case SCHEDOP_yield:
        sched_yield();
        return 0;
    case SCHEDOP_block:
        block_until(hc, vmc_xen_of(hc)->timer_ns);
        return 0;
    case SCHEDOP_shutdown:
    case SCHEDOP_shutdown_code:
        if (vmc_hc_copy_from(hc, &sd, hc->a.args[1], sizeof(sd)))
            return -XEN_EFAULT;
        if (hc->a.args[0] == SCHEDOP_shutdown)
            return shutdown(hc, sd.reason);
        vmc_xen_of(hc)->shutdown_code = sd.reason;
        return 0;
    case SCHEDOP_poll:
        return poll(hc, compat);
    case SCHEDOP_remote_shutdown:
    case SCHEDOP_pin_override:
        return -XEN_EPERM; /* for the control domain */
    default:
        return -XEN_ENOSYS;
    }
}

int64_t vmc_xen_sched_op(struct vmc_hcall *hc)
{
    return sched_op(hc, false);
}

int64_t vmc_xen_sched_op_compat(struct vmc_hcall *hc)
{
    return sched_op(hc, true);
}

/* The one-shot timer, in Xen system time (0 cancels). It has no event to deliver (no upcalls): it ends
 * a SCHEDOP_block. */
int64_t vmc_xen_set_timer_op(struct vmc_hcall *hc)
{
    vmc_xen_of(hc)->timer_ns = hc->a.args[0];
    return 0;
}

/* A 32-bit caller passes the 64-bit deadline in EBX (low) and ECX (high). */
int64_t vmc_xen_set_timer_op_compat(struct vmc_hcall *hc)
{
    vmc_xen_of(hc)->timer_ns = (uint64_t)(uint32_t)hc->a.args[1] << 32 | (uint32_t)hc->a.args[0];
    return 0;
}

int64_t vmc_xen_vcpu_op(struct vmc_hcall *hc)
{
    struct vmc_xen *x = vmc_xen_of(hc);
    uint64_t cmd = hc->a.args[0], id = hc->a.args[1];
    if (id >= hc->vcpu->vm->nvcpus)
        return -XEN_ENOENT;
    switch (cmd) {
    case VCPUOP_is_up:
        return 1;
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer t;
        if (vmc_hc_copy_from(hc, &t, hc->a.args[2], sizeof(t)))
            return -XEN_EFAULT;
        if ((t.flags & VCPU_SSHOTTMR_future) && t.timeout_abs_ns < vmc_xen_now(x))
            return -XEN_ETIME;
        x->timer_ns = t.timeout_abs_ns;
        return 0;
    }
    case VCPUOP_stop_singleshot_timer:
        x->timer_ns = 0;
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}

/* ---- hvm_op -------------------------------------------------------------------------------------- */

/* Parameters a guest may read: what vmcall gives it. The PV console's do not exist (-ENOENT), so a
 * guest falls back to console_io. */
static bool param_readable(uint32_t index)
{
    return index == HVM_PARAM_CALLBACK_IRQ || index == HVM_PARAM_STORE_PFN || index == HVM_PARAM_STORE_EVTCHN;
}

int64_t vmc_xen_hvm_op(struct vmc_hcall *hc)
{
    struct vmc_xen *x = vmc_xen_of(hc);
    uint64_t op = hc->a.args[0], arg = hc->a.args[1];
    switch (op) {
    case HVMOP_set_param:
    case HVMOP_get_param: {
        struct xen_hvm_param p;
        if (vmc_hc_copy_from(hc, &p, arg, sizeof(p)))
            return -XEN_EFAULT;
        if (!vmc_xen_self(p.domid))
            return -XEN_ESRCH;
        if (p.index >= HVM_NR_PARAMS)
            return -XEN_EINVAL;
        uint32_t i = vmc_index_nospec(p.index, HVM_NR_PARAMS);
        if (op == HVMOP_set_param) {
            if (i != HVM_PARAM_CALLBACK_IRQ)
                return -XEN_EPERM;  /* the rest are the domain builder's */
            x->params[i] = p.value; /* recorded; vmcall delivers no upcalls */
            return 0;
        }
        if (!param_readable(i))
            return -XEN_ENOENT;
        p.value = x->params[i];
        return vmc_hc_copy_to(hc, arg, &p, sizeof(p)) ? -XEN_EFAULT : 0;
    }
    case HVMOP_get_time: {
        struct xen_hvm_get_time t = { vmc_xen_now(x) };
        return vmc_hc_copy_to(hc, arg, &t, sizeof(t)) ? -XEN_EFAULT : 0;
    }
    default:
        return -XEN_ENOSYS;
    }
}

/* ---- sysctl, domctl ------------------------------------------------------------------------------ */

/* The control domain's calls, answered as Xen answers an ordinary guest: a wrong interface version is
 * -EACCES (guests probe for it that way), the right one -EPERM. */
static int64_t control_op(struct vmc_hcall *hc, uint32_t version)
{
    struct {
        uint32_t cmd, interface_version;
    } head;
    if (vmc_hc_copy_from(hc, &head, hc->a.args[0], sizeof(head)))
        return -XEN_EFAULT;
    return head.interface_version != version ? -XEN_EACCES : -XEN_EPERM;
}

int64_t vmc_xen_sysctl(struct vmc_hcall *hc)
{
    return control_op(hc, XEN_SYSCTL_INTERFACE_VERSION);
}

int64_t vmc_xen_domctl(struct vmc_hcall *hc)
{
    return control_op(hc, XEN_DOMCTL_INTERFACE_VERSION);
}
