/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's DSDT: the PCI host bridge behind configuration mechanism #1,
 * COM1 and the S5 sleep type that Linux writes to the FADT's sleep control
 * register on power-off. Compiled by iasl into build/guest_dsdt.c; the
 * header fields below are rewritten by acpi_build_guest() anyway.
 *
 * There is no _PRT: the guest's devices interrupt through MSI/MSI-X only.
 * COM1's IRQ 4 is never delivered either, yet it must stay: given an IRQ,
 * Linux's 8250 driver runs its THRE test, which keel's UART model
 * (arch-x86_64/uart_emul.c) fails on purpose so that a timer drives the
 * transmitter. Without one the driver polls IIR, which that model never
 * sets again, and the console's user-space output stops.
 */
DefinitionBlock ("", "DSDT", 2, "KEEL  ", "KEELGST ", 1)
{
	Scope (\_SB)
	{
		Device (PCI0)
		{
			Name (_HID, EisaId ("PNP0A08"))
			Name (_CID, EisaId ("PNP0A03"))
			Name (_SEG, Zero)
			Name (_BBN, Zero)
			Name (_UID, Zero)
			Name (_CRS, ResourceTemplate ()
			{
				WordBusNumber (ResourceProducer, MinFixed,
					MaxFixed, PosDecode,
					0x0000, 0x0000, 0x0000, 0x0000, 0x0001)
				/* 0xCF8-0xCFF, configuration mechanism #1 */
				IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
				WordIO (ResourceProducer, MinFixed, MaxFixed,
					PosDecode, EntireRange,
					0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
				WordIO (ResourceProducer, MinFixed, MaxFixed,
					PosDecode, EntireRange,
					0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
				DWordMemory (ResourceProducer, PosDecode,
					MinFixed, MaxFixed, NonCacheable,
					ReadWrite, 0x00000000, 0xC0000000,
					0xFEBFFFFF, 0x00000000, 0x3EC00000)
			})
		}

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
	}

	Name (\_S5, Package () { 5, 5, 0, 0 })
}
