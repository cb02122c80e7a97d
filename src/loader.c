/* SPDX-License-Identifier: MIT */
/* Guest image loaders: validate a static ELF64 x86-64 executable or a flat binary, copy it into RAM. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xen/elfnote.h>

#include "loader.h"
#include "mem.h"
#include "util.h"
#include "vmcall/abi.h"

#define MAX_PHDRS 64

/* Read exactly len bytes at off; a short read means the file is shorter than its headers claim. */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ENODATA;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int fail(char *err, size_t errlen, const char *name, const char *what, int rc)
{
    vmc_errf(err, errlen, "%s: %s", name, what);
    return rc;
}

/* The guest's image must leave the VMM region alone and stay inside RAM. */
static int check_range(const struct vmc_mem *mem, uint64_t start, uint64_t len, const char *name,
                       const char *what, char *err, size_t errlen)
{
    if (len && start + len - 1 < start) {
        vmc_errf(err, errlen, "%s: %s: address 0x%" PRIx64 " + size 0x%" PRIx64 " overflows", name, what,
                 start, len);
        return -ENOEXEC;
    }
    if (start < VMC_LAYOUT_LOAD_MIN) {
        vmc_errf(err, errlen, "%s: %s at 0x%" PRIx64 " overlaps the VMM's reserved region (below 0x%x)", name,
                 what, start, VMC_LAYOUT_LOAD_MIN);
        return -ENOEXEC;
    }
    if (!vmc_mem_ptr(mem, start, len ? len : 1)) {
        vmc_errf(err, errlen,
                 "%s: %s [0x%" PRIx64 ", 0x%" PRIx64 ") lies outside guest RAM (0x%" PRIx64
                 " bytes; raise --mem)",
                 name, what, start, start + len, mem->size);
        return -ENOEXEC;
    }
    return 0;
}

/* ELF32 headers widened to the ELF64 form, so that one set of checks serves both classes. */
static void widen_ehdr(const Elf32_Ehdr *h, Elf64_Ehdr *o)
{
    memcpy(o->e_ident, h->e_ident, EI_NIDENT);
    o->e_type = h->e_type;
    o->e_machine = h->e_machine;
    o->e_version = h->e_version;
    o->e_entry = h->e_entry;
    o->e_phoff = h->e_phoff;
    o->e_phentsize = h->e_phentsize == sizeof(Elf32_Phdr) ? sizeof(Elf64_Phdr) : 0;
    o->e_phnum = h->e_phnum;
}

static void widen_phdr(const Elf32_Phdr *p, Elf64_Phdr *o)
{
    *o = (Elf64_Phdr){ .p_type = p->p_type,
                       .p_flags = p->p_flags,
                       .p_offset = p->p_offset,
                       .p_vaddr = p->p_vaddr,
                       .p_paddr = p->p_paddr,
                       .p_filesz = p->p_filesz,
                       .p_memsz = p->p_memsz,
                       .p_align = p->p_align };
}

/* The size of the regular file behind fd: images are read with pread, so pipes and devices are refused. */
static int file_size(int fd, const char *name, uint64_t *size, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(err, errlen, name, strerror(errno), -errno);
    if (!S_ISREG(st.st_mode))
        return fail(err, errlen, name, "not a regular file", -ENOEXEC);
    *size = (uint64_t)st.st_size;
    return 0;
}

