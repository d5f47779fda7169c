/* SPDX-License-Identifier: MIT */
/*
 * A tap interface's own counters (/sys/class/net/IF/statistics), for the
 * vhost-net backend: there the kernel moves the frames, so vmm cannot count
 * them per queue and reports what the interface counted instead.
 *
 * The six files are opened once, before the seccomp filters; reading them
 * later is a pread() at offset 0 per file (sysfs regenerates the value on
 * every read from the start), no path lookup.
 */
#ifndef VMM_NET_TAP_STATS_H
#define VMM_NET_TAP_STATS_H

#include <stdint.h>

/* From the guest's side: rx = what the tap sent towards the guest, tx = what the guest sent. */
struct tap_counters {
	uint64_t rx_packets, rx_bytes, rx_drops;
	uint64_t tx_packets, tx_bytes, tx_drops;
};

enum {
	TAP_STAT_TX_PACKETS,	/* the tap's tx: towards the guest */
	TAP_STAT_TX_BYTES,
	TAP_STAT_TX_DROPPED,
	TAP_STAT_RX_PACKETS,	/* the tap's rx: from the guest */
	TAP_STAT_RX_BYTES,
	TAP_STAT_RX_DROPPED,
	TAP_STAT_NR,
};

struct tap_stats {
	int fd[TAP_STAT_NR];
	struct tap_counters base;	/* the interface's values when we started counting */
};

/*
 * Opens the counters of interface ifname under sysfs_root ("/sys/class/net";
 * tests pass a directory of their own) and takes the current values as the
 * base.  0 or -errno.
 */
int tap_stats_open(struct tap_stats *s, const char *sysfs_root, const char *ifname);
void tap_stats_close(struct tap_stats *s);

/* What the interface counted since tap_stats_open().  0 or -errno. */
int tap_stats_read(struct tap_stats *s, struct tap_counters *out);

#endif
