// SPDX-License-Identifier: MIT
/*
 * Command-line parsing into struct vm_config.  Pure: no KVM, no files
 * opened, so every rule is unit-tested (tests/unit/test_options.c).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "options.h"
#include "version.h"

int parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B")))
		end += strlen(end);
	else if (!shift && !strcasecmp(end, "B"))
		end++;
	if (*end || !v)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vmm --kernel PATH [options]\n"
"Boot a Linux kernel or a tiny test guest in a KVM virtual machine.\n"
"\n"
"Options:\n"
"  --kernel PATH        kernel to boot: bzImage, ELF vmlinux with a PVH note,\n"
"                       or a multiboot (v1) ELF; with --flat, a raw binary\n"
"  --initrd PATH        initramfs (Linux), or the first multiboot module\n"
"  --cmdline STRING     kernel command line (default: \"" VMM_DEFAULT_CMDLINE "\")\n"
"  --cpus N             number of vCPUs, 1-%d (default: %d)\n"
"  --memory SIZE        guest RAM: 256M, 1G, 65536K or bytes (default: 256M)\n"
"  --console KIND       stdio (default): guest serial on stdout, stdin to the guest;\n"
"                       none: discard output; file:PATH: append output to PATH\n"
"  --disk OPTIONS       virtio-blk disk, repeatable (/dev/vda, /dev/vdb, ...):\n"
"                       path=FILE[,format=raw|qcow2][,readonly=on][,serial=S]\n"
"                       [,cache=writeback|none|writethrough|unsafe][,snapshot=on]\n"
"                       [,num-queues=N][,engine=auto|io_uring|threads]\n"
"                       format is probed when not given (unsafe for untrusted\n"
"                       raw images: give format=raw); engine auto = io_uring,\n"
"                       or a thread pool where io_uring is unavailable\n"
"  --net OPTIONS        virtio-net card, repeatable (eth0, eth1, ...):\n"
"                       tap=IFNAME[,mac=MAC][,vhost=auto|on|off][,queues=N]\n"
"                       fd=N[,mac=MAC][,queues=1]: a tap fd opened by a parent\n"
"                       user[,hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT]...\n"
"                       [,restrict=on]; MAC default: stable, locally administered\n"
"                       (see docs/net.md; a non-root user pre-creates the tap:\n"
"                       ip tuntap add IFNAME mode tap user $USER)\n"
"  --flat               load --kernel as a raw binary at 0x7c00 and start it in\n"
"                       real mode (CS:IP 0000:7C00)\n"
"  --guest-unpack       boot a bzImage through its own decompressor and hand\n"
"                       it the initrd as it is, as QEMU does (keeps the\n"
"                       guest's KASLR; slower).  Default: vmm unpacks\n"
"                       gzip/xz/lzma/lz4/zstd kernels on the host and starts\n"
"                       the kernel proper at its link address, and unpacks\n"
"                       gzip/zstd/xz/lzma initramfs archives to plain cpio\n"
"  --testdev            add QEMU's pc-testdev (ports 0xe0-0xeb, IRQ lines at\n"
"                       0x2000-0x2017, scratch memory at 0xff000000) for test\n"
"                       guests written for QEMU (docs/guest-tests.md)\n"
"  --on-reboot ACTION   what a guest reboot does: exit (default) ends vmm with\n"
"                       status 0; restart boots the VM again in this process\n"
"                       (kernel and initrd reloaded, disks kept open)\n"
"  --config FILE        the VM's configuration as JSON (docs/config.md) instead\n"
"                       of --kernel, --initrd, --cmdline, --cpus, --memory,\n"
"                       --console, --disk, --flat, --guest-unpack\n"
"  --name NAME          open the control socket $XDG_RUNTIME_DIR/vmm/NAME.sock\n"
"                       (/run/vmm/NAME.sock for root) for vmmctl (docs/control.md)\n"
"  --api-socket PATH    open the control socket at PATH\n"
"                       with --name or --api-socket and no --kernel/--config,\n"
"                       vmm waits for the vm.create and vm.boot requests\n"
"  --event-monitor path=FILE|fd=N\n"
"                       write the VM's events as JSON lines to FILE or fd N\n"
"  --restore file:///DIR[,memory=copy][,clock=wall]\n"
"                       bring back the VM that vmmctl snapshot wrote to DIR\n"
"                       (docs/snapshot.md), paused: memory=copy reads RAM in\n"
"                       instead of mapping the file; clock=wall advances the\n"
"                       guest's clock by the time spent saved.  Only\n"
"                       --console, --name, --api-socket go with it\n"
"  --resume             with --restore: run the VM at once, not paused\n"
"  --incoming unix:PATH|tcp:HOST:PORT\n"
"                       wait there for a VM that vmmctl migrate sends, then\n"
"                       run it (docs/migration.md)\n"
"  --seccomp MODE       on (default): each thread may make only the system\n"
"                       calls its role needs, any other ends vmm with status\n"
"                       18; log: allow them but log them to the kernel log;\n"
"                       off: no filters (docs/sandbox.md)\n"
"  -v, --verbose        more messages on stderr (repeat for debug)\n"
"  -q, --quiet          errors only\n"
"  -h, --help           this help\n"
"  -V, --version        print the version\n"
"\n"
"Console: when stdin is a terminal it is put in raw mode; press Ctrl-A x to\n"
"quit, Ctrl-A Ctrl-A to send Ctrl-A.\n"
"\n"
"Exit status (a contract, see docs/exit-status.md):\n"
"  0        the guest powered off or rebooted, or Ctrl-A x\n"
"  odd N    the guest wrote v to the debug-exit port 0xf4: N = (v << 1) | 1\n"
"  2        bad command line          4   host error (KVM, files)\n"
"  6        guest kernel panic        8   guest triple fault\n"
"  10       KVM internal error or unhandled VM exit\n"
"  12       guest halted for good: every vCPU in HLT with interrupts off\n"
"  14       quit from the control socket\n"
"  16       powerdown timed out (the VM was quit)\n"
"  18       a thread made a system call its seccomp filter forbids\n"
"  20       --restore refused the state file (format, damage, memory, host)\n"
"  128+N    vmm stopped by signal N\n"
"\n"
"Examples:\n"
"  vmm --kernel /boot/vmlinuz-$(uname -r) --initrd initrd.img \\\n"
"      --cmdline \"console=ttyS0\" --cpus 2 --memory 1G\n"
"  vmm --kernel build/guest-tests/hello.elf --console none; echo $?\n"
"  vmm --kernel bzImage --disk path=disk.qcow2 --disk path=data.img,format=raw\n"
"  vmm --kernel bzImage --initrd initrd.img --net user,hostfwd=tcp::2222-:22\n",
		VMM_MAX_CPUS, VMM_DEFAULT_CPUS);
}

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_CPUS,
	OPT_MEMORY,
	OPT_CONSOLE,
	OPT_DISK,
	OPT_NET,
	OPT_FLAT,
	OPT_GUEST_UNPACK,
	OPT_TESTDEV,
	OPT_ON_REBOOT,
	OPT_NAME,
	OPT_API_SOCKET,
	OPT_CONFIG,
	OPT_EVENT_MONITOR,
	OPT_SECCOMP,
	OPT_RESTORE,
	OPT_RESUME,
	OPT_INCOMING,
};

static const struct option long_opts[] = {
	{ "kernel",  required_argument, NULL, OPT_KERNEL },
	{ "initrd",  required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "cpus",    required_argument, NULL, OPT_CPUS },
	{ "memory",  required_argument, NULL, OPT_MEMORY },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "disk",    required_argument, NULL, OPT_DISK },
	{ "net",     required_argument, NULL, OPT_NET },
	{ "flat",    no_argument,       NULL, OPT_FLAT },
	{ "guest-unpack", no_argument,  NULL, OPT_GUEST_UNPACK },
	{ "testdev", no_argument,       NULL, OPT_TESTDEV },
	{ "on-reboot", required_argument, NULL, OPT_ON_REBOOT },
	{ "name",    required_argument, NULL, OPT_NAME },
	{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
	{ "config",  required_argument, NULL, OPT_CONFIG },
	{ "event-monitor", required_argument, NULL, OPT_EVENT_MONITOR },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "resume",  no_argument,       NULL, OPT_RESUME },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "verbose", no_argument,       NULL, 'v' },
	{ "quiet",   no_argument,       NULL, 'q' },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_MEMORY	(1ULL << 40)	/* 1 TiB: a sanity bound, not a promise */

