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
	{ "verbose", no_argument,       NULL, 'v' },
	{ "quiet",   no_argument,       NULL, 'q' },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_MEMORY	(1ULL << 40)	/* 1 TiB: a sanity bound, not a promise */

enum opts_result opts_parse(int argc, char **argv, struct vm_config *cfg,
			    FILE *out, FILE *err)
{
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
