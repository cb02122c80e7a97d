/* SPDX-License-Identifier: MIT */
/* Guest-physical memory: boot RAM, the hot-add window, and the only checked way to reach either. */
#ifndef VMCALL_SRC_MEM_H
#define VMCALL_SRC_MEM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vmc_kvm;

/* A run of populated guest RAM in the hot-add window, backed by one KVM memslot. */
struct vmc_region {
    uint64_t gpa, size;
    uint32_t slot;
};

/* Separate runs of hot-added RAM a VM may have (each is a KVM memslot). Populating an extent that would
 * need one more returns -ENOSPC; adjacent extents merge into one run and never count twice. */
#define VMC_HOTADD_RUNS_MAX 4096u

/*
 * Guest RAM. Host memory behind every guest-physical page is fixed for the VM's life: boot RAM is one
 * mapping, and the whole hot-add window is reserved at creation (PROT_NONE until populated), so a host
 * pointer once handed out stays valid. What changes is which window pages are RAM: a bitmap that
 * memory_op sets (under `lock`) and every reader tests without a lock. Memory the VMM keeps per VM for
 * this is fixed: the bitmap (32 KiB per GiB of window) and the run list (at most VMC_HOTADD_RUNS_MAX).
 */
struct vmc_mem {
    uint8_t *host; /* boot RAM at guest-physical 0 */
    uint64_t size;
    uint8_t *hot; /* the window's host reservation, or NULL: no hot-add */
    uint64_t hot_base, hot_size;
    _Atomic uint64_t *populated; /* one bit per window page */
    _Atomic uint64_t *sealed;    /* one bit per boot-RAM page nobody may touch (vmc_mem_seal), or NULL */
    _Atomic uint64_t *readonly;  /* one bit per boot-RAM page nobody may write, with `sealed` */
    _Atomic uint32_t sealing;    /* vmc_mem_seal calls under way */
    _Atomic uint64_t seal_gen;   /* vmc_mem_seal calls done */
    /* Under `lock`: the runs (sorted, never adjacent) and their memslots, the page counts. Released
     * frames stay populated (a guest may touch them again), so they keep counting against the limit. */
    pthread_mutex_t lock;
    struct vmc_region *runs;
    size_t nruns;
    uint8_t slot_used[VMC_HOTADD_RUNS_MAX + 1]; /* memslot ids 1..VMC_HOTADD_RUNS_MAX (0 is boot RAM) */
    uint64_t populated_pages, max_pages;
};

/* Map boot RAM, and reserve host address space for the hot-add window [hot_base, hot_base + hot_size)
 * when max_size (the RAM the guest may reach) exceeds size; the caller registers memslot 0. */
int vmc_mem_init(struct vmc_mem *mem, uint64_t size, uint64_t max_size, uint64_t hot_base, uint64_t hot_size);
void vmc_mem_free(struct vmc_mem *mem);

/* Bounds- and overflow-checked translation of [gpa, gpa+len) to a host pointer; NULL unless the whole
 * range lies in one run of RAM. */
void *vmc_mem_ptr(const struct vmc_mem *mem, uint64_t gpa, uint64_t len);
/* The same for a range the VMM will write: NULL if any page of it is read-only. */
void *vmc_mem_ptr_w(const struct vmc_mem *mem, uint64_t gpa, uint64_t len);
/* Copies that may span adjacent runs; -EFAULT if any byte is outside RAM. The whole range is checked
 * before a byte is copied, so a failed write changes nothing. */
int vmc_mem_read(const struct vmc_mem *mem, uint64_t gpa, void *buf, uint64_t len);
int vmc_mem_write(const struct vmc_mem *mem, uint64_t gpa, const void *buf, uint64_t len);
/* What may be done with boot-RAM pages (vmc_mem_seal). */
enum vmc_mem_access { VMC_MEM_NONE, VMC_MEM_READ, VMC_MEM_RW };
/* Seal boot-RAM pages [gpa, gpa+len) (page-aligned), make them read-only, or open them again. The host
 * mapping gets the same rights, so KVM cannot give the guest more (a guest access it may not make ends
 * KVM_RUN with EFAULT), and every VMM path honours them: a sealed page is a hole, a read-only one a hole
 * for writes (vmc_mem_ptr_w, the copies). For the Linux personality's munmap and mprotect. */
int vmc_mem_seal(struct vmc_mem *mem, uint64_t gpa, uint64_t len, enum vmc_mem_access access);
/* Make KVM forget what it cached of [gpa, gpa+len) (its MMU notifier runs: shadow entries dropped, TLBs
 * flushed), rights unchanged: the host mapping goes to PROT_NONE and back. The range has one access, and
 * no VMM path may read it meanwhile (they see it sealed, EFAULT): the caller holds off its guest's calls. */
int vmc_mem_flush(struct vmc_mem *mem, uint64_t gpa, uint64_t len);
/*
 * A KVM_RUN that ends in EFAULT met a page whose host mapping forbids the access; while rights change
 * (the guest's page tables first, then the host's mapping, or vmc_mem_flush's round trip) a vCPU may meet
 * a page in between. vmc_mem_rights_epoch before KVM_RUN and vmc_mem_rights_settled after the EFAULT
 * tell whether that can have been the case: then the vCPU runs again.
 */
uint64_t vmc_mem_rights_epoch(const struct vmc_mem *mem);
bool vmc_mem_rights_settled(const struct vmc_mem *mem, uint64_t epoch);
/* The access of the page at gpa (VMC_MEM_RW for every page when nothing was ever sealed). */
enum vmc_mem_access vmc_mem_access(const struct vmc_mem *mem, uint64_t gpa);
/* Zero [gpa, gpa+len) without touching untouched host pages where possible. */
int vmc_mem_zero(const struct vmc_mem *mem, uint64_t gpa, uint64_t len);

/* Can [gpa, gpa+size) become RAM, with `pending` more pages about to be populated? 0; -EINVAL outside the
 * hot-add window, -EEXIST if any of it is RAM, -ENOMEM past the limit, -ENOSPC past VMC_HOTADD_RUNS_MAX. */
int vmc_mem_can_populate(const struct vmc_mem *mem, uint64_t gpa, uint64_t size, uint64_t pending);
/* Make [gpa, gpa+size) RAM: host pages, merged run, KVM memslot, counted. With mem->lock held. */
int vmc_mem_populate(struct vmc_mem *mem, struct vmc_kvm *kvm, int vm_fd, uint64_t gpa, uint64_t size);

#endif /* VMCALL_SRC_MEM_H */
