// SPDX-License-Identifier: MIT
/* net_opts_parse: each backend, every key, the defaults, each refusal; default MACs. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "options.h"

static struct net_opts o;
static char err[512];

static int parse(const char *arg)
{
	memset(&o, 0x5a, sizeof(o));
	memset(err, 'x', sizeof(err));
	return net_opts_parse(arg, &o, err, sizeof(err));
}

static void refused(const char *arg, const char *want)
{
	cr_assert_eq(parse(arg), -EINVAL, "'%s' was accepted", arg);
	cr_assert(strstr(err, want), "for '%s': got '%s', want '%s'", arg, err, want);
	cr_assert_null(strchr(err, '\n'), "one line");
}

Test(net_opts, tap_defaults)
{
	cr_assert_eq(parse("tap=tap0"), 0);
	cr_assert_eq(o.kind, NET_TAP);
	cr_assert_str_eq(o.ifname, "tap0");
	cr_assert_eq(o.queues, 1);
	cr_assert_eq(o.vhost, NET_VHOST_AUTO);
	cr_assert_eq(o.mac_set, false);
	cr_assert_eq(o.nr_fwd, 0);
	cr_assert_eq(o.fd, -1);
	cr_assert_str_eq(err, "");
}

Test(net_opts, tap_every_key)
{
	static const uint8_t mac[6] = { 0x02, 0xab, 0xCD, 0x00, 0x01, 0xfe };

	cr_assert_eq(parse("tap=vmtap16charsxxxx,mac=02:ab:CD:00:01:fe,vhost=off,queues=4"), -EINVAL);
	cr_assert_eq(parse("tap=vmtap15chars000,mac=02:ab:CD:00:01:fe,vhost=off,queues=4"), 0);
	cr_assert_str_eq(o.ifname, "vmtap15chars000");
	cr_assert(o.mac_set);
	cr_assert_arr_eq(o.mac, mac, 6);
	cr_assert_eq(o.vhost, NET_VHOST_OFF);
	cr_assert_eq(o.queues, 4);
	cr_assert_eq(parse("tap=t,vhost=on,queues=16"), 0);
	cr_assert_eq(o.vhost, NET_VHOST_ON);
	cr_assert_eq(o.queues, 16);
	cr_assert_eq(parse("tap=t,vhost=auto"), 0);
	cr_assert_eq(o.vhost, NET_VHOST_AUTO);
}

Test(net_opts, fd)
{
	cr_assert_eq(parse("fd=7"), 0);
	cr_assert_eq(o.kind, NET_FD);
	cr_assert_eq(o.fd, 7);
	cr_assert_eq(parse("fd=12,mac=02:00:00:00:00:01"), 0);
	cr_assert_eq(o.fd, 12);
	refused("fd=2", "not an open descriptor number >= 3");
	refused("fd=x", "not an open descriptor number");
	refused("fd=-3", "not an open descriptor number");
	refused("fd=", "not an open descriptor number");
}

Test(net_opts, user_hostfwd)
{
	cr_assert_eq(parse("user"), 0);
	cr_assert_eq(o.kind, NET_USER);
	cr_assert_eq(o.nr_fwd, 0);
	cr_assert_eq(o.restrict_net, false);
	cr_assert_eq(parse("user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp::8080-:80,"
			   "hostfwd=udp:0.0.0.0:5353-:53,restrict=on"), 0);
	cr_assert_eq(o.nr_fwd, 3);
	cr_assert_eq(o.fwd[0].udp, false);
	cr_assert_eq(o.fwd[0].host_addr, htonl(0x7f000001));
	cr_assert_eq(o.fwd[0].host_port, 2222);
	cr_assert_eq(o.fwd[0].guest_port, 22);
	cr_assert_eq(o.fwd[1].host_addr, htonl(0x7f000001), "empty address: loopback");
	cr_assert_eq(o.fwd[1].host_port, 8080);
	cr_assert_eq(o.fwd[2].udp, true);
	cr_assert_eq(o.fwd[2].host_addr, 0);
	cr_assert_eq(o.restrict_net, true);
}

Test(net_opts, refusals)
{
	refused("", "empty argument");
	refused("bridge=br0", "must start with tap=IFNAME, fd=N or user");
	refused("mac=02:00:00:00:00:01,tap=t", "must start with");
	refused("tap=", "empty tap name");
	refused("tap=a23456789012345x", "too long (at most 15 characters)");
	refused("tap=a/b", "not an interface name");
	refused("tap=t,foo=1", "unknown key 'foo'");
	refused("tap=t,queues", "not key=value");
	refused("tap=t,,queues=2", "empty option");
	refused("tap=t,", "empty option");
	refused("tap=t,queues=0", "out of range (1 to 16)");
	refused("tap=t,queues=17", "out of range");
	refused("tap=t,queues=99999999999999999999", "out of range");
	refused("tap=t,queues=2x", "out of range");
	refused("tap=t,queues=1,queues=2", "duplicate key 'queues'");
	refused("tap=t,vhost=maybe", "bad value 'maybe' for vhost");
	refused("tap=t,mac=01:00:00:00:00:01", "bad MAC");	/* multicast */
	refused("tap=t,mac=00:00:00:00:00:00", "bad MAC");
	refused("tap=t,mac=02:00:00:00:00", "bad MAC");
	refused("tap=t,mac=02:00:00:00:00:0g", "bad MAC");
	refused("tap=t,mac=02-00-00-00-00-01", "bad MAC");
	refused("tap=t,hostfwd=tcp::1-:2", "hostfwd needs user networking");
	refused("tap=t,restrict=on", "restrict applies to user networking only");
	refused("user,vhost=on", "vhost applies to tap and fd");
	refused("user,queues=2", "one queue pair");
	refused("user,restrict=yes", "bad value 'yes' for restrict");
	refused("user,hostfwd=tcp:127.0.0.1:2222:22", "bad hostfwd");
	refused("user,hostfwd=sctp::1-:2", "bad hostfwd");
	refused("user,hostfwd=tcp:1.2.3:1-:2", "bad hostfwd");
	refused("user,hostfwd=tcp::0-:22", "bad hostfwd");
	refused("user,hostfwd=tcp::70000-:22", "bad hostfwd");
	refused("user,hostfwd=tcp::22-:", "bad hostfwd");
	refused("user,hostfwd=tcp::1-:1,hostfwd=tcp::2-:2,hostfwd=tcp::3-:3,hostfwd=tcp::4-:4,"
		"hostfwd=tcp::5-:5,hostfwd=tcp::6-:6,hostfwd=tcp::7-:7,hostfwd=tcp::8-:8,"
		"hostfwd=tcp::9-:9", "at most 8 hostfwd rules");
}