/* The ELF header, widened to ELF64 for ELF32 files, checked field by field. */
static int read_ehdr(int fd, uint64_t fsize, const char *name, bool elf32, uint32_t mode, Elf64_Ehdr *eh,
                     char *err, size_t errlen)
{
    memset(eh, 0, sizeof(*eh));
    size_t head = fsize < sizeof(*eh) ? (size_t)fsize : sizeof(*eh);
    if (head < SELFMAG || read_at(fd, eh, head, 0) != 0)
        return fail(err, errlen, name, "not an ELF file (too short)", -ENOEXEC);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, name, "not an ELF file (bad magic)", -ENOEXEC);
    if (head < (elf32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr)))
        return fail(err, errlen, name, "truncated ELF header", -ENOEXEC);
    bool pvh = mode == VMC_LOAD_PVH;
    if (!elf32 && !pvh && eh->e_ident[EI_CLASS] != ELFCLASS64)
        return fail(err, errlen, name,
                    eh->e_ident[EI_CLASS] == ELFCLASS32 ? "not ELF64: a 32-bit guest needs --mode 32"
                                                        : "not ELF64 (unknown class)",
                    -ENOEXEC);
    if (elf32 && eh->e_ident[EI_CLASS] != ELFCLASS32)
        return fail(err, errlen, name, "not ELF32: --mode 32 runs 32-bit guests only", -ENOEXEC);
    if (elf32) {
        Elf32_Ehdr h32;
        memcpy(&h32, eh, sizeof(h32));
        widen_ehdr(&h32, eh);
    }
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, name, "not little-endian", -ENOEXEC);
    if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
        return fail(err, errlen, name, "unknown ELF version", -ENOEXEC);
    if (pvh ? eh->e_machine != EM_386 && eh->e_machine != EM_X86_64
            : eh->e_machine != (elf32 ? EM_386 : EM_X86_64))
        return fail(err, errlen, name,
                    elf32 ? "not an i386 ELF (e_machine)" : "not an x86-64 ELF (e_machine)", -ENOEXEC);
    if (eh->e_type == ET_DYN &&
        mode != VMC_LOAD_LINUX) /* a Linux static-PIE is placed at VMC_LINUX_PIE_BASE */
        return fail(err, errlen, name,
                    "not an executable: position-independent (ET_DYN); link with -static -no-pie", -ENOEXEC);
    if (eh->e_type != ET_EXEC && !(eh->e_type == ET_DYN && mode == VMC_LOAD_LINUX))
        return fail(err, errlen, name, "not an executable (e_type is not ET_EXEC)", -ENOEXEC);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return fail(err, errlen, name, "bad program header entry size", -ENOEXEC);
    if (eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
        return fail(err, errlen, name, "no program headers", -ENOEXEC);
    if (eh->e_phnum > MAX_PHDRS)
        return fail(err, errlen, name, "too many program headers (max 64)", -ENOEXEC);
    return 0;
}

/* The program headers, widened to ELF64 for ELF32 files. */
static int read_phdrs(int fd, uint64_t fsize, const char *name, bool elf32, const Elf64_Ehdr *eh,
                      Elf64_Phdr *ph, char *err, size_t errlen)
{
    uint64_t phbytes = (uint64_t)eh->e_phnum * (elf32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr));
    if (eh->e_phoff > fsize || phbytes > fsize - eh->e_phoff)
        return fail(err, errlen, name, "truncated: program headers extend past the end of the file",
                    -ENOEXEC);
    if (read_at(fd, ph, phbytes, eh->e_phoff) != 0)
        return fail(err, errlen, name, "truncated: cannot read program headers", -ENOEXEC);
    if (elf32) {
        Elf32_Phdr p32[MAX_PHDRS];
        memcpy(p32, ph, phbytes);
        for (unsigned i = 0; i < eh->e_phnum; i++)
            widen_phdr(&p32[i], &ph[i]);
    }
    return 0;
}

