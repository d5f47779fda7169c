// SPDX-License-Identifier: MIT
/*
 * --net option parsing and default MACs.
 *
 *   tap=IFNAME[,mac=MAC][,vhost=auto|on|off][,queues=N]
 *   fd=N[,mac=MAC][,vhost=auto|on|off][,queues=N]
 *   user[,mac=MAC][,hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT]...[,restrict=on|off]
 *
 * The first element names the backend.  Every key but hostfwd may be given
 * once; anything else is refused with one line naming the key and value.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define NET_KEYS "mac, vhost, queues (tap/fd), hostfwd, restrict (user)"

struct net_parse {
	const char *arg;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int net_err(const struct net_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Decimal 0..max, no sign, no garbage.  0 or -EINVAL. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > max)
			return -EINVAL;
	}
	*out = n;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	int i, hi, lo;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		hi = hexval(s[3 * i]);
		lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1)		/* multicast/broadcast cannot be a card's address */
		return -EINVAL;
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return -EINVAL;
	memcpy(mac, m, 6);
	return 0;
}

void net_default_mac(uint8_t mac[6], const char *vm_id, unsigned int index)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	const char *s;
	int i;

	for (s = vm_id ? vm_id : ""; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	h = (h ^ index) * 0x100000001b3ULL;
	mac[0] = 0x02;			/* locally administered, unicast */
	for (i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
	mac[5] = (uint8_t)(mac[5] & 0xf0) | (index & 0xf);	/* distinct within a VM */
}

/* "tcp:HOSTADDR:HOSTPORT-:GUESTPORT" (HOSTADDR may be empty: 127.0.0.1). */
static int parse_hostfwd(const struct net_parse *p, const char *val, struct net_hostfwd *f)
{
	char buf[96], *addr, *hport, *gport, *dash;
	unsigned long hp, gp;
	struct in_addr in;

	if (strlen(val) >= sizeof(buf))
		goto bad;
	strcpy(buf, val);
	memset(f, 0, sizeof(*f));
	if (!strncmp(buf, "tcp:", 4)) {
		addr = buf + 4;
	} else if (!strncmp(buf, "udp:", 4)) {
		f->udp = true;
		addr = buf + 4;
	} else {
		goto bad;
	}
	dash = strstr(addr, "-:");
	if (!dash)
		goto bad;
	*dash = '\0';
	gport = dash + 2;
	hport = strrchr(addr, ':');
	if (!hport)
		goto bad;
	*hport++ = '\0';
	if (*addr) {
		if (inet_pton(AF_INET, addr, &in) != 1)
			goto bad;
		f->host_addr = in.s_addr;
	} else {
		f->host_addr = htonl(INADDR_LOOPBACK);
	}
	if (parse_uint(hport, 65535, &hp) || !hp || parse_uint(gport, 65535, &gp) || !gp)
		goto bad;
	f->host_port = (uint16_t)hp;
	f->guest_port = (uint16_t)gp;
	return 0;
bad:
	return net_err(p, "--net: bad hostfwd '%s' in '%s' (expected "
		       "tcp:HOSTADDR:HOSTPORT-:GUESTPORT, e.g. tcp:127.0.0.1:2222-:22)", val, p->arg);
}

static int parse_kind(const struct net_parse *p, char *elem, struct net_opts *o)
{
	char *eq = strchr(elem, '=');
	unsigned long n;

	if (!strcmp(elem, "user")) {
		o->kind = NET_USER;
		return 0;
	}
	if (eq && !strncmp(elem, "tap=", 4)) {
		o->kind = NET_TAP;
		if (!eq[1])
			return net_err(p, "--net: empty tap name in '%s'", p->arg);
		if (strlen(eq + 1) > NET_IFNAME_MAX)
			return net_err(p, "--net: tap name '%s' is too long (at most %d characters)",
				       eq + 1, NET_IFNAME_MAX);
		if (strchr(eq + 1, '/') || strchr(eq + 1, ' '))
			return net_err(p, "--net: '%s' is not an interface name", eq + 1);
		strcpy(o->ifname, eq + 1);
		return 0;
	}
	if (eq && !strncmp(elem, "fd=", 3)) {
		o->kind = NET_FD;
		if (parse_uint(eq + 1, 1 << 30, &n) || n < 3)
			return net_err(p, "--net: fd=%s: not an open descriptor number >= 3", eq + 1);
		o->fd = (int)n;
		return 0;
	}
	return net_err(p, "--net: '%s' must start with tap=IFNAME, fd=N or user", p->arg);
}

static int parse_key(const struct net_parse *p, char *elem, struct net_opts *o,
		     unsigned int *seen)
{
	char *eq = strchr(elem, '=');
	const char *val;
	unsigned long n;

	if (!eq)
		return net_err(p, "--net: option '%s' in '%s' is not key=value (keys: " NET_KEYS ")",
			       elem, p->arg);
	*eq = '\0';
	val = eq + 1;
	if (!strcmp(elem, "hostfwd")) {
		if (o->kind != NET_USER)
			return net_err(p, "--net: hostfwd needs user networking (--net user,...)");
		if (o->nr_fwd == NET_MAX_HOSTFWD)
			return net_err(p, "--net: at most %d hostfwd rules", NET_MAX_HOSTFWD);
		if (parse_hostfwd(p, val, &o->fwd[o->nr_fwd]))
			return -EINVAL;
		o->nr_fwd++;
		return 0;
	}
	static const char *const keys[] = { "mac", "vhost", "queues", "restrict" };
	unsigned int k;

	for (k = 0; k < 4; k++)
		if (!strcmp(elem, keys[k]))
			break;
	if (k == 4)
		return net_err(p, "--net: unknown key '%s' in '%s' (keys: " NET_KEYS ")", elem,
			       p->arg);
	if (*seen & (1u << k))
		return net_err(p, "--net: duplicate key '%s' in '%s'", elem, p->arg);
	*seen |= 1u << k;
	switch (k) {
	case 0:
		if (net_parse_mac(val, o->mac))
			return net_err(p, "--net: bad MAC '%s' (expected six hex bytes like "
				       "02:00:00:00:00:01, not multicast, not all zero)", val);
		o->mac_set = true;
		return 0;
	case 1:
		if (o->kind == NET_USER)
			return net_err(p, "--net: vhost applies to tap and fd, not user");
		if (!strcmp(val, "auto"))
			o->vhost = NET_VHOST_AUTO;
		else if (!strcmp(val, "on"))
			o->vhost = NET_VHOST_ON;
		else if (!strcmp(val, "off"))
			o->vhost = NET_VHOST_OFF;
		else
			return net_err(p, "--net: bad value '%s' for vhost (accepted: auto, on, off)",
				       val);
		return 0;
	case 2:
		if (parse_uint(val, NET_MAX_QUEUES, &n) || n < 1)
			return net_err(p, "--net: queues=%s out of range (1 to %d)", val,
				       NET_MAX_QUEUES);
		if (o->kind == NET_USER && n != 1)
			return net_err(p, "--net: user networking has one queue pair");
		o->queues = (unsigned int)n;
		return 0;
	default:
		if (o->kind != NET_USER)
			return net_err(p, "--net: restrict applies to user networking only");
		if (!strcmp(val, "on"))
			o->restrict_net = true;
		else if (!strcmp(val, "off"))
			o->restrict_net = false;
		else
			return net_err(p, "--net: bad value '%s' for restrict (accepted: on, off)",
				       val);
		return 0;
	}
}

int net_opts_parse(const char *arg, struct net_opts *out, char *err, size_t errlen)
{
	struct net_parse p = { .arg = arg ? arg : "", .err = err, .errlen = errlen };
	unsigned int seen = 0;
	struct net_opts o;
	char *buf, *elem, *save = NULL;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (!*p.arg)
		return net_err(&p, "--net: empty argument (expected tap=IFNAME, fd=N or user)");
	buf = strdup(p.arg);
	if (!buf)
		return -ENOMEM;
	memset(&o, 0, sizeof(o));
	o.fd = -1;
	o.queues = 1;
	o.vhost = NET_VHOST_AUTO;
	ret = 0;
	if (strstr(p.arg, ",,") || p.arg[0] == ',' || p.arg[strlen(p.arg) - 1] == ',') {
		ret = net_err(&p, "--net: empty option in '%s'", p.arg);
		goto out;
	}
	elem = strtok_r(buf, ",", &save);
	ret = parse_kind(&p, elem, &o);
	while (!ret && (elem = strtok_r(NULL, ",", &save)))
		ret = parse_key(&p, elem, &o, &seen);
	if (!ret)
		*out = o;
out:
	free(buf);
	return ret;
}
