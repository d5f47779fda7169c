/* SPDX-License-Identifier: MIT */
/* kvmclock.c starts its APs with smp.c's trampoline (ap_main, ap_slot, ap_stacks). */
#include "smp_tramp.S"
