/*
 * serial.c - COM1, a 16550A UART at I/O port 0x3f8: 115200 baud, 8N1,
 * FIFOs on, no interrupts; output only.  Set up at the first write.
 *
 * Under a hypervisor every port access is a VM exit, so the writer does
 * not ask the line status before each byte: it waits for an empty
 * transmitter once, then fills the 16-byte FIFO, which a 16550A
 * guarantees to take, with one string instruction (KVM passes all of its
 * bytes to QEMU in one exit).
 */
#include "../arch/x86_64/cpu.h"
#include "kernel.h"

#define COM1		0x3f8
#define THR		0	/* transmit holding register */
#define IER		1	/* interrupt enable */
#define DLL		0	/* divisor latch, low byte (DLAB=1) */
#define DLM		1	/* divisor latch, high byte (DLAB=1) */
#define FCR		2	/* FIFO control */
#define LCR		3	/* line control */
#define MCR		4	/* modem control */
#define LSR		5	/* line status */

#define LCR_8N1		0x03
#define LCR_DLAB	0x80
#define FCR_ENABLE	0x07	/* enable, clear both FIFOs */
#define MCR_DTR_RTS	0x03
#define LSR_THRE	0x20	/* transmit FIFO empty */
#define LSR_TEMT	0x40	/* transmitter empty: the last bit is out */
#define FIFO_SIZE	16

/* A UART nobody drains must not hang the guest for ever: give up on a
 * byte after this many status reads (a second or more of real time). */
#define SPIN_MAX	1000000

static int ready, broken;

/* At the first write, not at boot: a boot that prints nothing then does
 * no port I/O for it (each access is a VM exit). */
static void
serial_setup(void)
{
	ready = 1;
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, LCR_DLAB);
	outb(COM1 + DLL, 1);		/* 115200 / 1 */
	outb(COM1 + DLM, 0);
	outb(COM1 + LCR, LCR_8N1);
	outb(COM1 + FCR, FCR_ENABLE);
	outb(COM1 + MCR, MCR_DTR_RTS);
}

static int
wait_for(uint8_t bit)
{
	unsigned i;

	for (i = 0; i < SPIN_MAX; i++) {
		if ((inb(COM1 + LSR) & bit) != 0)
			return 0;
		cpu_pause();
	}
	return -1;
}

void
serial_write(const char *buf, size_t len)
{
	size_t n;

	if (!ready)
		serial_setup();
	while (len > 0 && !broken) {
		if (wait_for(LSR_THRE) != 0) {
			broken = 1;
			return;
		}
		n = len < FIFO_SIZE ? len : FIFO_SIZE;
		outsb(COM1 + THR, buf, n);
		buf += n;
		len -= n;
	}
}

void
serial_flush(void)
{
	if (ready && !broken && wait_for(LSR_TEMT) != 0)
		broken = 1;
}
