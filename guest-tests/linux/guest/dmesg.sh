#!/bin/sh
# SPDX-License-Identifier: MIT
# Prints the kernel log with timestamps (boot profiling: boot with
# "printk.time=1 initcall_debug vmmtest=dmesg" and read where time went).
dmesg
