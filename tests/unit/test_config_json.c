// SPDX-License-Identifier: MIT
/*
 * config_json: the command line and the JSON schema hold the same VM.
 * Every option given on a command line comes back unchanged through
 * cfg -> JSON -> cfg, and every way a JSON configuration is refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config_json.h"
#include "options.h"

static char err[512];

static void parse_argv(const char *line, struct vm_config *cfg)
{
	static char buf[8192];
	static char *argv[64];
	int argc = 0;
	char *tok, *save = NULL;
	FILE *null = fopen("/dev/null", "w");

	snprintf(buf, sizeof(buf), "vmm %s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	cr_assert_eq(opts_parse(argc, argv, cfg, null, null), OPTS_RUN, "'%s' refused", line);
	fclose(null);
}

static void assert_same_str(const char *a, const char *b, const char *what)
{
	if (!a || !b)
		cr_assert_eq(a, b, "%s: %s vs %s", what, a ? a : "NULL", b ? b : "NULL");
	else
		cr_assert_str_eq(a, b, "%s", what);
}

static void assert_same_vm(const struct vm_config *a, const struct vm_config *b)
{
	unsigned int i;

	assert_same_str(a->kernel, b->kernel, "kernel");
	assert_same_str(a->initrd, b->initrd, "initrd");
	assert_same_str(a->cmdline, b->cmdline, "cmdline");
	cr_assert_eq(a->flat, b->flat);
	cr_assert_eq(a->guest_unpack, b->guest_unpack);
	cr_assert_eq(a->testdev, b->testdev);
	cr_assert_eq(a->on_reboot, b->on_reboot);
	cr_assert_eq(a->cpus, b->cpus);
	cr_assert_eq(a->memory, b->memory);
	cr_assert_eq(a->console, b->console);
	assert_same_str(a->console_path, b->console_path, "console path");
	cr_assert_eq(a->nr_disks, b->nr_disks);
	for (i = 0; i < a->nr_disks; i++) {
		const struct disk_opts *x = &a->disks[i], *y = &b->disks[i];

		cr_assert_str_eq(x->path, y->path);
		cr_assert_eq(x->format, y->format, "disk %u format", i);
		cr_assert_eq(x->cache, y->cache, "disk %u cache", i);
		cr_assert_eq(x->engine, y->engine, "disk %u engine", i);
		cr_assert_eq(x->readonly, y->readonly, "disk %u readonly", i);
		cr_assert_eq(x->snapshot, y->snapshot, "disk %u snapshot", i);
		cr_assert_str_eq(x->serial, y->serial, "disk %u serial", i);
		cr_assert_eq(x->num_queues, y->num_queues, "disk %u num_queues", i);
	}
	cr_assert_eq(a->nr_nets, b->nr_nets);
	for (i = 0; i < a->nr_nets; i++) {
		const struct net_opts *x = &a->nets[i], *y = &b->nets[i];
		unsigned int k;

		cr_assert_eq(x->kind, y->kind, "net %u kind", i);
		cr_assert_str_eq(x->ifname, y->ifname, "net %u ifname", i);
		cr_assert_eq(x->fd, y->fd, "net %u fd", i);
		cr_assert_eq(x->mac_set, y->mac_set, "net %u mac_set", i);
		cr_assert_arr_eq(x->mac, y->mac, 6, "net %u mac", i);
		cr_assert_eq(x->vhost, y->vhost, "net %u vhost", i);
		cr_assert_eq(x->queues, y->queues, "net %u queues", i);
		cr_assert_eq(x->restrict_net, y->restrict_net, "net %u restrict", i);
		cr_assert_eq(x->nr_fwd, y->nr_fwd, "net %u hostfwd", i);
		for (k = 0; k < x->nr_fwd; k++) {
			cr_assert_eq(x->fwd[k].udp, y->fwd[k].udp);
			cr_assert_eq(x->fwd[k].host_addr, y->fwd[k].host_addr);
			cr_assert_eq(x->fwd[k].host_port, y->fwd[k].host_port);
			cr_assert_eq(x->fwd[k].guest_port, y->fwd[k].guest_port);
		}
	}
}

/* command line -> cfg -> JSON -> cfg2: the same VM */
static void round_trip(const char *line)
{
	static struct vm_config cfg, back;
	char *json, *arena;

	parse_argv(line, &cfg);
	json = config_json_format(&cfg, true);
	cr_assert_not_null(json);
	memset(&back, 0, sizeof(back));
	cr_assert_eq(config_json_parse(json, strlen(json), &back, &arena, err, sizeof(err)), 0,
		     "%s\n%s", err, json);
	assert_same_vm(&cfg, &back);
	free(json);
	free(arena);
}

