// SPDX-License-Identifier: MIT
/*
 * The "nets" of the configuration JSON (docs/config.md) <-> struct
 * net_opts.  Names follow Cloud Hypervisor's NetConfig where it has the
 * same thing (tap, mac, num_queues = queues, not pairs).  Reading builds
 * the --net option text and hands it to net_opts_parse(), so the JSON and
 * the command line accept exactly the same cards with the same checks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "config_json_internal.h"
#include "net/net.h"

#define NET_OPT_MAX	1024	/* one --net option text */

/*
 * A string that goes into the option text: no ',' (it would start another
 * key), no space, nothing unprintable.
 */
static int opt_value(struct reader *r, struct json_object *v, const char *what, size_t max,
		     const char **out)
{
	const char *s;
	size_t i, len;

	if (!json_object_is_type(v, json_type_string))
		return cj_fail(r, "config: %s must be a string", what);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (!len || len > max)
		return cj_fail(r, "config: %s must be 1 to %zu characters", what, max);
	for (i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] > 0x7e || s[i] == ',')
			return cj_fail(r, "config: %s: '%.64s' has a character a --net value "
				       "cannot hold", what, s);
	}
	*out = s;
	return 0;
}

/* opt_value() of obj's key; *out NULL when absent. */
static int opt_string(struct reader *r, struct json_object *o, const char *key,
		      const char *where, size_t max, const char **out)
{
	struct json_object *v;
	char what[48];

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	snprintf(what, sizeof(what), "%s%s", where, key);
	return opt_value(r, v, what, max, out);
}

/* Appends ",KEY=VALUE" (or the first element when KEY is NULL). */
static int append(struct reader *r, char *buf, const char *where, const char *key,
		  const char *val)
{
	size_t n = strlen(buf);
	int k;

	k = snprintf(buf + n, NET_OPT_MAX - n, "%s%s%s%s", n ? "," : "", key ? key : "",
		     key ? "=" : "", val);
	if (k < 0 || (size_t)k >= NET_OPT_MAX - n)
		return cj_fail(r, "config: %s is too long", where);
	return 0;
}

static int read_hostfwd(struct reader *r, struct json_object *o, const char *where, char *buf)
{
	struct json_object *a;
	char w[48];
	size_t i, n;
	int ret;

	if (!json_object_object_get_ex(o, "hostfwd", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return cj_fail(r, "config: %shostfwd must be an array of strings", where);
	n = json_object_array_length(a);
	if (n > NET_MAX_HOSTFWD)
		return cj_fail(r, "config: %shostfwd: at most %d rules", where, NET_MAX_HOSTFWD);
	for (i = 0; i < n; i++) {
		const char *s;

		snprintf(w, sizeof(w), "%shostfwd[%zu]", where, i);
		ret = opt_value(r, json_object_array_get_idx(a, i), w, 96, &s);
		ret = ret ? ret : append(r, buf, where, "hostfwd", s);
		if (ret)
			return ret;
	}
	return 0;
}

static int read_net(struct reader *r, struct json_object *o, unsigned int i,
		    struct net_opts *out)
{
	static const char *const keys[] = {
		"tap", "fd", "user", "mac", "vhost", "num_queues", "hostfwd", "restrict", NULL,
	};
	const char *tap = NULL, *mac = NULL, *vhost = NULL;
	bool user = false, restrict_net = false, have_restrict;
	uint64_t fd = 0, nq = 0;
	char buf[NET_OPT_MAX] = "", where[32], num[24], msg[512];
	int ret, kinds;

	snprintf(where, sizeof(where), "nets[%u].", i);
	if (!json_object_is_type(o, json_type_object))
		return cj_fail(r, "config: nets[%u] must be an object", i);
	ret = cj_check_keys(r, o, "a net", keys);
	ret = ret ? ret : opt_string(r, o, "tap", where, NET_IFNAME_MAX, &tap);
	ret = ret ? ret : cj_get_uint(r, o, "fd", where, 3, 1 << 30, &fd);
	ret = ret ? ret : cj_get_bool(r, o, "user", where, &user);
	ret = ret ? ret : opt_string(r, o, "mac", where, 17, &mac);
	ret = ret ? ret : opt_string(r, o, "vhost", where, 4, &vhost);
	ret = ret ? ret : cj_get_uint(r, o, "num_queues", where, 2, 2 * NET_MAX_QUEUES, &nq);
	ret = ret ? ret : cj_get_bool(r, o, "restrict", where, &restrict_net);
	if (ret)
		return ret;
	kinds = !!tap + !!fd + !!user;
	if (kinds != 1)
		return cj_fail(r, "config: nets[%u] needs exactly one of tap, fd or \"user\": true", i);
	if (nq % 2)
		return cj_fail(r, "config: %snum_queues counts rx and tx queues: it must be even",
			       where);
	if (tap) {
		ret = append(r, buf, where, "tap", tap);
	} else if (fd) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)fd);
		ret = append(r, buf, where, "fd", num);
	} else {
		ret = append(r, buf, where, NULL, "user");
	}
	ret = ret ? ret : mac ? append(r, buf, where, "mac", mac) : 0;
	ret = ret ? ret : vhost ? append(r, buf, where, "vhost", vhost) : 0;
	if (!ret && nq) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)nq / 2);
		ret = append(r, buf, where, "queues", num);
	}
	ret = ret ? ret : read_hostfwd(r, o, where, buf);
	have_restrict = json_object_object_get_ex(o, "restrict", NULL);
	ret = ret ? ret : have_restrict ?
		append(r, buf, where, "restrict", restrict_net ? "on" : "off") : 0;
	if (ret)
		return ret;
	ret = net_opts_parse(buf, out, msg, sizeof(msg));
	if (ret == -EINVAL)
		return cj_fail(r, "config: nets[%u]: %s", i, msg);
	return ret;
}

