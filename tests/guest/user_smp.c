/* SPDX-License-Identifier: MIT */
/* Guest test: smp.c built for user mode (CPL3, native speed). */
#include "smp.c"