Test(config_json, round_trip_defaults)
{
	round_trip("--kernel /k");
}

Test(config_json, round_trip_every_option)
{
	round_trip("--kernel /boot/vmlinuz --initrd /boot/initrd.img --cmdline console=ttyS0,115200"
		   " --cpus 4 --memory 1G --console file:/tmp/console.log --guest-unpack"
		   " --testdev --on-reboot restart"
		   " --disk path=/a.img,format=raw,readonly=on,cache=none,serial=SER1,num-queues=2,"
		   "engine=threads"
		   " --disk path=/b.qcow2,format=qcow2,cache=writethrough,snapshot=on,engine=io_uring"
		   " --disk /c.img,cache=unsafe --disk path=/d,cache=writeback,engine=auto"
		   " --net tap=tap0,mac=02:00:00:AB:cd:01,vhost=off,queues=4"
		   " --net fd=5,vhost=on --net tap=vmtap1"
		   " --net user,mac=02:00:00:00:00:09,hostfwd=tcp:127.0.0.1:2222-:22,"
		   "hostfwd=udp::5353-:53,hostfwd=tcp:0.0.0.0:8080-:80,restrict=on"
		   " --net user");
}

Test(config_json, round_trip_eight_nets)
{
	char line[4096] = "--kernel /k";
	int i;

	for (i = 0; i < VMM_MAX_NICS; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 " --net tap=t%d,queues=%d", i, i + 1);
	round_trip(line);
}