int config_json_read_nets(struct reader *r, struct json_object *root, struct vm_config *cfg)
{
	struct json_object *a;
	size_t i, n;
	int ret;

	if (!json_object_object_get_ex(root, "nets", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return cj_fail(r, "config: nets must be an array");
	n = json_object_array_length(a);
	if (n > VMM_MAX_NICS)
		return cj_fail(r, "config: at most %d nets", VMM_MAX_NICS);
	for (i = 0; i < n; i++) {
		ret = read_net(r, json_object_array_get_idx(a, i), (unsigned int)i,
			       &cfg->nets[i]);
		if (ret)
			return ret;
	}
	cfg->nr_nets = (unsigned int)n;
	return 0;
}

static const char *vhost_name(enum net_vhost v)
{
	return v == NET_VHOST_ON ? "on" : v == NET_VHOST_OFF ? "off" : "auto";
}

static int add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *hostfwd_array(const struct net_opts *n)
{
	struct json_object *a = json_object_new_array();
	char addr[INET_ADDRSTRLEN], rule[96];
	unsigned int i;

	for (i = 0; a && i < n->nr_fwd; i++) {
		const struct net_hostfwd *f = &n->fwd[i];
		struct json_object *s;

		if (!inet_ntop(AF_INET, &f->host_addr, addr, sizeof(addr)))
			strcpy(addr, "127.0.0.1");
		snprintf(rule, sizeof(rule), "%s:%s:%u-:%u", f->udp ? "udp" : "tcp", addr,
			 f->host_port, f->guest_port);
		s = json_object_new_string(rule);
		if (!s || json_object_array_add(a, s)) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *net_object(const struct net_opts *n)
{
	struct json_object *o = json_object_new_object();
	char mac[18];
	int ret = 0;

	if (!o)
		return NULL;
	switch (n->kind) {
	case NET_TAP:
		ret |= add(o, "tap", json_object_new_string(n->ifname));
		break;
	case NET_FD:
		ret |= add(o, "fd", json_object_new_int64(n->fd));
		break;
	case NET_USER:
		ret |= add(o, "user", json_object_new_boolean(true));
		break;
	}
	if (n->mac_set) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
			 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		ret |= add(o, "mac", json_object_new_string(mac));
	}
	ret |= add(o, "num_queues", json_object_new_int64(2 * (int64_t)n->queues));
	if (n->kind == NET_USER) {
		ret |= add(o, "hostfwd", hostfwd_array(n));
		ret |= add(o, "restrict", json_object_new_boolean(n->restrict_net));
	} else {
		ret |= add(o, "vhost", json_object_new_string(vhost_name(n->vhost)));
	}
	if (ret) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *config_json_nets_object(const struct vm_config *cfg)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; a && i < cfg->nr_nets; i++) {
		struct json_object *n = net_object(&cfg->nets[i]);

		if (!n || json_object_array_add(a, n)) {
			json_object_put(n);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}
