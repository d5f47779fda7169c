# SPDX-License-Identifier: MIT
# The control socket with two VMs (docs/control.md), in one case to share
# boot time:
#   * B (--name ctl-b) runs busybox acpid; the guest's ACPI button driver
#     must have bound the GED's power button (PNP0C0C).
#   * A (--name ctl-a) starts empty; vm.create + vm.boot (curl) boot it,
#     with on_reboot=restart.
#   * vmmctl list shows both VMs Running.
#   * vmmctl reboot ctl-a: acpid powers the guest off, which the pending
#     reboot turns into a second boot in the same process.
#   * vmmctl powerdown of each: acpid powers off, vmm exits 0.
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/ctl-lib.sh"
ctl_skip_qemu ctl-vms
la=$OUTDIR/ctl-vms-a.log
lb=$OUTDIR/ctl-vms-b.log
log=$OUTDIR/ctl-vms.log
rc=-
t0=$(date +%s)
pa=
pb=

bad() {
	[ -n "$pa" ] && kill "$pa" 2>/dev/null
	[ -n "$pb" ] && kill "$pb" 2>/dev/null
	elapsed=$(($(date +%s) - t0))
	{
		echo "== vmm ctl-a (empty, then vm.create + vm.boot) =="
		cat "$la" 2>/dev/null
		echo "== vmm ctl-b (acpid) =="
		cat "$lb" 2>/dev/null
		echo "== vmmctl =="
		cat "$OUTDIR/ctl-vms.ctl" 2>/dev/null
	} >"$log"
	fail ctl-vms "$@"
	exit 0
}

api() {	# api NAME METHOD ENDPOINT [BODY]: prints the HTTP status
	curl -s -o "$OUTDIR/ctl-vms.body" -w '%{http_code}' --max-time 60 \
		--unix-socket "/run/vmm/$1.sock" -X "$2" ${4:+-d "$4"} \
		"http://localhost/api/v1/$3"
}

ctl_start "$lb" $(ctl_guest_args) --cmdline "$GUEST_CMDLINE vmmtest=acpid" --name ctl-b
pb=$bgpid
ctl_start "$la" --name ctl-a
pa=$bgpid

# the empty vmm answers at once
i=0
while ! "$VMMCTL" ping ctl-a >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 30 ] || bad "the empty vmm ctl-a never answered vmmctl ping"
	sleep 1
done
"$VMMCTL" info ctl-a >"$OUTDIR/ctl-vms.ctl" 2>&1
grep -q '^State: *Created' "$OUTDIR/ctl-vms.ctl" || bad "the empty vmm is not in state Created"

bgwait=$pb wait_log "$lb" "VMMTEST acpid-ready" 200 || bad "guest B never said acpid-ready"
[ "$(value_in "$lb" power-button-pnp)" = 1 ] ||
	bad "guest B's ACPI button driver has no PNP0C0C power button (power-button-pnp=$(value_in "$lb" power-button-pnp))"

cfg="{\"payload\": {\"kernel\": \"$GUEST_KERNEL\", \"initramfs\": \"$GUEST_INITRD\",
 \"cmdline\": \"$GUEST_CMDLINE vmmtest=acpid\"}, \"cpus\": {\"boot_vcpus\": $GUEST_CPUS},
 \"memory\": {\"size\": 536870912}, \"on_reboot\": \"restart\"}"
st=$(api ctl-a PUT vm.create "$cfg")
[ "$st" = 204 ] || bad "vm.create answered $st: $(cat "$OUTDIR/ctl-vms.body")"
st=$(api ctl-a PUT vm.boot)
[ "$st" = 204 ] || bad "vm.boot answered $st: $(cat "$OUTDIR/ctl-vms.body")"
bgwait=$pa wait_log "$la" "VMMTEST acpid-ready" 200 || bad "guest A (vm.create + vm.boot) never said acpid-ready"

"$VMMCTL" list >"$OUTDIR/ctl-vms.ctl" 2>&1
cat "$OUTDIR/ctl-vms.ctl"
grep -q '^ctl-a .* Running ' "$OUTDIR/ctl-vms.ctl" &&
	grep -q '^ctl-b .* Running ' "$OUTDIR/ctl-vms.ctl" ||
	bad "vmmctl list does not show ctl-a and ctl-b Running"
"$VMMCTL" list --json | grep -q '"name":"ctl-b"' || bad "vmmctl list --json has no ctl-b"

# vmmctl reboot: the power button, acpid's poweroff becomes a reboot
"$VMMCTL" reboot ctl-a >>"$OUTDIR/ctl-vms.ctl" 2>&1 || bad "vmmctl reboot ctl-a failed"
bgwait=$pa wait_log "$la" "VMMTEST acpid-ready" 200 2 || bad "guest A did not boot again after vmmctl reboot"
[ "$(count_in "$la" "VMMTEST init-start")" = 2 ] || bad "guest A: not exactly two boots"

"$VMMCTL" powerdown ctl-b >>"$OUTDIR/ctl-vms.ctl" 2>&1 || bad "vmmctl powerdown ctl-b failed"
wait_exit "$pb" 120
pb=
[ "$rc" = 0 ] || bad "vmm ctl-b exited $rc after the power button, want 0"
grep -q "VMMTEST acpid-power-button" "$lb" || bad "acpid in guest B never saw the power button"
grep -q "reboot: Power down" "$lb" || bad "guest B did not power down"

"$VMMCTL" powerdown ctl-a >>"$OUTDIR/ctl-vms.ctl" 2>&1 || bad "vmmctl powerdown ctl-a failed"
wait_exit "$pa" 120
pa=
[ "$rc" = 0 ] || bad "vmm ctl-a exited $rc after the power button, want 0"
[ "$(count_in "$la" "VMMTEST acpid-power-button")" = 2 ] || bad "acpid in guest A did not see two power-button presses"
elapsed=$(($(date +%s) - t0))
pass ctl-vms
