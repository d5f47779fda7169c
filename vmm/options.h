/* SPDX-License-Identifier: MIT */
/*
 * The command line, parsed into a plain struct (no KVM, unit-testable).
 */
#ifndef VMM_OPTIONS_H
#define VMM_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "block/block.h"
#include "sandbox/sandbox.h"
#include "net/net.h"

#define VMM_MAX_CPUS	64
#define VMM_MAX_DISKS	16
#define VMM_MAX_NICS	8

enum console_kind {
	CONSOLE_STDIO,	/* guest output to stdout, stdin to the guest */
	CONSOLE_NONE,	/* output dropped, no input */
	CONSOLE_FILE,	/* output appended to a file, no input */
};

enum on_reboot {
	ON_REBOOT_EXIT,		/* a guest reboot ends vmm with status 0 (default) */
	ON_REBOOT_RESTART,	/* a guest reboot boots the VM again in this process */
};

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;		/* NULL: the default below */
	bool flat;			/* --flat: raw binary at 0x7c00, real mode */
	bool guest_unpack;		/* --guest-unpack: bzImage decompresses itself */
	bool testdev;			/* --testdev: QEMU's pc-testdev (devices/testdev.h) */
	unsigned int cpus;
	uint64_t memory;		/* bytes */
	enum console_kind console;
	const char *console_path;	/* CONSOLE_FILE */
	struct disk_opts disks[VMM_MAX_DISKS];
	unsigned int nr_disks;
	enum on_reboot on_reboot;	/* --on-reboot exit|restart */
	struct net_opts nets[VMM_MAX_NICS];	/* --net: eth0, eth1, ... */
	unsigned int nr_nets;
	int verbosity;			/* -v count */

	/* the control socket (vmm/api, docs/control.md); not part of the VM's JSON */
	const char *name;		/* --name: socket in the runtime directory */
	const char *api_socket;		/* --api-socket PATH */
	const char *config_path;	/* --config FILE.json: the VM fields come from it */
	const char *event_monitor;	/* --event-monitor path=FILE|fd=N */

	enum sandbox_mode seccomp;	/* --seccomp on|log|off (0 = on) */

	/* snapshot restore (docs/snapshot.md): the VM fields come from the state file */
	const char *restore;		/* --restore file:///DIR[,memory=copy][,clock=wall] */
	bool resume;			/* --resume: the restored VM runs at once */
	const char *incoming;		/* --incoming unix:PATH|tcp:HOST:PORT (live migration) */
};

#define VMM_DEFAULT_CPUS	1
#define VMM_DEFAULT_MEMORY	(256ULL << 20)
#define VMM_DEFAULT_CMDLINE	"console=ttyS0"

enum opts_result {
	OPTS_RUN,	/* cfg filled, boot */
	OPTS_EXIT_OK,	/* --help / --version printed */
	OPTS_ERROR,	/* message printed; exit VMM_EXIT_USAGE */
};

/*
 * Parses argv into cfg.  Messages (help, version, errors) go to out/err.
 * Strings in cfg point into argv.
 */
enum opts_result opts_parse(int argc, char **argv, struct vm_config *cfg,
			    FILE *out, FILE *err);

/* --name: 1-64 of [A-Za-z0-9._-], not starting with '.' */
bool opts_name_valid(const char *name);
/* --event-monitor: "path=FILE" or "fd=N" */
bool opts_event_monitor_valid(const char *arg);

/*
 * "256M", "1G", "65536K", "1T", or plain bytes -> *bytes.  Suffixes K/M/G/T
 * (binary, case-insensitive, optional trailing 'B' or 'iB').  0 or -EINVAL
 * (garbage, zero, overflow).
 */
int parse_size(const char *s, uint64_t *bytes);

#endif
