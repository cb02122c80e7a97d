/* SPDX-License-Identifier: MIT */
/* Guest test: io.c built for user mode, where a #GP ends the VM with a crash report. */
#define IO_USER
#include "io.c"