Test(config_json, nets_in_the_schema)
{
	static struct vm_config cfg;
	const char *j = "{\"payload\":{\"kernel\":\"/k\"},\"nets\":["
		"{\"tap\":\"tap3\",\"num_queues\":4,\"mac\":\"02:00:00:00:00:07\"},"
		"{\"user\":true,\"hostfwd\":[\"tcp::2222-:22\"]}]}";
	char *arena, *json;

	memset(&cfg, 0, sizeof(cfg));
	cr_assert_eq(config_json_parse(j, strlen(j), &cfg, &arena, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.nr_nets, 2);
	cr_assert_eq(cfg.nets[0].kind, NET_TAP);
	cr_assert_str_eq(cfg.nets[0].ifname, "tap3");
	cr_assert_eq(cfg.nets[0].queues, 2, "num_queues counts rx and tx");
	cr_assert(cfg.nets[0].mac_set);
	cr_assert_eq(cfg.nets[0].vhost, NET_VHOST_AUTO);
	cr_assert_eq(cfg.nets[1].kind, NET_USER);
	cr_assert_eq(cfg.nets[1].nr_fwd, 1);
	cr_assert_eq(cfg.nets[1].fwd[0].host_port, 2222);
	json = config_json_format(&cfg, false);
	cr_assert(strstr(json, "\"nets\":[{\"tap\":\"tap3\",\"mac\":\"02:00:00:00:00:07\","
			 "\"num_queues\":4,\"vhost\":\"auto\"},{\"user\":true,\"num_queues\":2,"
			 "\"hostfwd\":[\"tcp:127.0.0.1:2222-:22\"],\"restrict\":false}]"), "%s", json);
	free(json);
	free(arena);
}

Test(config_json, round_trip_flat_and_console_none)
{
	round_trip("--kernel /boot.bin --flat --console none --memory 16M --cpus 64");
}

Test(config_json, round_trip_sixteen_disks)
{
	char line[4096] = "--kernel /k";
	int i;

	for (i = 0; i < VMM_MAX_DISKS; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 " --disk path=/disk%d,serial=s%d", i, i);
	round_trip(line);
}

Test(config_json, keeps_process_fields_and_fills_defaults)
{
	static struct vm_config cfg;
	const char *j = "{\"payload\":{\"kernel\":\"/k\"}}";
	char *arena;

	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "keep";
	cfg.verbosity = 2;
	cfg.cpus = 9;
	cr_assert_eq(config_json_parse(j, strlen(j), &cfg, &arena, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.name, "keep");
	cr_assert_eq(cfg.verbosity, 2);
	cr_assert_eq(cfg.cpus, VMM_DEFAULT_CPUS);
	cr_assert_eq(cfg.memory, VMM_DEFAULT_MEMORY);
	cr_assert_eq(cfg.console, CONSOLE_STDIO);
	cr_assert_str_eq(cfg.cmdline, VMM_DEFAULT_CMDLINE);
	cr_assert_str_eq(cfg.kernel, "/k");
	free(arena);
}

static void refused(const char *json, const char *want)
{
	static struct vm_config cfg;
	char *arena = (char *)1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cpus = 3;
	cr_assert_eq(config_json_parse(json, strlen(json), &cfg, &arena, err, sizeof(err)),
		     -EINVAL, "accepted: %s", json);
	cr_assert_null(arena);
	cr_assert(strstr(err, want), "for %s: '%s' lacks '%s'", json, err, want);
	cr_assert_eq(cfg.cpus, 3, "cfg changed by a refused configuration");
}

Test(config_json, refuses_bad_input)
{
	refused("", "not valid JSON");
	refused("{", "ends early");
	refused("[]", "must be a JSON object");
	refused("{} x", "not valid JSON");
	refused("{\"payload\":{\"kernel\":\"/k\"},}", "not valid JSON");	/* strict */
	refused("{}", "payload");
	refused("{\"payload\":{}}", "payload.kernel is required");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"net\":[]}", "unknown key 'net'");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":{}}", "nets must be an array");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[5]}", "nets[0] must be an object");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{}]}", "exactly one of tap");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"tap\":\"t\",\"user\":true}]}",
		"exactly one of tap");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"tap\":\"t,vhost=on\"}]}",
		"cannot hold");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"tap\":\"0123456789abcdef\"}]}",
		"nets[0].tap must be 1 to 15");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"fd\":2}]}", "nets[0].fd");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"tap\":\"t\",\"num_queues\":3}]}",
		"must be even");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"tap\":\"t\",\"num_queues\":34}]}",
		"from 2 to 32");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"tap\":\"t\",\"mac\":\"ff:ff:ff:ff:ff:ff\"}]}",
		"nets[0]: --net: bad MAC");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"user\":true,\"vhost\":\"on\"}]}",
		"vhost applies to tap");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"user\":true,\"num_queues\":4}]}",
		"one queue pair");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"tap\":\"t\",\"restrict\":true}]}",
		"restrict applies");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"user\":true,\"hostfwd\":[\"tcp:x\"]}]}",
		"bad hostfwd");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"user\":true,\"hostfwd\":\"tcp::1-:2\"}]}",
		"array of strings");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"nets\":[{\"tap\":\"t\",\"queues\":2}]}",
		"unknown key 'queues' in a net");
	refused("{\"payload\":{\"kernel\":\"/k\",\"initrd\":\"/i\"}}", "unknown key 'initrd'");
	refused("{\"payload\":{\"kernel\":5}}", "payload.kernel must be a string");
	refused("{\"payload\":{\"kernel\":\"\"}}", "payload.kernel is empty");
	refused("{\"payload\":{\"kernel\":\"/k\\u0000x\"}}", "NUL");
	refused("{\"payload\":{\"kernel\":\"/k\",\"flat\":1}}", "true or false");
	refused("{\"payload\":{\"kernel\":\"/k\",\"flat\":true,\"initramfs\":\"/i\"}}",
		"cannot be used with payload.flat");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{\"boot_vcpus\":0}}", "from 1 to 64");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{\"boot_vcpus\":65}}", "from 1 to 64");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{\"boot_vcpus\":1.5}}", "integer");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{\"max_vcpus\":2}}", "unknown key");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"cpus\":4}", "cpus must be an object");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"memory\":{\"size\":1024}}", "memory.size");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"memory\":{\"size\":-1}}", "memory.size");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"memory\":{\"size\":99999999999999999999}}",
		"memory.size");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"console\":{\"mode\":\"tty\"}}",
		"accepted values");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"console\":{\"mode\":\"file\"}}",
		"needs console.file");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"console\":{\"mode\":\"none\",\"file\":\"/f\"}}",
		"only for");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"disks\":{}}", "disks must be an array");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"disks\":[1]}", "disks[0] must be an object");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"disks\":[{}]}", "disks[0].path is required");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"disks\":[{\"path\":\"/a\",\"direct\":true}]}",
		"unknown key 'direct'");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"disks\":[{\"path\":\"/a\",\"format\":\"vmdk\"}]}",
		"disks[0].format");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"disks\":[{\"path\":\"/a\",\"num_queues\":65}]}",
		"from 1 to 64");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"disks\":[{\"path\":\"/a\","
		"\"serial\":\"123456789012345678901\"}]}", "longer than 20");
	refused("{\"payload\":{\"kernel\":\"/k\"},\"disks\":[{\"path\":\"/a\",\"serial\":\"\\t\"}]}",
		"printable");
}