/* One PT_LOAD segment against the file and guest RAM, and against the segments before it. */
static int check_segment(const struct vmc_mem *mem, const Elf64_Phdr *ph, unsigned i, uint64_t fsize,
                         const char *name, char *err, size_t errlen)
{
    const Elf64_Phdr *p = &ph[i];
    char what[48];
    snprintf(what, sizeof(what), "segment %u", i);
    if (p->p_filesz > p->p_memsz) {
        vmc_errf(err, errlen, "%s: %s: file size 0x%" PRIx64 " exceeds memory size 0x%" PRIx64, name, what,
                 p->p_filesz, p->p_memsz);
        return -ENOEXEC;
    }
    if (p->p_offset > fsize || p->p_filesz > fsize - p->p_offset) {
        if (p->p_offset + p->p_filesz < p->p_offset)
            vmc_errf(err, errlen, "%s: %s: offset 0x%" PRIx64 " + size 0x%" PRIx64 " overflows", name, what,
                     p->p_offset, p->p_filesz);
        else
            vmc_errf(err, errlen,
                     "%s: truncated: %s needs bytes up to 0x%" PRIx64 " but the file has 0x%" PRIx64, name,
                     what, p->p_offset + p->p_filesz, fsize);
        return -ENOEXEC;
    }
    if (p->p_vaddr != p->p_paddr) {
        vmc_errf(err, errlen,
                 "%s: %s: vaddr 0x%" PRIx64 " != paddr 0x%" PRIx64 " (guests run identity-mapped)", name,
                 what, p->p_vaddr, p->p_paddr);
        return -ENOEXEC;
    }
    if (p->p_memsz == 0)
        return 0;
    int rc = check_range(mem, p->p_paddr, p->p_memsz, name, what, err, errlen);
    if (rc < 0)
        return rc;
    for (unsigned j = 0; j < i; j++) {
        const Elf64_Phdr *q = &ph[j];
        if (q->p_type == PT_LOAD && q->p_memsz && p->p_paddr < q->p_paddr + q->p_memsz &&
            q->p_paddr < p->p_paddr + p->p_memsz) {
            vmc_errf(err, errlen, "%s: segments %u and %u overlap", name, j, i);
            return -ENOEXEC;
        }
    }
    return 0;
}

/* A loaded segment's range and rights; past VMC_IMAGE_SEGS the last entry grows to cover them all. */
static void record_segment(struct vmc_image *img, const Elf64_Phdr *p)
{
    if (p->p_type == PT_GNU_STACK)
        img->exec_stack = (p->p_flags & PF_X) != 0;
    if (p->p_type != PT_LOAD || p->p_memsz == 0)
        return;
    struct vmc_image_seg s = { p->p_paddr, p->p_paddr + p->p_memsz, p->p_flags & (PF_R | PF_W | PF_X) };
    if (img->nseg < VMC_IMAGE_SEGS) {
        img->seg[img->nseg++] = s;
        return;
    }
    struct vmc_image_seg *last = &img->seg[VMC_IMAGE_SEGS - 1];
    last->start = s.start < last->start ? s.start : last->start;
    last->end = s.end > last->end ? s.end : last->end;
    last->flags |= s.flags;
}

/* Every segment checked, the entry inside one of them; img gets the loaded range. */
static int check_segments(const struct vmc_mem *mem, const Elf64_Ehdr *eh, const Elf64_Phdr *ph,
                          uint64_t fsize, const char *name, struct vmc_image *img, char *err, size_t errlen)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    bool entry_ok = false;
    unsigned nload = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type == PT_INTERP || p->p_type == PT_DYNAMIC)
            return fail(err, errlen, name, "dynamically linked (PT_INTERP/PT_DYNAMIC); link with -static",
                        -ENOEXEC);
        if (p->p_type != PT_LOAD)
            continue;
        nload++;
        int rc = check_segment(mem, ph, i, fsize, name, err, errlen);
        if (rc < 0)
            return rc;
        if (p->p_memsz == 0)
            continue;
        entry_ok |= eh->e_entry >= p->p_paddr && eh->e_entry - p->p_paddr < p->p_memsz;
        lo = p->p_paddr < lo ? p->p_paddr : lo;
        hi = p->p_paddr + p->p_memsz > hi ? p->p_paddr + p->p_memsz : hi;
    }
    if (nload == 0 || hi == 0)
        return fail(err, errlen, name, "no loadable segments", -ENOEXEC);
    if (!entry_ok) {
        vmc_errf(err, errlen, "%s: entry point 0x%" PRIx64 " is outside the loaded segments", name,
                 (uint64_t)eh->e_entry);
        return -ENOEXEC;
    }
    *img = (struct vmc_image){ eh->e_entry, lo, hi, 0, eh->e_phnum, sizeof(Elf64_Phdr), { { 0 } }, 0, true };
    for (unsigned i = 0; i < eh->e_phnum; i++)
        record_segment(img, &ph[i]);
    for (unsigned i = 0; i < eh->e_phnum; i++) /* the headers as loaded: in the segment holding them */
        if (ph[i].p_type == PT_LOAD && eh->e_phoff >= ph[i].p_offset &&
            eh->e_phoff - ph[i].p_offset < ph[i].p_filesz)
            img->phdr = ph[i].p_paddr + (eh->e_phoff - ph[i].p_offset);
    return 0;
}

