// SPDX-License-Identifier: MIT
/*
 * vmmctl VERB [NAME] [options]: list, info, pause, resume, powerdown,
 * reboot, reset, quit, config, events, ping.  Human output by default,
 * --json for scripts; exit status in ctl.h.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "api/sockdir.h"
#include "ctl.h"

#define DEFAULT_TIMEOUT_S	30


static void usage(FILE *f)
{
	fprintf(f,
"Usage: vmmctl VERB [NAME | --socket PATH] [options]\n"
"Control running vmm VMs through their control sockets (docs/control.md).\n"
"\n"
"Verbs:\n"
"  list                 every VM in the socket directory: name, pid, state,\n"
"                       vCPUs, memory, uptime (like virsh list)\n"
"  info NAME            state, configuration and counters\n"
"  pause NAME           stop the vCPUs (virsh suspend)\n"
"  resume NAME          run them again (virsh resume)\n"
"  powerdown NAME [--timeout S]\n"
"                       ACPI power button (virsh shutdown); with --timeout, quit\n"
"                       after S seconds if the guest has not powered off (vmm\n"
"                       then exits with status 16)\n"
"  reboot NAME          ask the guest to reboot (virsh reboot)\n"
"  reset NAME           hard reset: boot again in the same process (virsh reset)\n"
"  quit NAME            end the VM now (virsh destroy; vmm exits with 14)\n"
"  config NAME          the VM's configuration as JSON (vmm --config starts it)\n"
"  events NAME          follow the VM's events until it ends\n"
"  ping NAME            check that the vmm answers\n"
"  migrate NAME unix:PATH|tcp:HOST:PORT | migrate NAME --cancel\n"
"                       move the running VM to a vmm started with --incoming\n"
"                       there (pre-copy); on success the source vmm exits 0,\n"
"                       on any failure the VM goes on here\n"
"  snapshot NAME DIR [--resume]\n"
"                       pause the VM and write it to the directory DIR\n"
"                       (created if missing; vmm --restore file:///DIR brings\n"
"                       it back); it stays paused unless --resume\n"
"\n"
"NAME is the vmm's --name: its socket is $XDG_RUNTIME_DIR/vmm/NAME.sock\n"
"(/run/vmm/NAME.sock for root).\n"
"\n"
"Options:\n"
"  --socket PATH        talk to this socket instead of NAME's (--api-socket)\n"
"  --json               print the server's JSON (scripts)\n"
"  --timeout S          powerdown: seconds before quit\n"
"  --wait S             seconds to wait for an answer (default %d)\n"
"  -h, --help           this help\n"
"\n"
"Exit status: 0 success, 1 failed (message on stderr), 2 bad command line,\n"
"3 no such VM, 4 refused in the VM's current state, 5 no answer in time.\n",
		DEFAULT_TIMEOUT_S);
}

/* Turns an answer into the exit status, printing what went wrong. */
static int check(const struct ctl *c, int ret, const struct ctl_answer *a)
{
	struct json_object *o;
	const char *msg = NULL;

	if (ret == CTL_ERR_NO_VM) {
		fprintf(stderr, "vmmctl: no VM answers at %s\n", c->socket);
		return ret;
	}
	if (ret == CTL_ERR_TIMEOUT) {
		fprintf(stderr, "vmmctl: %s: no answer within %ld s\n", c->verb, c->timeout_s);
		return ret;
	}
	if (ret) {
		fprintf(stderr, "vmmctl: %s: %s\n", c->verb,
			a->curl_error[0] ? a->curl_error : "request failed");
		return ret;
	}
	if (a->status >= 200 && a->status < 300)
		return CTL_OK;
	o = a->body ? json_tokener_parse(a->body) : NULL;
	if (o && json_object_is_type(o, json_type_object)) {
		struct json_object *e;

		if (json_object_object_get_ex(o, "error", &e))
			msg = json_object_get_string(e);
	}
	fprintf(stderr, "vmmctl: %s: %s (HTTP %ld)\n", c->verb, msg ? msg : "failed", a->status);
	json_object_put(o);
	return a->status == 409 ? CTL_ERR_STATE : CTL_ERR_OTHER;
}