bool opts_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > 64 || name[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return false;
	}
	return true;
}

bool opts_event_monitor_valid(const char *arg)
{
	const char *s;

	if (!strncmp(arg, "path=", 5))
		return arg[5] != '\0';
	if (strncmp(arg, "fd=", 3) || !arg[3] || strlen(arg) > 12)
		return false;
	for (s = arg + 3; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
	}
	return true;
}

enum opts_result opts_parse(int argc, char **argv, struct vm_config *cfg,
			    FILE *out, FILE *err)
{
	bool vm_opts = false;	/* any option --config replaces */
	char msg[512];
	char *end;
	long n;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = VMM_DEFAULT_CPUS;
	cfg->memory = VMM_DEFAULT_MEMORY;
	cfg->console = CONSOLE_STDIO;

	optind = 0;	/* full re-initialisation, so tests can call us repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqhV", long_opts, NULL)) != -1) {
		if (c >= OPT_KERNEL && c <= OPT_GUEST_UNPACK)
			vm_opts = true;
		switch (c) {
		case OPT_KERNEL:
			cfg->kernel = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_CPUS:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > VMM_MAX_CPUS) {
				fprintf(err, "vmm: --cpus: '%s' is not a number from 1 to %d\n",
					optarg, VMM_MAX_CPUS);
				return OPTS_ERROR;
			}
			cfg->cpus = (unsigned int)n;
			break;
		case OPT_MEMORY:
			if (parse_size(optarg, &cfg->memory) ||
			    cfg->memory < (16ULL << 20) || cfg->memory > MAX_MEMORY) {
				fprintf(err, "vmm: --memory: '%s' is not a size from 16M to 1T "
					"(examples: 256M, 1G, 65536K, 268435456)\n", optarg);
				return OPTS_ERROR;
			}
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "stdio")) {
				cfg->console = CONSOLE_STDIO;
			} else if (!strcmp(optarg, "none")) {
				cfg->console = CONSOLE_NONE;
			} else if (!strncmp(optarg, "file:", 5) && optarg[5]) {
				cfg->console = CONSOLE_FILE;
				cfg->console_path = optarg + 5;
			} else {
				fprintf(err, "vmm: --console: '%s' is not stdio, none or file:PATH\n",
					optarg);
				return OPTS_ERROR;
			}
			break;
		case OPT_DISK:
			if (cfg->nr_disks == VMM_MAX_DISKS) {
				fprintf(err, "vmm: --disk: at most %d disks\n", VMM_MAX_DISKS);
				return OPTS_ERROR;
			}
			if (disk_opts_parse(optarg, &cfg->disks[cfg->nr_disks], msg, sizeof(msg))) {
				fprintf(err, "vmm: %s\n", msg);
				return OPTS_ERROR;
			}
			cfg->nr_disks++;
			break;
		case OPT_NET:
			if (cfg->nr_nets == VMM_MAX_NICS) {
				fprintf(err, "vmm: --net: at most %d network cards\n", VMM_MAX_NICS);
				return OPTS_ERROR;
			}
			if (net_opts_parse(optarg, &cfg->nets[cfg->nr_nets], msg, sizeof(msg))) {
				fprintf(err, "vmm: %s\n", msg);
				return OPTS_ERROR;
			}
			cfg->nr_nets++;
			break;
		case OPT_FLAT:
			cfg->flat = true;
			break;
		case OPT_GUEST_UNPACK:
			cfg->guest_unpack = true;
			break;
		case OPT_TESTDEV:
			cfg->testdev = true;
			break;
		case OPT_ON_REBOOT:
			if (!strcmp(optarg, "exit")) {
				cfg->on_reboot = ON_REBOOT_EXIT;
			} else if (!strcmp(optarg, "restart")) {
				cfg->on_reboot = ON_REBOOT_RESTART;
			} else {
				fprintf(err, "vmm: --on-reboot: '%s' is not exit or restart\n", optarg);
				return OPTS_ERROR;
			}
			break;
		case OPT_NAME:
			if (!opts_name_valid(optarg)) {
				fprintf(err, "vmm: --name: '%s' is not 1-64 letters, digits, '.', '_' "
					"or '-' (not starting with '.')\n", optarg);
				return OPTS_ERROR;
			}
			cfg->name = optarg;
			break;
		case OPT_API_SOCKET:
			cfg->api_socket = optarg;
			break;
		case OPT_CONFIG:
			cfg->config_path = optarg;
			break;
		case OPT_EVENT_MONITOR:
			if (!opts_event_monitor_valid(optarg)) {
				fprintf(err, "vmm: --event-monitor: '%s' is not path=FILE or fd=N\n",
					optarg);
				return OPTS_ERROR;
			}
			cfg->event_monitor = optarg;
			break;
		case OPT_SECCOMP:
			if (sandbox_parse_mode(optarg, &cfg->seccomp)) {
				fprintf(err, "vmm: --seccomp: '%s' is not on, log or off\n", optarg);
				return OPTS_ERROR;
			}
			break;
		case OPT_RESTORE:
			if (strncmp(optarg, "file:///", 8)) {
				fprintf(err, "vmm: --restore: '%s' is not file:///DIR[,memory=copy]"
					"[,clock=wall]\n", optarg);
				return OPTS_ERROR;
			}
			cfg->restore = optarg;
			break;
		case OPT_RESUME:
			cfg->resume = true;
			break;
		case OPT_INCOMING:
			if (strncmp(optarg, "unix:", 5) && strncmp(optarg, "tcp:", 4)) {
				fprintf(err, "vmm: --incoming: '%s' is not unix:PATH or "
					"tcp:HOST:PORT\n", optarg);
				return OPTS_ERROR;
			}
			cfg->incoming = optarg;
			break;
		case 'v':
			cfg->verbosity++;
			break;
		case 'q':
			cfg->verbosity = -1;
			break;
		case 'h':
			usage(out);
			return OPTS_EXIT_OK;
		case 'V':
			fprintf(out, "vmm %s\n", VMM_VERSION);
			return OPTS_EXIT_OK;
		case ':':
			fprintf(err, "vmm: %s needs a value (see vmm --help)\n", argv[optind - 1]);
			return OPTS_ERROR;
		default:
			fprintf(err, "vmm: unknown option '%s' (see vmm --help)\n", argv[optind - 1]);
			return OPTS_ERROR;
		}
	}
	if (optind < argc) {
		fprintf(err, "vmm: unexpected argument '%s' (options start with --; see vmm --help)\n",
			argv[optind]);
		return OPTS_ERROR;
	}
	if (cfg->name && cfg->api_socket) {
		fprintf(err, "vmm: give --name or --api-socket, not both\n");
		return OPTS_ERROR;
	}
	if (cfg->config_path && vm_opts) {
		fprintf(err, "vmm: --config gives the whole VM: it cannot be combined with "
			"--kernel, --initrd, --cmdline, --cpus, --memory, --console, --disk, "
			"--flat or --guest-unpack\n");
		return OPTS_ERROR;
	}
	if (cfg->resume && !cfg->restore) {
		fprintf(err, "vmm: --resume goes with --restore\n");
		return OPTS_ERROR;
	}
	if (cfg->incoming && cfg->restore) {
		fprintf(err, "vmm: give --restore or --incoming, not both\n");
		return OPTS_ERROR;
	}
	if (cfg->restore || cfg->incoming) {
		/* the state file gives the whole VM; only the console is this process's */
		if (cfg->config_path || cfg->kernel || cfg->initrd || cfg->cmdline || cfg->flat ||
		    cfg->guest_unpack || cfg->testdev || cfg->nr_disks || cfg->nr_nets ||
		    cfg->cpus != VMM_DEFAULT_CPUS || cfg->memory != VMM_DEFAULT_MEMORY) {
			fprintf(err, "vmm: --restore and --incoming bring the whole VM: they cannot be "
				"combined with --config, --kernel, --initrd, --cmdline, --cpus, "
				"--memory, --disk, --net, --flat, --guest-unpack or --testdev\n");
			return OPTS_ERROR;
		}
		return OPTS_RUN;
	}
	if (cfg->config_path || (!vm_opts && (cfg->name || cfg->api_socket)))
		return OPTS_RUN;	/* the VM comes from the file, or from vm.create */
	if (!cfg->kernel) {
		fprintf(err, "vmm: no kernel given: use --kernel PATH (see vmm --help)\n");
		return OPTS_ERROR;
	}
	if (cfg->flat && cfg->initrd) {
		fprintf(err, "vmm: --initrd cannot be used with --flat\n");
		return OPTS_ERROR;
	}
	if (!cfg->cmdline)
		cfg->cmdline = VMM_DEFAULT_CMDLINE;
	return OPTS_RUN;
}