/* ---- what an image says about itself: the guest note, signs of a Linux program ---- */

#define NOTES_MAX 4096 /* bytes of PT_NOTE read per segment: the guest note is 28 */

/* The notes of one PT_NOTE segment: vmcall's guest note, and GNU's ABI tag (Linux programs carry it). */
static void scan_notes(const uint8_t *p, uint64_t len, uint64_t align, struct vmc_guest_info *gi)
{
    uint64_t off = 0;
    while (len - off >= 12) {
        uint32_t w[3];
        memcpy(w, p + off, sizeof(w));
        uint64_t name_end = off + 12 + ((w[0] + align - 1) & ~(align - 1));
        uint64_t desc_end = name_end + ((w[1] + align - 1) & ~(align - 1));
        if (w[0] > len || w[1] > len || name_end > len || desc_end > len)
            return; /* malformed: what follows cannot be trusted */
        const char *nm = (const char *)p + off + 12;
        if (w[0] == sizeof(VMC_NOTE_NAME) && !memcmp(nm, VMC_NOTE_NAME, w[0]) && w[2] == VMC_NOTE_GUEST &&
            w[1] >= sizeof(struct vmc_guest_note)) {
            struct vmc_guest_note n;
            memcpy(&n, p + name_end, sizeof(n));
            gi->note = true;
            gi->abi_version = n.abi_version;
            gi->mode = n.mode;
        } else if (w[0] == 4 && !memcmp(nm, "Xen", 4) && w[2] == XEN_ELFNOTE_PHYS32_ENTRY &&
                   (w[1] == 4 || w[1] == 8)) {
            uint64_t entry = 0; /* little-endian: a 4-byte entry fills the low half */
            memcpy(&entry, p + name_end, w[1]);
            gi->xen_pvh = true;
            gi->xen_entry = entry;
        } else if (w[0] == 4 && !memcmp(nm, "GNU", 4) && w[2] == NT_GNU_ABI_TAG && !gi->linux_sign) {
            gi->linux_sign = "a GNU ABI tag note";
        }
        off = desc_end;
    }
}

static const char *linux_segment(const Elf64_Phdr *p)
{
    return p->p_type == PT_INTERP      ? "PT_INTERP: dynamically linked"
           : p->p_type == PT_TLS       ? "PT_TLS: thread-local storage"
           : p->p_type == PT_GNU_RELRO ? "PT_GNU_RELRO: a Linux toolchain's RELRO segment"
                                       : NULL;
}

/* The headers as far as a file of any type and class has them: enough to read its notes. */
static int read_loose(int fd, uint64_t fsize, const char *name, struct vmc_guest_info *gi, Elf64_Ehdr *eh,
                      Elf64_Phdr *ph, char *err, size_t errlen)
{
    uint8_t raw[sizeof(Elf64_Ehdr)] = { 0 };
    size_t head = fsize < sizeof(raw) ? (size_t)fsize : sizeof(raw);
    if (head < sizeof(Elf32_Ehdr) || read_at(fd, raw, head, 0) != 0 || memcmp(raw, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, name, "not an ELF file (bad magic)", -ENOEXEC);
    gi->elf32 = raw[EI_CLASS] == ELFCLASS32;
    if (gi->elf32)
        widen_ehdr((const Elf32_Ehdr *)raw, eh);
    else if (head == sizeof(Elf64_Ehdr))
        memcpy(eh, raw, sizeof(*eh));
    else
        return fail(err, errlen, name, "truncated ELF header", -ENOEXEC);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > MAX_PHDRS)
        return fail(err, errlen, name, "bad program headers", -ENOEXEC);
    return read_phdrs(fd, fsize, name, gi->elf32, eh, ph, err, errlen);
}