Test(config_json, refuses_seventeen_disks)
{
	char json[4096] = "{\"payload\":{\"kernel\":\"/k\"},\"disks\":[";
	int i;

	for (i = 0; i <= VMM_MAX_DISKS; i++)
		snprintf(json + strlen(json), sizeof(json) - strlen(json), "%s{\"path\":\"/d%d\"}",
			 i ? "," : "", i);
	strcat(json, "]}");
	refused(json, "at most 16 disks");
}

Test(config_json, load_file)
{
	static struct vm_config cfg;
	char path[] = "/tmp/test_config_json.XXXXXX";
	const char *j = "{\"payload\":{\"kernel\":\"/vmlinuz\"},\"memory\":{\"size\":536870912}}";
	char *arena;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, j, strlen(j)), (ssize_t)strlen(j));
	close(fd);
	memset(&cfg, 0, sizeof(cfg));
	cr_assert_eq(config_json_load(path, &cfg, &arena, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.kernel, "/vmlinuz");
	cr_assert_eq(cfg.memory, 512ULL << 20);
	free(arena);
	unlink(path);
	cr_assert_eq(config_json_load(path, &cfg, &arena, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, path), "%s", err);
}

Test(config_json, output_names_the_schema)
{
	static struct vm_config cfg;
	struct json_object *o, *v;
	char *json;

	parse_argv("--kernel /k --initrd /i --disk path=/a,num-queues=3", &cfg);
	json = config_json_format(&cfg, false);
	o = json_tokener_parse(json);
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "payload", &v));
	cr_assert(json_object_object_get_ex(v, "initramfs", &v));
	cr_assert_str_eq(json_object_get_string(v), "/i");
	cr_assert(json_object_object_get_ex(o, "disks", &v));
	v = json_object_array_get_idx(v, 0);
	cr_assert(json_object_object_get_ex(v, "num_queues", &v));
	cr_assert_eq(json_object_get_int(v), 3);
	json_object_put(o);
	free(json);
}
