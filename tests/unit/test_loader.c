/* SPDX-License-Identifier: MIT */
/* Unit tests: ELF and flat loading into fake guest memory, against a generated corpus of malformed files. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/loader.h"
#include "../../src/mem.h"
#include "../tap.h"

#define FILE_SIZE 0x1100
#define CODE_OFF 0x1000

static uint8_t base_img[FILE_SIZE];
static struct vmc_mem mem;

static Elf64_Ehdr *eh_of(uint8_t *img)
{
    return (Elf64_Ehdr *)img;
}

static Elf64_Phdr *ph_of(uint8_t *img)
{
    return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr));
}

/* A valid static executable: text (16 bytes of file, 0x3000 of memory: BSS) and a data segment. */
static void make_base(void)
{
    memset(base_img, 0, sizeof(base_img));
    Elf64_Ehdr *eh = eh_of(base_img);
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = 0x100004;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 3;
    Elf64_Phdr *ph = ph_of(base_img);
    ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD,
                          .p_flags = PF_R | PF_X,
                          .p_offset = CODE_OFF,
                          .p_vaddr = 0x100000,
                          .p_paddr = 0x100000,
                          .p_filesz = 16,
                          .p_memsz = 0x3000,
                          .p_align = 0x1000 };
    ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD,
                          .p_flags = PF_R | PF_W,
                          .p_offset = CODE_OFF + 16,
                          .p_vaddr = 0x200000,
                          .p_paddr = 0x200000,
                          .p_filesz = 8,
                          .p_memsz = 8 };
    ph[2] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W };
    for (int i = 0; i < 16; i++)
        base_img[CODE_OFF + i] = (uint8_t)(0x90 + i);
    memcpy(base_img + CODE_OFF + 16, "DATADATA", 8);
}

static int memfd_of(const uint8_t *buf, size_t len)
{
    int fd = memfd_create("elf", MFD_CLOEXEC);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
        abort();
    return fd;
}

/* Load img[0..len) and return the result; err receives the message. */
static int load(const uint8_t *img, size_t len, struct vmc_image *out, char *err, size_t errlen)
{
    int fd = memfd_of(img, len);
    struct vmc_image tmp;
    err[0] = 0;
    int rc = vmc_load_elf_fd(&mem, fd, "g.elf", VMC_GUEST_KERNEL, out ? out : &tmp, err, errlen);
    close(fd);
    return rc;
}

/* Mutate a copy of the base image, expect -ENOEXEC and a message containing want. */
#define BAD(desc, want, len, ...)                                                                            \
    do {                                                                                                     \
        uint8_t bimg[FILE_SIZE];                                                                             \
        memcpy(bimg, base_img, sizeof(bimg));                                                                \
        Elf64_Ehdr *eh = eh_of(bimg);                                                                        \
        Elf64_Phdr *ph = ph_of(bimg);                                                                        \
        (void)eh;                                                                                            \
        (void)ph;                                                                                            \
        __VA_ARGS__;                                                                                         \
        char berr[256];                                                                                      \
        int rc = load(bimg, (len), NULL, berr, sizeof(berr));                                                \
        if (!ok(rc == -ENOEXEC && strstr(berr, want) && strncmp(berr, "g.elf: ", 7) == 0, "rejects %s",      \
                desc))                                                                                       \
            printf("#   rc=%d err=\"%s\" want \"%s\"\n", rc, berr, want);                                    \
    } while (0)

/* The base image with Xen's PVH note (XEN_ELFNOTE_PHYS32_ENTRY = 18) in a PT_NOTE segment. */
static void make_pvh(uint8_t *img, uint32_t entry, uint32_t descsz)
{
    memcpy(img, base_img, FILE_SIZE);
    const uint32_t note[5] = { 4, descsz, 18, 0x006e6558 /* "Xen\0" */, entry };
    memcpy(img + CODE_OFF + 32, note, sizeof(note));
    eh_of(img)->e_phnum = 4;
    ph_of(img)[3] =
        (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = CODE_OFF + 32, .p_filesz = 20, .p_align = 4 };
}

static int load_mode(const uint8_t *img, uint32_t mode, struct vmc_image *out, char *err, size_t errlen)
{
    int fd = memfd_of(img, FILE_SIZE);
    err[0] = 0;
    int rc = vmc_load_elf_fd(&mem, fd, "g.elf", mode, out, err, errlen);
    close(fd);
    return rc;
}

