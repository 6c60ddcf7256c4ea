/*
 * serial.c: COM1 (16550 UART at I/O port 0x3f8) as the kernel console.
 *
 * 115200 baud, 8N1, FIFOs on, no interrupts: output polls the line-status
 * register, so it works from any context, including exception handlers and
 * before memory is set up.  QEMU's -serial stdio shows it on the terminal.
 */
#include <arch/console.h>
#include <arch/x86.h>

#define COM1 0x3f8

void arch_console_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB on */
	outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared, 14-byte threshold */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void serial_put(char c)
{
	/* Bounded wait: a missing UART must not hang the kernel. */
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		__asm__ volatile("pause");
	outb(COM1, (unsigned char)c);
}

void arch_console_putc(char c)
{
	if (c == '\n')
		serial_put('\r');
	serial_put(c);
}
