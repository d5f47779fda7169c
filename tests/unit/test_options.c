// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

static struct vm_config cfg;

static enum opts_result parse(const char *line, char *errbuf, size_t errlen)
{
	static char buf[4096];
	static char *argv[64];
	int argc = 0;
	char *tok, *save = NULL;
	FILE *out = fopen("/dev/null", "w");
	FILE *err = fmemopen(errbuf, errlen, "w");
	enum opts_result r;

	snprintf(buf, sizeof(buf), "vmm %s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	r = opts_parse(argc, argv, &cfg, out, err);
	fclose(out);
	fclose(err);
	return r;
}

Test(size, suffixes)
{
	uint64_t v;

	cr_assert_eq(parse_size("256M", &v), 0); cr_assert_eq(v, 256ULL << 20);
	cr_assert_eq(parse_size("1G", &v), 0); cr_assert_eq(v, 1ULL << 30);
	cr_assert_eq(parse_size("65536K", &v), 0); cr_assert_eq(v, 64ULL << 20);
	cr_assert_eq(parse_size("268435456", &v), 0); cr_assert_eq(v, 268435456ULL);
	cr_assert_eq(parse_size("2g", &v), 0); cr_assert_eq(v, 2ULL << 30);
	cr_assert_eq(parse_size("512MiB", &v), 0); cr_assert_eq(v, 512ULL << 20);
	cr_assert_eq(parse_size("1T", &v), 0); cr_assert_eq(v, 1ULL << 40);
}

Test(size, garbage)
{
	uint64_t v = 7;

	cr_assert_eq(parse_size("", &v), -EINVAL);
	cr_assert_eq(parse_size("M", &v), -EINVAL);
	cr_assert_eq(parse_size("12X", &v), -EINVAL);
	cr_assert_eq(parse_size("-1G", &v), -EINVAL);
	cr_assert_eq(parse_size("0", &v), -EINVAL);
	cr_assert_eq(parse_size("1GG", &v), -EINVAL);
	cr_assert_eq(parse_size("99999999999999999999", &v), -EINVAL);
	cr_assert_eq(parse_size("17179869184G", &v), -EINVAL);	/* 2^64 bytes */
	cr_assert_eq(v, 7);
}

Test(options, defaults)
{
	char err[256] = "";

	cr_assert_eq(parse("--kernel k", err, sizeof(err)), OPTS_RUN);
	cr_assert_str_eq(cfg.kernel, "k");
	cr_assert_eq(cfg.cpus, 1);
	cr_assert_eq(cfg.memory, 256ULL << 20);
	cr_assert_eq(cfg.console, CONSOLE_STDIO);
	cr_assert_str_eq(cfg.cmdline, VMM_DEFAULT_CMDLINE);
	cr_assert_null(cfg.initrd);
}

Test(options, all)
{
	char err[256] = "";

	cr_assert_eq(parse("--kernel k --initrd i --cmdline quiet --cpus 4 --memory 1G "
			   "--console file:/tmp/log -v -v", err, sizeof(err)), OPTS_RUN);
	cr_assert_str_eq(cfg.initrd, "i");
	cr_assert_str_eq(cfg.cmdline, "quiet");
	cr_assert_eq(cfg.cpus, 4);
	cr_assert_eq(cfg.memory, 1ULL << 30);
	cr_assert_eq(cfg.console, CONSOLE_FILE);
	cr_assert_str_eq(cfg.console_path, "/tmp/log");
	cr_assert_eq(cfg.verbosity, 2);
}

Test(options, errors_name_the_option)
{
	static const struct { const char *line; const char *needle; } cases[] = {
		{ "--kernel k --cpus 0", "--cpus: '0'" },
		{ "--kernel k --cpus 65", "--cpus: '65'" },
		{ "--kernel k --cpus two", "--cpus: 'two'" },
		{ "--kernel k --memory 12X", "--memory: '12X'" },
		{ "--kernel k --memory 1M", "--memory: '1M'" },
		{ "--kernel k --console tty", "--console: 'tty'" },
		{ "--kernel k --console file:", "--console: 'file:'" },
		{ "--kernel k --bogus", "unknown option '--bogus'" },
		{ "--kernel k extra", "unexpected argument 'extra'" },
		{ "--cpus 2", "no kernel given" },
		{ "--kernel", "--kernel needs a value" },
		{ "--kernel k --flat --initrd i", "--initrd cannot be used with --flat" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";

		cr_assert_eq(parse(cases[i].line, err, sizeof(err)), OPTS_ERROR, "%s", cases[i].line);
		cr_assert(strstr(err, cases[i].needle), "'%s' gave '%s'", cases[i].line, err);
	}
}

Test(options, help_and_version)
{
	char err[256] = "";

	cr_assert_eq(parse("--help", err, sizeof(err)), OPTS_EXIT_OK);
	cr_assert_eq(parse("--version", err, sizeof(err)), OPTS_EXIT_OK);
	cr_assert_eq(parse("-h", err, sizeof(err)), OPTS_EXIT_OK);
}

Test(options, testdev)
{
	char err[256] = "";

	cr_assert_eq(parse("--kernel k", err, sizeof(err)), OPTS_RUN);
	cr_assert_not(cfg.testdev, "pc-testdev only when asked for");
	cr_assert_eq(parse("--kernel k --testdev", err, sizeof(err)), OPTS_RUN);
	cr_assert(cfg.testdev);
}

Test(options, on_reboot)
{
	char e[256] = "";

	cr_assert_eq(parse("--kernel k", e, sizeof(e)), OPTS_RUN);
	cr_assert_eq(cfg.on_reboot, ON_REBOOT_EXIT);
	cr_assert_eq(parse("--kernel k --on-reboot restart", e, sizeof(e)), OPTS_RUN);
	cr_assert_eq(cfg.on_reboot, ON_REBOOT_RESTART);
	cr_assert_eq(parse("--kernel k --on-reboot exit", e, sizeof(e)), OPTS_RUN);
	cr_assert_eq(cfg.on_reboot, ON_REBOOT_EXIT);
	cr_assert_eq(parse("--kernel k --on-reboot reboot", e, sizeof(e)), OPTS_ERROR);
	cr_assert(strstr(e, "--on-reboot: 'reboot' is not exit or restart"), "got: %s", e);
}

Test(options, seccomp_modes)
{
	char e[256] = "";

	cr_assert_eq(parse("--kernel k", e, sizeof(e)), OPTS_RUN);
	cr_assert_eq(cfg.seccomp, SANDBOX_ON, "filters are on by default");
	cr_assert_eq(parse("--kernel k --seccomp log", e, sizeof(e)), OPTS_RUN);
	cr_assert_eq(cfg.seccomp, SANDBOX_LOG);
	cr_assert_eq(parse("--kernel k --seccomp off", e, sizeof(e)), OPTS_RUN);
	cr_assert_eq(cfg.seccomp, SANDBOX_OFF);
	cr_assert_eq(parse("--kernel k --seccomp maybe", e, sizeof(e)), OPTS_ERROR);
	cr_assert(strstr(e, "--seccomp: 'maybe' is not on, log or off"), "%s", e);
}
