// SPDX-License-Identifier: MIT
/*
 * Creates and registers the legacy platform devices (see legacy.h for the
 * port map) as one unit owned by vm->legacy.  The devices themselves only
 * get vm->port (vm_port.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "legacy.h"
#include "log.h"
#include "vm.h"

int legacy_devices_create(struct vm *vm)
{
	struct legacy_devices *ld;
	int ret;

	ld = calloc(1, sizeof(*ld));
	if (!ld)
		return -ENOMEM;
	ret = i8042_register(&ld->i8042, &vm->port);
	if (ret)
		goto err_free;
	ret = rtc_register(&ld->rtc, &vm->port);
	if (ret)
		goto err_i8042;
	ret = fwcfg_register(&ld->fwcfg, &vm->port);
	if (ret)
		goto err_rtc;
	ret = acpi_pm_register(&ld->pm, &vm->port);
	if (ret)
		goto err_fwcfg;
	ret = debug_exit_register(&vm->port);
	if (ret)
		goto err_pm;
	ld->have_debug_exit = true;
	ret = pvpanic_register(&vm->port);
	if (ret)
		goto err_debug_exit;
	ld->have_pvpanic = true;
	vm->legacy = ld;
	return 0;

err_debug_exit:
	debug_exit_unregister(&vm->port);
err_pm:
	acpi_pm_unregister(&ld->pm);
err_fwcfg:
	fwcfg_unregister(&ld->fwcfg);
err_rtc:
	rtc_unregister(&ld->rtc);
err_i8042:
	i8042_unregister(&ld->i8042);
err_free:
	free(ld);
	log_err("cannot register the legacy devices: %s", strerror(-ret));
	return ret;
}

void legacy_devices_destroy(struct vm *vm)
{
	struct legacy_devices *ld = vm->legacy;

	if (!ld)
		return;
	if (ld->have_pvpanic)
		pvpanic_unregister(&vm->port);
	if (ld->have_debug_exit)
		debug_exit_unregister(&vm->port);
	acpi_pm_unregister(&ld->pm);
	fwcfg_unregister(&ld->fwcfg);
	rtc_unregister(&ld->rtc);
	i8042_unregister(&ld->i8042);
	free(ld);
	vm->legacy = NULL;
}

/*
 * State: i8042, RTC, fw_cfg, ACPI PM in that order (debug-exit and pvpanic
 * have none: they act on the write itself).
 */
int legacy_devices_save(struct vm *vm, struct state_writer *w)
{
	struct legacy_devices *ld = vm->legacy;
	int ret;

	ret = i8042_save(&ld->i8042, w);
	if (!ret)
		ret = rtc_save(&ld->rtc, w);
	if (!ret)
		ret = fwcfg_save(&ld->fwcfg, w);
	if (!ret)
		ret = acpi_pm_save(&ld->pm, w);
	return ret;
}

int legacy_devices_restore(struct vm *vm, struct state_reader *r)
{
	struct legacy_devices *ld = vm->legacy;
	int ret;

	ret = i8042_restore(&ld->i8042, r);
	if (!ret)
		ret = rtc_restore(&ld->rtc, r);
	if (!ret)
		ret = fwcfg_restore(&ld->fwcfg, r);
	if (!ret)
		ret = acpi_pm_restore(&ld->pm, r);
	return ret;
}