static int inspect(int fd, uint64_t fsize, const char *name, struct vmc_guest_info *gi, Elf64_Ehdr *eh,
                   Elf64_Phdr *ph, char *err, size_t errlen)
{
    *gi = (struct vmc_guest_info){ 0 };
    int rc = read_loose(fd, fsize, name, gi, eh, ph, err, errlen);
    if (rc < 0)
        return rc;
    if (eh->e_ident[EI_OSABI] == ELFOSABI_GNU)
        gi->linux_sign = "ELF OS/ABI GNU/Linux";
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (!gi->linux_sign)
            gi->linux_sign = linux_segment(&ph[i]);
        uint8_t notes[NOTES_MAX];
        uint64_t len = ph[i].p_filesz < NOTES_MAX ? ph[i].p_filesz : NOTES_MAX;
        if (ph[i].p_type == PT_NOTE && ph[i].p_offset <= fsize && len <= fsize - ph[i].p_offset &&
            read_at(fd, notes, len, ph[i].p_offset) == 0)
            scan_notes(notes, len, ph[i].p_align == 8 ? 8 : 4, gi);
    }
    return 0;
}

/* Header checks that need the whole file's class right: ELF32 files get the wider header first. */

static const char *const mode_names[] = { "kernel mode", "user mode", "32-bit mode" };
static const char *const mode_flags[] = { "vmcall-cc", "vmcall-cc --user", "vmcall-cc --m32" };

/* The image against the VM: its note's ABI and mode, or, without a note, no sign of a Linux program. */
static int check_guest(const struct vmc_guest_info *gi, const char *name, uint32_t mode, char *err,
                       size_t errlen)
{
    if (mode == VMC_LOAD_PVH && (gi->note || !gi->xen_pvh)) {
        vmc_errf(err, errlen, "%s: %s; the Xen personality boots PVH images", name,
                 gi->note ? "built with vmcall-cc for vmcall's own ABI"
                          : "no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
        return -ENOEXEC;
    }
    if (mode == VMC_LOAD_PVH)
        return gi->xen_entry > UINT32_MAX ? fail(err, errlen, name, "PVH entry point above 4 GiB", -ENOEXEC)
                                          : 0;
    if (!gi->note && gi->xen_pvh) {
        vmc_errf(err, errlen, "%s: a Xen PVH guest; run it with the Xen personality (--abi xen)", name);
        return -ENOEXEC;
    }
    if (gi->note && gi->abi_version > VMC_ABI_VERSION) {
        vmc_errf(err, errlen, "%s: built for guest ABI %u; this vmcall has ABI %u (a newer vmcall runs it)",
                 name, gi->abi_version, VMC_ABI_VERSION);
        return -ENOEXEC;
    }
    if (gi->note && gi->mode != mode) {
        vmc_errf(err, errlen, "%s: built for %s (%s), but the VM runs %s guests", name,
                 gi->mode < 3 ? mode_names[gi->mode] : "an unknown mode",
                 gi->mode < 3 ? mode_flags[gi->mode] : "?", mode < 3 ? mode_names[mode] : "?");
        return -ENOEXEC;
    }
    if (mode == VMC_LOAD_LINUX)
        return gi->note ? fail(err, errlen, name, "built with vmcall-cc, not a Linux program", -ENOEXEC) : 0;
    if (!gi->note && gi->linux_sign) {
        vmc_errf(err, errlen,
                 "%s: built for Linux (%s); run it with the Linux personality (vmcall run --linux)", name,
                 gi->linux_sign);
        return -ENOEXEC;
    }
    return 0;
}

/* What the image says about itself, checked against the VM (a Linux program is named as such before
 * anything else is wrong with it); then every header field, strictly. */
static int read_headers(int fd, uint64_t fsize, const char *name, uint32_t mode, Elf64_Ehdr *eh,
                        Elf64_Phdr *ph, uint64_t *pvh_entry, char *err, size_t errlen)
{
    struct vmc_guest_info gi;
    bool elf32 = mode == VMC_GUEST_32;
    int rc = inspect(fd, fsize, name, &gi, eh, ph, err, errlen);
    if (rc == 0)
        rc = check_guest(&gi, name, mode, err, errlen);
    else if (mode != VMC_LOAD_PVH)
        rc = 0; /* unreadable notes: the strict checks below say what is wrong */
    if (rc < 0)
        return rc;
    if (mode == VMC_LOAD_PVH)
        elf32 = gi.elf32;
    *pvh_entry = gi.xen_entry;
    rc = read_ehdr(fd, fsize, name, elf32, mode, eh, err, errlen);
    return rc < 0 ? rc : read_phdrs(fd, fsize, name, elf32, eh, ph, err, errlen);
}

int vmc_elf_info_fd(int fd, const char *name, struct vmc_guest_info *gi, char *err, size_t errlen)
{
    uint64_t fsize = 0;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[MAX_PHDRS];
    int rc = file_size(fd, name, &fsize, err, errlen);
    return rc < 0 ? rc : inspect(fd, fsize, name, gi, &eh, ph, err, errlen);
}

/*
 * A Linux static-PIE (ET_DYN with PT_DYNAMIC and no PT_INTERP) relocates itself: it is loaded at
 * VMC_LINUX_PIE_BASE, its own start-up code applies the relocations from the addresses the auxiliary
 * vector gives. Its PT_DYNAMIC is then no sign of a dynamic linker and is dropped from the checks.
 */
static int place_static_pie(Elf64_Ehdr *eh, Elf64_Phdr *ph, const char *name, char *err, size_t errlen)
{
    bool interp = false;
    for (unsigned i = 0; i < eh->e_phnum; i++)
        interp |= ph[i].p_type == PT_INTERP;
    if (interp)
        return fail(err, errlen, name,
                    "dynamically linked (PT_INTERP); the Linux personality runs static programs", -ENOEXEC);
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            ph[i].p_type = PT_NULL;
    if (eh->e_type != ET_DYN)
        return 0;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_vaddr > UINT32_MAX || ph[i].p_vaddr != ph[i].p_paddr)
            return fail(err, errlen, name, "a static PIE with segments past 4 GiB or vaddr != paddr",
                        -ENOEXEC);
        ph[i].p_vaddr += VMC_LINUX_PIE_BASE;
        ph[i].p_paddr += VMC_LINUX_PIE_BASE;
    }
    eh->e_entry += VMC_LINUX_PIE_BASE;
    return 0;
}

