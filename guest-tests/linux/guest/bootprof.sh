#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot profile in a few lines: boot with "initcall_debug vmmtest=bootprof"
# (quiet keeps the console cheap) and this prints when the kernel started
# /init and the 15 slowest initcalls, from the kernel log.
dmesg | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/VMMTEST kernel-to-init-s=\1/p'
dmesg | sed -n 's/.*initcall \([^ ]*\) returned .* after \([0-9]*\) usecs.*/\2 \1/p' |
	sort -rn | head -n 15 | sed 's/^/VMMTEST slow-initcall-us=/'
dmesg | grep -iE 'fail|error|timeout|timed out' | head -n 10 | sed 's/^/VMMTEST log: /'
