// SPDX-License-Identifier: MIT
/* A tap's interface counters from sysfs.  See tap_stats.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/tap_stats.h"

static const char *const stat_file[TAP_STAT_NR] = {
	[TAP_STAT_TX_PACKETS] = "tx_packets",
	[TAP_STAT_TX_BYTES] = "tx_bytes",
	[TAP_STAT_TX_DROPPED] = "tx_dropped",
	[TAP_STAT_RX_PACKETS] = "rx_packets",
	[TAP_STAT_RX_BYTES] = "rx_bytes",
	[TAP_STAT_RX_DROPPED] = "rx_dropped",
};

/* One decimal counter.  0 or -errno (-EINVAL: not a number). */
static int read_one(int fd, uint64_t *v)
{
	char buf[32], *end;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (!n || buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

static int read_all(struct tap_stats *s, struct tap_counters *c)
{
	uint64_t v[TAP_STAT_NR];
	int i, ret;

	for (i = 0; i < TAP_STAT_NR; i++) {
		ret = read_one(s->fd[i], &v[i]);
		if (ret)
			return ret;
	}
	c->rx_packets = v[TAP_STAT_TX_PACKETS];
	c->rx_bytes = v[TAP_STAT_TX_BYTES];
	c->rx_drops = v[TAP_STAT_TX_DROPPED];
	c->tx_packets = v[TAP_STAT_RX_PACKETS];
	c->tx_bytes = v[TAP_STAT_RX_BYTES];
	c->tx_drops = v[TAP_STAT_RX_DROPPED];
	return 0;
}

void tap_stats_close(struct tap_stats *s)
{
	int i;

	for (i = 0; i < TAP_STAT_NR; i++) {
		if (s->fd[i] >= 0)
			close(s->fd[i]);
		s->fd[i] = -1;
	}
}

int tap_stats_open(struct tap_stats *s, const char *sysfs_root, const char *ifname)
{
	char path[512];
	int i, ret;

	for (i = 0; i < TAP_STAT_NR; i++)
		s->fd[i] = -1;
	if (!ifname[0] || strchr(ifname, '/'))
		return -EINVAL;
	for (i = 0; i < TAP_STAT_NR; i++) {
		snprintf(path, sizeof(path), "%s/%s/statistics/%s", sysfs_root, ifname,
			 stat_file[i]);
		s->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd[i] < 0) {
			ret = -errno;
			goto err;
		}
	}
	ret = read_all(s, &s->base);
	if (ret)
		goto err;
	return 0;
err:
	tap_stats_close(s);
	return ret;
}

/* Counters are 64-bit and only grow; the difference wraps correctly if they ever wrap. */
int tap_stats_read(struct tap_stats *s, struct tap_counters *out)
{
	struct tap_counters now;
	int ret;

	ret = read_all(s, &now);
	if (ret)
		return ret;
	out->rx_packets = now.rx_packets - s->base.rx_packets;
	out->rx_bytes = now.rx_bytes - s->base.rx_bytes;
	out->rx_drops = now.rx_drops - s->base.rx_drops;
	out->tx_packets = now.tx_packets - s->base.tx_packets;
	out->tx_bytes = now.tx_bytes - s->base.tx_bytes;
	out->tx_drops = now.tx_drops - s->base.tx_drops;
	return 0;
}