int vmc_load_elf_fd(const struct vmc_mem *mem, int fd, const char *name, uint32_t mode, struct vmc_image *img,
                    char *err, size_t errlen)
{
    uint64_t fsize = 0;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[MAX_PHDRS];
    struct vmc_image found;
    uint64_t pvh_entry = 0;
    int rc = file_size(fd, name, &fsize, err, errlen);
    if (rc == 0)
        rc = read_headers(fd, fsize, name, mode, &eh, ph, &pvh_entry, err, errlen);
    if (rc == 0 && mode == VMC_LOAD_PVH)
        eh.e_entry = pvh_entry; /* PVH enters at the note's address, not the ELF entry */
    if (rc == 0 && mode == VMC_LOAD_LINUX)
        rc = place_static_pie(&eh, ph, name, err, errlen);
    if (rc == 0) /* everything is validated before a byte of guest memory is written */
        rc = check_segments(mem, &eh, ph, fsize, name, &found, err, errlen);
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        uint8_t *dst = vmc_mem_ptr(mem, p->p_paddr, p->p_memsz); /* checked above */
        if (p->p_filesz && read_at(fd, dst, p->p_filesz, p->p_offset) < 0)
            return fail(err, errlen, name, "truncated while reading a segment", -ENOEXEC);
        vmc_mem_zero(mem, p->p_paddr + p->p_filesz, p->p_memsz - p->p_filesz);
    }
    *img = found;
    return 0;
}

int vmc_load_flat_fd(const struct vmc_mem *mem, int fd, const char *name, uint64_t gpa, struct vmc_image *img,
                     char *err, size_t errlen)
{
    uint64_t size;
    int rc = file_size(fd, name, &size, err, errlen);
    if (rc < 0)
        return rc;
    if (size == 0)
        return fail(err, errlen, name, "empty image", -ENOEXEC);
    rc = check_range(mem, gpa, size, name, "flat image", err, errlen);
    if (rc < 0)
        return rc;
    if (read_at(fd, vmc_mem_ptr(mem, gpa, size), size, 0) != 0)
        return fail(err, errlen, name, "short read", -EIO);
    *img = (struct vmc_image){ .entry = gpa, .start = gpa, .end = gpa + size };
    return 0;
}
