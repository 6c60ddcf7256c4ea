/*
 * arch/console.h: the early console (COM1 16550 UART on x86).
 *
 * Owns the serial port.  arch_console_init() may be called more than once and
 * works before memory management; arch_console_putc() polls, never sleeps and
 * is safe from exception handlers.  "\n" is sent as "\r\n".
 */
#ifndef ARCH_CONSOLE_H
#define ARCH_CONSOLE_H

void arch_console_init(void);
void arch_console_putc(char c);

#endif