Test(net_opts, default_mac_stable_local_unicast)
{
	uint8_t a[6], b[6], c[6], d[6];

	net_default_mac(a, "/boot/vmlinuz|tap0", 0);
	net_default_mac(b, "/boot/vmlinuz|tap0", 0);
	net_default_mac(c, "/boot/vmlinuz|tap0", 1);
	net_default_mac(d, "/boot/vmlinuz|tap1", 0);
	cr_assert_arr_eq(a, b, 6, "stable");
	cr_assert_neq(memcmp(a, c, 6), 0, "index changes it");
	cr_assert_neq(memcmp(a, d, 6), 0, "the VM changes it");
	cr_assert_eq(a[0], 0x02, "locally administered unicast");
	cr_assert_eq(c[0] & 3, 2);
	net_default_mac(a, NULL, 3);
	cr_assert_eq(a[0], 0x02);
}

Test(net_opts, command_line_repeatable)
{
	char *argv[] = { "vmm", "--kernel", "k", "--net", "tap=a", "--net", "user,restrict=on",
			 NULL };
	char *bad[] = { "vmm", "--kernel", "k", "--net", "tap=a,queues=0", NULL };
	struct vm_config cfg;
	FILE *null = fopen("/dev/null", "w");

	cr_assert_eq(opts_parse(7, argv, &cfg, null, null), OPTS_RUN);
	cr_assert_eq(cfg.nr_nets, 2);
	cr_assert_str_eq(cfg.nets[0].ifname, "a");
	cr_assert_eq(cfg.nets[1].kind, NET_USER);
	cr_assert_eq(opts_parse(5, bad, &cfg, null, null), OPTS_ERROR);
	fclose(null);
}