static void test_pvh(void)
{
    uint8_t img[FILE_SIZE];
    struct vmc_image im = { 0 };
    struct vmc_guest_info gi;
    char err[256];
    make_pvh(img, 0x100008, 4);
    int fd = memfd_of(img, FILE_SIZE);
    ok(vmc_elf_info_fd(fd, "g.elf", &gi, err, sizeof(err)) == 0 && gi.xen_pvh && gi.xen_entry == 0x100008 &&
           !gi.note,
       "guest info: the PVH note and its entry");
    close(fd);
    is_int(load_mode(img, VMC_LOAD_PVH, &im, err, sizeof(err)), 0,
           "a PVH image loads in the Xen personality");
    is_u64(im.entry, 0x100008, "... entered at the note's address, not e_entry (0x100004)");
    is_int(load_mode(img, VMC_GUEST_KERNEL, &im, err, sizeof(err)), -ENOEXEC, "... not in vmcall's");
    is_str(err, "g.elf: a Xen PVH guest; run it with the Xen personality (--abi xen)",
           "... saying which it needs");
    is_int(load_mode(base_img, VMC_LOAD_PVH, &im, err, sizeof(err)), -ENOEXEC, "an image without the note");
    is_str(err,
           "g.elf: no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); the Xen personality boots PVH images",
           "... is not a PVH guest");
    make_pvh(img, 0x100008, 2);
    is_int(load_mode(img, VMC_LOAD_PVH, &im, err, sizeof(err)), -ENOEXEC, "a 2-byte entry note is no entry");
    make_pvh(img, 0x500000, 4);
    is_int(load_mode(img, VMC_LOAD_PVH, &im, err, sizeof(err)), -ENOEXEC, "a PVH entry outside the segments");
    is_str(err, "g.elf: entry point 0x500000 is outside the loaded segments", "... named");
    make_pvh(img, 0x100008, 4);
    eh_of(img)->e_machine = EM_386;
    is_int(load_mode(img, VMC_LOAD_PVH, &im, err, sizeof(err)), 0, "PVH accepts EM_386 as well");
    eh_of(img)->e_machine = EM_ARM;
    is_int(load_mode(img, VMC_LOAD_PVH, &im, err, sizeof(err)), -ENOEXEC, "... but not another machine");
}

