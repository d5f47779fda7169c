/* SPDX-License-Identifier: MIT */
/*
 * vmm DSDT: the devices the guest cannot discover by itself.
 *
 * Compiled by iasl at build time into firmware_dsdt_aml[] and copied into
 * guest memory by acpi_build() (vmm/boot/acpi.c).  ASL cannot include
 * vmm/mem/layout.h (C integer suffixes), so the addresses below repeat it;
 * tests/unit/test_acpi.c checks the compiled AML against layout.h.
 *
 *   LAYOUT_PCI_MMIO_START  0xc0000000    LAYOUT_PCI_MMIO_END  0xfec00000
 *   PORT_COM1 0x3f8 / GSI_COM1 4         PORT_PVPANIC 0x505
 *   PORT_GED 0x3c4 / GSI_GED 5
 *   GSI_PCI_BASE 16, GSI_PCI_COUNT 8: slot s, any pin -> GSI 16 + (s % 8)
 */
DefinitionBlock ("dsdt.aml", "DSDT", 2, "VMM   ", "VMMDSDT ", 0x00000001)
{
	/* Sleep type 5 for S5 (soft off): SLP_EN | (5 << 2) to the sleep control port. */
	Name (\_S5, Package (0x04) { 0x05, 0x00, 0x00, 0x00 })

	Scope (\_SB)
	{
		Device (PCI0)
		{
			Name (_HID, EisaId ("PNP0A03"))
			Name (_SEG, Zero)
			Name (_BBN, Zero)
			Name (_UID, Zero)
			Name (_CRS, ResourceTemplate ()
			{
				WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
					0x0000, 0x0000, 0x0000, 0x0000, 0x0001)
				IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
				WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
					0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
				WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
					0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
				DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
					NonCacheable, ReadWrite,
					0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
			})

			/* Slot s, pins INTA..INTD -> GSI 16 + (s % 8); source 0: GSI used directly. */
			Name (_PRT, Package ()
			{
				Package () { 0x0000FFFF, 0, Zero, 16 },
				Package () { 0x0000FFFF, 1, Zero, 16 },
				Package () { 0x0000FFFF, 2, Zero, 16 },
				Package () { 0x0000FFFF, 3, Zero, 16 },
				Package () { 0x0001FFFF, 0, Zero, 17 },
				Package () { 0x0001FFFF, 1, Zero, 17 },
				Package () { 0x0001FFFF, 2, Zero, 17 },
				Package () { 0x0001FFFF, 3, Zero, 17 },
				Package () { 0x0002FFFF, 0, Zero, 18 },
				Package () { 0x0002FFFF, 1, Zero, 18 },
				Package () { 0x0002FFFF, 2, Zero, 18 },
				Package () { 0x0002FFFF, 3, Zero, 18 },
				Package () { 0x0003FFFF, 0, Zero, 19 },
				Package () { 0x0003FFFF, 1, Zero, 19 },
				Package () { 0x0003FFFF, 2, Zero, 19 },
				Package () { 0x0003FFFF, 3, Zero, 19 },
				Package () { 0x0004FFFF, 0, Zero, 20 },
				Package () { 0x0004FFFF, 1, Zero, 20 },
				Package () { 0x0004FFFF, 2, Zero, 20 },
				Package () { 0x0004FFFF, 3, Zero, 20 },
				Package () { 0x0005FFFF, 0, Zero, 21 },
				Package () { 0x0005FFFF, 1, Zero, 21 },
				Package () { 0x0005FFFF, 2, Zero, 21 },
				Package () { 0x0005FFFF, 3, Zero, 21 },
				Package () { 0x0006FFFF, 0, Zero, 22 },
				Package () { 0x0006FFFF, 1, Zero, 22 },
				Package () { 0x0006FFFF, 2, Zero, 22 },
				Package () { 0x0006FFFF, 3, Zero, 22 },
				Package () { 0x0007FFFF, 0, Zero, 23 },
				Package () { 0x0007FFFF, 1, Zero, 23 },
				Package () { 0x0007FFFF, 2, Zero, 23 },
				Package () { 0x0007FFFF, 3, Zero, 23 },
				Package () { 0x0008FFFF, 0, Zero, 16 },
				Package () { 0x0008FFFF, 1, Zero, 16 },
				Package () { 0x0008FFFF, 2, Zero, 16 },
				Package () { 0x0008FFFF, 3, Zero, 16 },
				Package () { 0x0009FFFF, 0, Zero, 17 },
				Package () { 0x0009FFFF, 1, Zero, 17 },
				Package () { 0x0009FFFF, 2, Zero, 17 },
				Package () { 0x0009FFFF, 3, Zero, 17 },
				Package () { 0x000AFFFF, 0, Zero, 18 },
				Package () { 0x000AFFFF, 1, Zero, 18 },
				Package () { 0x000AFFFF, 2, Zero, 18 },
				Package () { 0x000AFFFF, 3, Zero, 18 },
				Package () { 0x000BFFFF, 0, Zero, 19 },
				Package () { 0x000BFFFF, 1, Zero, 19 },
				Package () { 0x000BFFFF, 2, Zero, 19 },
				Package () { 0x000BFFFF, 3, Zero, 19 },
				Package () { 0x000CFFFF, 0, Zero, 20 },
				Package () { 0x000CFFFF, 1, Zero, 20 },
				Package () { 0x000CFFFF, 2, Zero, 20 },
				Package () { 0x000CFFFF, 3, Zero, 20 },
				Package () { 0x000DFFFF, 0, Zero, 21 },
				Package () { 0x000DFFFF, 1, Zero, 21 },
				Package () { 0x000DFFFF, 2, Zero, 21 },
				Package () { 0x000DFFFF, 3, Zero, 21 },
				Package () { 0x000EFFFF, 0, Zero, 22 },
				Package () { 0x000EFFFF, 1, Zero, 22 },
				Package () { 0x000EFFFF, 2, Zero, 22 },
				Package () { 0x000EFFFF, 3, Zero, 22 },
				Package () { 0x000FFFFF, 0, Zero, 23 },
				Package () { 0x000FFFFF, 1, Zero, 23 },
				Package () { 0x000FFFFF, 2, Zero, 23 },
				Package () { 0x000FFFFF, 3, Zero, 23 },
				Package () { 0x0010FFFF, 0, Zero, 16 },
				Package () { 0x0010FFFF, 1, Zero, 16 },
				Package () { 0x0010FFFF, 2, Zero, 16 },
				Package () { 0x0010FFFF, 3, Zero, 16 },
				Package () { 0x0011FFFF, 0, Zero, 17 },
				Package () { 0x0011FFFF, 1, Zero, 17 },
				Package () { 0x0011FFFF, 2, Zero, 17 },
				Package () { 0x0011FFFF, 3, Zero, 17 },
				Package () { 0x0012FFFF, 0, Zero, 18 },
				Package () { 0x0012FFFF, 1, Zero, 18 },
				Package () { 0x0012FFFF, 2, Zero, 18 },
				Package () { 0x0012FFFF, 3, Zero, 18 },
				Package () { 0x0013FFFF, 0, Zero, 19 },
				Package () { 0x0013FFFF, 1, Zero, 19 },
				Package () { 0x0013FFFF, 2, Zero, 19 },
				Package () { 0x0013FFFF, 3, Zero, 19 },
				Package () { 0x0014FFFF, 0, Zero, 20 },
				Package () { 0x0014FFFF, 1, Zero, 20 },
				Package () { 0x0014FFFF, 2, Zero, 20 },
				Package () { 0x0014FFFF, 3, Zero, 20 },
				Package () { 0x0015FFFF, 0, Zero, 21 },
				Package () { 0x0015FFFF, 1, Zero, 21 },
				Package () { 0x0015FFFF, 2, Zero, 21 },
				Package () { 0x0015FFFF, 3, Zero, 21 },
				Package () { 0x0016FFFF, 0, Zero, 22 },
				Package () { 0x0016FFFF, 1, Zero, 22 },
				Package () { 0x0016FFFF, 2, Zero, 22 },
				Package () { 0x0016FFFF, 3, Zero, 22 },
				Package () { 0x0017FFFF, 0, Zero, 23 },
				Package () { 0x0017FFFF, 1, Zero, 23 },
				Package () { 0x0017FFFF, 2, Zero, 23 },
				Package () { 0x0017FFFF, 3, Zero, 23 },
				Package () { 0x0018FFFF, 0, Zero, 16 },
				Package () { 0x0018FFFF, 1, Zero, 16 },
				Package () { 0x0018FFFF, 2, Zero, 16 },
				Package () { 0x0018FFFF, 3, Zero, 16 },
				Package () { 0x0019FFFF, 0, Zero, 17 },
				Package () { 0x0019FFFF, 1, Zero, 17 },
				Package () { 0x0019FFFF, 2, Zero, 17 },
				Package () { 0x0019FFFF, 3, Zero, 17 },
				Package () { 0x001AFFFF, 0, Zero, 18 },
				Package () { 0x001AFFFF, 1, Zero, 18 },
				Package () { 0x001AFFFF, 2, Zero, 18 },
				Package () { 0x001AFFFF, 3, Zero, 18 },
				Package () { 0x001BFFFF, 0, Zero, 19 },
				Package () { 0x001BFFFF, 1, Zero, 19 },
				Package () { 0x001BFFFF, 2, Zero, 19 },
				Package () { 0x001BFFFF, 3, Zero, 19 },
				Package () { 0x001CFFFF, 0, Zero, 20 },
				Package () { 0x001CFFFF, 1, Zero, 20 },
				Package () { 0x001CFFFF, 2, Zero, 20 },
				Package () { 0x001CFFFF, 3, Zero, 20 },
				Package () { 0x001DFFFF, 0, Zero, 21 },
				Package () { 0x001DFFFF, 1, Zero, 21 },
				Package () { 0x001DFFFF, 2, Zero, 21 },
				Package () { 0x001DFFFF, 3, Zero, 21 },
				Package () { 0x001EFFFF, 0, Zero, 22 },
				Package () { 0x001EFFFF, 1, Zero, 22 },
				Package () { 0x001EFFFF, 2, Zero, 22 },
				Package () { 0x001EFFFF, 3, Zero, 22 },
				Package () { 0x001FFFFF, 0, Zero, 23 },
				Package () { 0x001FFFFF, 1, Zero, 23 },
				Package () { 0x001FFFFF, 2, Zero, 23 },
				Package () { 0x001FFFFF, 3, Zero, 23 }
			})
		}

		/* 16550A UART at COM1 */
		Device (COM1)
		{
			Name (_HID, EisaId ("PNP0501"))
			Name (_UID, One)
			Name (_CRS, ResourceTemplate ()
			{
				IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
				IRQNoFlags () {4}
			})
		}

		/*
		 * CMOS RTC (MC146818).  Described here so that Linux binds rtc_cmos
		 * through ACPI/PNP, which routes IRQ 8 through the IOAPIC: on
		 * hardware-reduced ACPI there is no legacy PIC, and the fixed
		 * platform device it would register otherwise fails with -EINVAL.
		 */
		Device (RTC)
		{
			Name (_HID, EisaId ("PNP0B00"))
			Name (_CRS, ResourceTemplate ()
			{
				IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
				IRQNoFlags () {8}
			})
		}

		/*
		 * ACPI Generic Event Device (vmm/devices/ged.h): a hardware-reduced
		 * platform has no SCI, so platform events come as this device's
		 * interrupt; _EVT reads the pending-event byte (reading clears it).
		 * Bit 0: the power button (vmm's vm_power_button()).
		 */
		Device (GED0)
		{
			Name (_HID, "ACPI0013")
			Name (_UID, Zero)
			Name (_CRS, ResourceTemplate ()
			{
				Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { 5 }
			})
			OperationRegion (GDRG, SystemIO, 0x03C4, One)
			Field (GDRG, ByteAcc, NoLock, WriteAsZeros)
			{
				GDAT, 8
			}
			Method (_EVT, 1, Serialized)
			{
				Local0 = GDAT
				If (Local0 & One)
				{
					Notify (\_SB.PWRB, 0x80)
				}
			}
		}

		/* Control-method power button (FADT PWR_BUTTON flag set: no fixed one) */
		Device (PWRB)
		{
			Name (_HID, EisaId ("PNP0C0C"))
			Name (_UID, Zero)
		}

		/* QEMU-compatible pvpanic: Linux's pvpanic-mmio driver binds to QEMU0001 */
		Device (PEVT)
		{
			Name (_HID, "QEMU0001")
			Name (_UID, Zero)
			Name (_STA, 0x0F)
			Name (_CRS, ResourceTemplate ()
			{
				IO (Decode16, 0x0505, 0x0505, 0x01, 0x01)
			})
		}
	}
}
