/* SPDX-License-Identifier: MIT */
/* Guest test: printf_fp.c built for user mode (the SSE SDK, libvmcg-user.a). */
#include "printf_fp.c"
