# acpid: busybox acpid powers the guest off when the ACPI power button is
# pressed (vmm's Generic Event Device -> \_SB.PWRB -> the button driver ->
# KEY_POWER on /dev/input/event* -> /etc/acpi/PWRF/00000080).  Runs until
# the button comes; the harness presses it (vmmctl powerdown) after
# "VMMTEST acpid-ready".
mkdir -p /etc/acpi/PWRF
cat >/etc/acpi/PWRF/00000080 <<'SCRIPT'
#!/bin/sh
echo "VMMTEST acpid-power-button"
poweroff -f
SCRIPT
chmod +x /etc/acpi/PWRF/00000080
echo "VMMTEST power-button-input=$(grep -c 'Power Button' /proc/bus/input/devices)"
# the GED's button (ACPI0013 -> PNP0C0C), bound by the ACPI button driver
echo "VMMTEST power-button-pnp=$(grep -c "Phys=PNP0C0C/button" /proc/bus/input/devices)"
acpid -d -c /etc/acpi &
sleep 1
echo "VMMTEST acpid-ready"
sleep 600