int main(void)
{
    vmc_mem_init(&mem, 4 << 20, 4 << 20, 0, 0);
    make_base();

    memset(mem.host, 0xaa, mem.size);
    struct vmc_image img;
    char err[256];
    is_int(load(base_img, sizeof(base_img), &img, err, sizeof(err)), 0, "valid ELF loads");
    is_u64(img.entry, 0x100004, "entry");
    is_u64(img.start, 0x100000, "image start");
    is_u64(img.end, 0x200008, "image end includes every segment");
    ok(memcmp(mem.host + 0x100000, base_img + CODE_OFF, 16) == 0, "text copied");
    ok(memcmp(mem.host + 0x200000, "DATADATA", 8) == 0, "data copied");
    int zero = 1;
    for (uint64_t a = 0x100010; a < 0x103000; a++)
        zero &= mem.host[a] == 0;
    ok(zero, "BSS (memsz > filesz) zero-filled over old contents");
    ok(mem.host[0x103000] == 0xaa, "nothing past memsz touched");
    ok(img.nseg == 2 && img.seg[0].start == 0x100000 && img.seg[0].end == 0x103000 &&
           img.seg[0].flags == (PF_R | PF_X) && img.seg[1].start == 0x200000 && img.seg[1].end == 0x200008 &&
           img.seg[1].flags == (PF_R | PF_W),
       "each loaded segment's range and rights are kept (a personality maps them so)");
    ok(!img.exec_stack, "PT_GNU_STACK without PF_X: the stack does not execute");
    {
        uint8_t noexec[FILE_SIZE];
        memcpy(noexec, base_img, sizeof(noexec));
        eh_of(noexec)->e_phnum = 2;
        struct vmc_image i2;
        is_int(load(noexec, sizeof(noexec), &i2, err, sizeof(err)), 0, "without PT_GNU_STACK");
        ok(i2.exec_stack, "the stack executes, as Linux assumes of a program that does not say");
    }

    BAD("an empty file", "too short", 0);
    BAD("a truncated ELF header", "truncated ELF header", 40);
    BAD("bad magic", "bad magic", FILE_SIZE, bimg[1] = 'X');
    BAD("ELF32", "not ELF64", FILE_SIZE, bimg[EI_CLASS] = ELFCLASS32);
    BAD("big-endian", "little-endian", FILE_SIZE, bimg[EI_DATA] = ELFDATA2MSB);
    BAD("a bad version", "version", FILE_SIZE, eh->e_version = 7);
    BAD("another machine", "not an x86-64", FILE_SIZE, eh->e_machine = EM_AARCH64);
    BAD("a PIE (ET_DYN)", "position-independent", FILE_SIZE, eh->e_type = ET_DYN);
    BAD("a relocatable object", "not an executable", FILE_SIZE, eh->e_type = ET_REL);
    BAD("a wrong phentsize", "entry size", FILE_SIZE, eh->e_phentsize = 32);
    BAD("no program headers", "no program headers", FILE_SIZE, eh->e_phnum = 0);
    BAD("too many program headers", "too many", FILE_SIZE, eh->e_phnum = 1000);
    BAD("program headers past EOF", "program headers extend past", FILE_SIZE, eh->e_phoff = FILE_SIZE - 8);
    BAD("phoff overflow", "program headers extend past", FILE_SIZE, eh->e_phoff = UINT64_MAX - 16);
    BAD("a truncated file", "truncated: segment 0", CODE_OFF + 8);
    BAD("filesz > memsz", "exceeds memory size", FILE_SIZE, ph[0].p_memsz = 8);
    BAD("offset + filesz overflow", "overflows", FILE_SIZE, ph[0].p_offset = UINT64_MAX - 4);
    BAD("a segment beyond EOF", "truncated: segment 1", FILE_SIZE, ph[1].p_filesz = 0x1000,
        ph[1].p_memsz = 0x1000);
    BAD("vaddr != paddr", "identity-mapped", FILE_SIZE, ph[0].p_vaddr = 0xffffffff80000000ull);
    BAD("a segment in the reserved region", "reserved region", FILE_SIZE,
        ph[1].p_paddr = ph[1].p_vaddr = 0x7000);
    BAD("a segment at 0", "reserved region", FILE_SIZE, ph[1].p_paddr = ph[1].p_vaddr = 0);
    BAD("a segment outside RAM", "outside guest RAM", FILE_SIZE, ph[1].p_paddr = ph[1].p_vaddr = 0x3ffffc);
    BAD("a segment ending one byte past RAM", "outside guest RAM", FILE_SIZE,
        ph[1].p_paddr = ph[1].p_vaddr = 0x3ffff9);
    {
        uint8_t gimg[FILE_SIZE];
        memcpy(gimg, base_img, sizeof(gimg));
        ph_of(gimg)[1].p_paddr = ph_of(gimg)[1].p_vaddr = 0x3ffff8;
        is_int(load(gimg, FILE_SIZE, NULL, err, sizeof(err)), 0,
               "a segment ending exactly at the end of RAM loads");
    }
    BAD("paddr + memsz overflow", "overflows", FILE_SIZE, ph[1].p_paddr = ph[1].p_vaddr = UINT64_MAX - 4);
    BAD("overlapping segments", "segments 0 and 1 overlap", FILE_SIZE,
        ph[1].p_paddr = ph[1].p_vaddr = 0x102000);
    BAD("an entry outside the segments", "entry point 0x300000", FILE_SIZE, eh->e_entry = 0x300000);
    BAD("an entry in the gap", "entry point", FILE_SIZE, eh->e_entry = 0x103000);
    BAD("no PT_LOAD", "no loadable segments", FILE_SIZE, ph[0].p_type = PT_NOTE, ph[1].p_type = PT_NOTE);
    BAD("a dynamic executable", "dynamically linked", FILE_SIZE, ph[2].p_type = PT_INTERP);

    /* Rejected files must not have written guest memory. */
    memset(mem.host + 0x100000, 0xaa, 16);
    BAD("a file whose second segment is bad", "outside guest RAM", FILE_SIZE,
        ph[1].p_paddr = ph[1].p_vaddr = 0x500000);
    ok(mem.host[0x100000] == 0xaa, "validation happens before any byte is copied");

    /* Every single-byte corruption of the headers is either accepted or rejected cleanly. */
    int clean = 1;
    for (size_t off = 0; off < sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr); off++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t m[FILE_SIZE];
            memcpy(m, base_img, sizeof(m));
            m[off] ^= (uint8_t)(1u << bit);
            int rc = load(m, sizeof(m), NULL, err, sizeof(err));
            if (rc != 0 && (rc != -ENOEXEC || !err[0]))
                clean = 0;
        }
    }
    ok(clean, "bit flips in the headers never fail without a message");

    /* Flat images. */
    uint8_t flat[100];
    memset(flat, 0xf4, sizeof(flat));
    int fd = memfd_of(flat, sizeof(flat));
    is_int(vmc_load_flat_fd(&mem, fd, "f.bin", 0x200000, &img, err, sizeof(err)), 0, "flat image loads");
    ok(img.entry == 0x200000 && img.end == 0x200064, "flat entry and end");
    is_int(vmc_load_flat_fd(&mem, fd, "f.bin", 0x1000, &img, err, sizeof(err)), -ENOEXEC, "flat below 1 MiB");
    is_int(vmc_load_flat_fd(&mem, fd, "f.bin", mem.size - 50, &img, err, sizeof(err)), -ENOEXEC,
           "flat past the end of RAM");
    ok(strstr(err, "outside guest RAM") != NULL, "with a message naming the problem");
    close(fd);
    fd = memfd_of(flat, 0);
    is_int(vmc_load_flat_fd(&mem, fd, "f.bin", 0x200000, &img, err, sizeof(err)), -ENOEXEC,
           "empty flat image");
    close(fd);
    test_pvh();
    vmc_mem_free(&mem);
    return tap_done();
}