int ctl_check(const struct ctl *c, int ret, const struct ctl_answer *a)
{
	return check(c, ret, a);
}

static struct json_object *parse_answer(const struct ctl_answer *a)
{
	struct json_object *o = a->body ? json_tokener_parse(a->body) : NULL;

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		fprintf(stderr, "vmmctl: the answer is not a JSON object\n");
		return NULL;
	}
	return o;
}

static void fmt_uptime(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else
		snprintf(buf, len, "%02lld:%02lld:%02lld", (long long)(s / 3600),
			 (long long)(s % 3600 / 60), (long long)(s % 60));
}

static int do_list(struct ctl *c)
{
	struct json_object *arr = json_object_new_array();
	char dir[sizeof(c->socket)], up[32];
	struct ctl_answer a;
	struct dirent *de;
	DIR *d;
	int ret;

	if (api_socket_dir(dir, sizeof(dir))) {
		fprintf(stderr, "vmmctl: XDG_RUNTIME_DIR is not set: no socket directory to list\n");
		json_object_put(arr);
		return CTL_ERR_OTHER;
	}
	d = opendir(dir);
	if (!c->json)
		printf("%-20s %8s %-9s %5s %10s %10s\n", "NAME", "PID", "STATE", "VCPUS",
		       "MEMORY", "UPTIME");
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct json_object *o;

		if (n < 6 || strcmp(de->d_name + n - 5, ".sock") ||
		    strlen(dir) + 1 + n >= sizeof(c->socket))
			continue;
		memcpy(c->socket, dir, strlen(dir));
		c->socket[strlen(dir)] = '/';
		memcpy(c->socket + strlen(dir) + 1, de->d_name, n + 1);
		ret = ctl_request(c->socket, "GET", "vm.info", NULL, 5, NULL, NULL, &a);
		if (ret || a.status != 200 || !(o = json_tokener_parse(a.body ? a.body : ""))) {
			ctl_answer_free(&a);
			continue;	/* a dead vmm's socket, or not a vmm */
		}
		if (c->json) {
			json_object_object_add(o, "name", json_object_new_string_len(de->d_name,
						(int)n - 5));
			json_object_array_add(arr, o);
		} else {
			fmt_uptime(get_int(o, "uptime_ms"), up, sizeof(up));
			printf("%-20.*s %8lld %-9s %5lld %9lldM %10s\n", (int)n - 5, de->d_name,
			       (long long)get_int(o, "pid"), get_str(o, "state"),
			       (long long)get_int(o, "vcpus"),
			       (long long)(get_int(o, "memory_actual_size") >> 20), up);
			json_object_put(o);
		}
		ctl_answer_free(&a);
	}
	if (d)
		closedir(d);
	if (c->json)
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return CTL_OK;
}

