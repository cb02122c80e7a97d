/* SPDX-License-Identifier: MIT */
/* vmcall guest SDK: freestanding C runtime for guests (console, boot info, exit, a small libc). */
#ifndef VMCALL_GUEST_H
#define VMCALL_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "vmcall/abi.h"

/*
 * A guest defines `int main(int argc, char **argv)`; the SDK's _start initialises the console, passes
 * the arguments given after `vmcall run GUEST --`, and calls exit(main's return value).
 * Build with `vmcall-cc [--user] -o guest.elf guest.c` (see README).
 */
int main(int argc, char **argv);

/* The boot information the VMM passed in RDI. */
const struct vmc_boot_info *vmcg_boot_info(void);
/* The command line: arguments joined by single spaces ("" when none). */
const char *vmcg_cmdline(void);

/* End the VM with this exit status (vmcall run exits with it when 0-123). Never returns. */
__attribute__((noreturn)) void exit(int status);

/* Console on COM1. Output is sent in 16-byte FIFO bursts. */
void vmcg_console_write(const void *buf, size_t len);
#define VMCG_EOF (-1)   /* console input ended (the UART reports a break condition) */
#define VMCG_EMPTY (-2) /* no input available right now */
/* Next input byte; waits for one. VMCG_EOF at end of input. */
int vmcg_getc(void);
/* Next input byte, or VMCG_EMPTY / VMCG_EOF without waiting. */
int vmcg_trygetc(void);
/* Write bytes to the debug console port 0xE9 (no UART involved). */
void vmcg_debug_write(const void *buf, size_t len);

/* Port I/O. From user mode only the ports listed in abi.h are permitted; others raise #GP. */
static inline void vmcg_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint8_t vmcg_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline void vmcg_outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint32_t vmcg_inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

/* printf family: %d %i %u %x %X %p %s %c %%, flags '-' and '0', width and precision (also '*'),
 * length modifiers hh h l ll z j t. Output goes to the console. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int puts(const char *s);
int putchar(int c);

/* String and memory functions with their C library contracts. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
/* Parse an unsigned/signed integer (base 0, 8, 10 or 16 as in C); *end set past the digits. */
unsigned long strtoul(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);
int atoi(const char *s);

#endif /* VMCALL_GUEST_H */