/* --json: vm.info's object with vm.counters' as "counters"; takes o */
static int print_info_json(struct ctl *c, struct json_object *o)
{
	struct json_object *cnt = NULL;
	struct ctl_answer a;
	int ret;

	ret = check(c, ctl_request(c->socket, "GET", "vm.counters", NULL, c->timeout_s, NULL,
				   NULL, &a), &a);
	if (!ret && !(cnt = parse_answer(&a)))
		ret = CTL_ERR_OTHER;
	ctl_answer_free(&a);
	if (!ret) {
		json_object_object_add(o, "counters", cnt);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	json_object_put(o);
	return ret;
}

static int do_info(struct ctl *c)
{
	struct json_object *o, *cfg, *p, *disks;
	struct ctl_answer a;
	char up[32];
	size_t i;
	int ret;

	ret = check(c, ctl_request(c->socket, "GET", "vm.info", NULL, c->timeout_s, NULL, NULL,
				   &a), &a);
	if (ret) {
		ctl_answer_free(&a);
		return ret;
	}
	o = parse_answer(&a);
	if (o && c->json) {
		ctl_answer_free(&a);
		return print_info_json(c, o);
	}
	ctl_answer_free(&a);
	if (!o)
		return CTL_ERR_OTHER;
	fmt_uptime(get_int(o, "uptime_ms"), up, sizeof(up));
	printf("Name:     %s\nPID:      %lld\nState:    %s\nvCPUs:    %lld\n"
	       "Memory:   %lld MiB\nUptime:   %s\n", get_str(o, "name"),
	       (long long)get_int(o, "pid"), get_str(o, "state"), (long long)get_int(o, "vcpus"),
	       (long long)(get_int(o, "memory_actual_size") >> 20), up);
	if (json_object_object_get_ex(o, "config", &cfg) && cfg &&
	    json_object_object_get_ex(cfg, "payload", &p)) {
		printf("Kernel:   %s\n", get_str(p, "kernel"));
		if (strcmp(get_str(p, "initramfs"), "-"))
			printf("Initrd:   %s\n", get_str(p, "initramfs"));
		printf("Cmdline:  %s\n", get_str(p, "cmdline"));
		if (json_object_object_get_ex(cfg, "disks", &disks))
			for (i = 0; i < json_object_array_length(disks); i++)
				printf("Disk %zu:   %s\n", i,
				       get_str(json_object_array_get_idx(disks, i), "path"));
		if (json_object_object_get_ex(cfg, "nets", &disks))
			for (i = 0; i < json_object_array_length(disks); i++)
				print_net(i, json_object_array_get_idx(disks, i));
	}
	json_object_put(o);
	ret = check(c, ctl_request(c->socket, "GET", "vm.counters", NULL, c->timeout_s, NULL,
				   NULL, &a), &a);
	if (!ret) {
		o = parse_answer(&a);
		if (o)
			print_counters(o);
		else
			ret = CTL_ERR_OTHER;
		json_object_put(o);
	}
	ctl_answer_free(&a);
	return ret;
}

static int print_body(struct ctl *c, const char *endpoint, bool pretty)
{
	struct json_object *o;
	struct ctl_answer a;
	int ret;

	ret = check(c, ctl_request(c->socket, "GET", endpoint, NULL, c->timeout_s, NULL, NULL,
				   &a), &a);
	if (!ret) {
		o = parse_answer(&a);
		if (o)
			printf("%s\n", json_object_to_json_string_ext(o,
				(pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN) |
				JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			ret = CTL_ERR_OTHER;
		json_object_put(o);
	}
	ctl_answer_free(&a);
	return ret;
}

static int do_ping(struct ctl *c)
{
	struct json_object *o;
	struct ctl_answer a;
	int ret;

	if (c->json)
		return print_body(c, "vmm.ping", false);
	ret = check(c, ctl_request(c->socket, "GET", "vmm.ping", NULL, c->timeout_s, NULL, NULL,
				   &a), &a);
	if (!ret && (o = parse_answer(&a))) {
		printf("vmm %s (pid %lld) answers at %s\n", get_str(o, "version"),
		       (long long)get_int(o, "pid"), c->socket);
		json_object_put(o);
	}
	ctl_answer_free(&a);
	return ret;
}

static int print_event(void *opaque, const char *line)
{
	const struct ctl *c = opaque;
	struct json_object *o;
	struct json_object *v;

	if (c->json) {
		printf("%s\n", line);
	} else if ((o = json_tokener_parse(line))) {
		printf("%lld.%06lld %s", (long long)get_int(o, "timestamp.secs"),
		       (long long)(get_int(o, "timestamp.nanos") / 1000), get_str(o, "event"));
		if (json_object_object_get_ex(o, "reason", &v))
			printf(" (%s)", json_object_get_string(v));
		if (json_object_object_get_ex(o, "status", &v))
			printf(" status %d", json_object_get_int(v));
		printf("\n");
		json_object_put(o);
	}
	fflush(stdout);
	return 0;
}

static int do_events(struct ctl *c)
{
	struct ctl_answer a;
	int ret;

	ret = check(c, ctl_request(c->socket, "GET", "vm.events", NULL, 0, print_event, c, &a),
		    &a);
	ctl_answer_free(&a);
	return ret;
}

static const struct {
	const char *verb;
	const char *endpoint;
	const char *done;	/* human output */
} simple_verbs[] = {
	{ "pause", "vm.pause", "paused" },
	{ "resume", "vm.resume", "resumed" },
	{ "reboot", "vm.reboot", "reboot requested" },
	{ "reset", "vm.reset", "reset" },
	{ "quit", "vm.shutdown", "quit" },
	{ "powerdown", "vm.power-button", "power button pressed" },
};

static int do_simple(struct ctl *c, unsigned int i)
{
	struct ctl_answer a;
	char body[64];
	int ret;

	body[0] = '\0';
	if (!strcmp(c->verb, "powerdown") && c->powerdown_s)
		snprintf(body, sizeof(body), "{\"timeout_s\":%ld}", c->powerdown_s);
	ret = check(c, ctl_request(c->socket, "PUT", simple_verbs[i].endpoint,
				   body[0] ? body : NULL, c->timeout_s, NULL, NULL, &a), &a);
	if (!ret) {
		if (c->json)
			printf("{}\n");
		else
			printf("%s: %s\n", c->name ? c->name : c->socket, simple_verbs[i].done);
	}
	ctl_answer_free(&a);
	return ret;
}

static int parse_seconds(const char *opt, const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || *end || end == s || *out < 1 || *out > 86400) {
		fprintf(stderr, "vmmctl: %s: '%s' is not a number of seconds from 1 to 86400\n",
			opt, s);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct ctl *c)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "resume", no_argument, NULL, 'r' },
		{ "cancel", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	char dir[sizeof(c->socket)];
	char padded[40];
	int opt, n;

	c->timeout_s = DEFAULT_TIMEOUT_S;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'j': c->json = true; break;
		case 't':
			if (parse_seconds("--timeout", optarg, &c->powerdown_s))
				return CTL_ERR_USAGE;
			break;
		case 'w':
			if (parse_seconds("--wait", optarg, &c->timeout_s))
				return CTL_ERR_USAGE;
			c->wait_given = true;
			break;
		case 'r': c->resume = true; break;
		case 'c': c->cancel = true; break;
		case 'h': usage(stdout); return -1;
		default: fprintf(stderr, "vmmctl: see vmmctl --help\n"); return CTL_ERR_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_ERR_USAGE;
	}
	c->verb = argv[optind++];
	if (optind < argc)
		c->name = argv[optind++];
	if (optind < argc && (!strcmp(c->verb, "snapshot") || !strcmp(c->verb, "migrate")))
		c->arg = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "vmmctl: unexpected argument '%s'\n", argv[optind]);
		return CTL_ERR_USAGE;
	}
	snprintf(padded, sizeof(padded), " %.30s ", c->verb);
	if (!strstr(" list info pause resume powerdown reboot reset quit config events ping "
		    "snapshot migrate ", padded) || strchr(c->verb, ' ') || strlen(c->verb) > 30) {
		fprintf(stderr, "vmmctl: unknown verb '%s' (see vmmctl --help)\n", c->verb);
		return CTL_ERR_USAGE;
	}
	if (c->powerdown_s && strcmp(c->verb, "powerdown")) {
		fprintf(stderr, "vmmctl: --timeout is for powerdown\n");
		return CTL_ERR_USAGE;
	}
	if (c->resume && strcmp(c->verb, "snapshot")) {
		fprintf(stderr, "vmmctl: --resume is for snapshot\n");
		return CTL_ERR_USAGE;
	}
	if ((!strcmp(c->verb, "snapshot") || !strcmp(c->verb, "migrate")) && sock && c->name &&
	    !c->arg) {
		c->arg = c->name;	/* vmmctl snapshot --socket PATH DIR */
		c->name = NULL;
	}
	if (!strcmp(c->verb, "snapshot") && !c->arg) {
		fprintf(stderr, "vmmctl: snapshot needs a directory: vmmctl snapshot NAME DIR\n");
		return CTL_ERR_USAGE;
	}
	if (c->cancel && strcmp(c->verb, "migrate")) {
		fprintf(stderr, "vmmctl: --cancel is for migrate\n");
		return CTL_ERR_USAGE;
	}
	if (!strcmp(c->verb, "migrate") && c->cancel && c->arg) {
		fprintf(stderr, "vmmctl: migrate --cancel takes no destination\n");
		return CTL_ERR_USAGE;
	}
	if (!strcmp(c->verb, "migrate") && !c->arg && !c->cancel) {
		fprintf(stderr, "vmmctl: migrate needs a destination: vmmctl migrate NAME "
			"unix:PATH|tcp:HOST:PORT\n");
		return CTL_ERR_USAGE;
	}
	if (!strcmp(c->verb, "list"))
		return 0;
	if (sock && c->name) {
		fprintf(stderr, "vmmctl: give NAME or --socket PATH, not both\n");
		return CTL_ERR_USAGE;
	}
	if (sock) {
		n = snprintf(c->socket, sizeof(c->socket), "%s", sock);
	} else if (!c->name) {
		fprintf(stderr, "vmmctl: %s needs NAME or --socket PATH\n", c->verb);
		return CTL_ERR_USAGE;
	} else if (strchr(c->name, '/') || c->name[0] == '.') {
		fprintf(stderr, "vmmctl: '%s' is not a VM name (use --socket PATH)\n", c->name);
		return CTL_ERR_USAGE;
	} else if (api_socket_dir(dir, sizeof(dir))) {
		fprintf(stderr, "vmmctl: XDG_RUNTIME_DIR is not set: give --socket PATH\n");
		return CTL_ERR_USAGE;
	} else {
		n = snprintf(c->socket, sizeof(c->socket), "%s/%s.sock", dir, c->name);
	}
	if (n < 0 || (size_t)n >= sizeof(c->socket)) {
		fprintf(stderr, "vmmctl: socket path too long\n");
		return CTL_ERR_USAGE;
	}
	if (access(c->socket, F_OK)) {
		fprintf(stderr, "vmmctl: no such VM: %s does not exist\n", c->socket);
		return CTL_ERR_NO_VM;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	unsigned int i;
	int ret;

	ret = parse_args(argc, argv, &c);
	if (ret)
		return ret < 0 ? CTL_OK : ret;
	if (curl_global_init(CURL_GLOBAL_NOTHING)) {
		fprintf(stderr, "vmmctl: cannot initialise libcurl\n");
		return CTL_ERR_OTHER;
	}
	if (!strcmp(c.verb, "list"))
		ret = do_list(&c);
	else if (!strcmp(c.verb, "info"))
		ret = do_info(&c);
	else if (!strcmp(c.verb, "config"))
		ret = print_body(&c, "vm.config", !c.json);
	else if (!strcmp(c.verb, "events"))
		ret = do_events(&c);
	else if (!strcmp(c.verb, "ping"))
		ret = do_ping(&c);
	else if (!strcmp(c.verb, "snapshot"))
		ret = ctl_snapshot(&c);
	else if (!strcmp(c.verb, "migrate"))
		ret = ctl_migrate(&c);
	else {
		for (i = 0; i < sizeof(simple_verbs) / sizeof(simple_verbs[0]); i++) {
			if (!strcmp(c.verb, simple_verbs[i].verb))
				break;
		}
		if (i == sizeof(simple_verbs) / sizeof(simple_verbs[0])) {
			fprintf(stderr, "vmmctl: unknown verb '%s' (see vmmctl --help)\n", c.verb);
			ret = CTL_ERR_USAGE;
		} else {
			ret = do_simple(&c, i);
		}
	}
	curl_global_cleanup();
	return ret;
}
