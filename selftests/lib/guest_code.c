// SPDX-License-Identifier: GPL-2.0
/*
 * Guest programs for the reference VMM.  Each is 32-bit position-independent
 * code assembled into the test binary and copied to VMM_CODE_GPA; its
 * arguments arrive in registers (struct vmm_args).
 */

#include "guest_program.h"

/*
 * guest_fill: store byte %al into %ecx bytes from %ebx, then halt.
 */
GUEST_PROGRAM(guest_fill,
	"	jecxz 2f\n"
	"1:	movb %al, (%ebx)\n"
	"	incl %ebx\n"
	"	loop 1b\n"
	"2:	hlt\n"
	"	jmp 2b\n");

/*
 * guest_write_list: store %eax at each of the %ecx GPAs listed (as 32-bit
 * words) at %ebx, then halt.
 */
GUEST_PROGRAM(guest_write_list,
	"	jecxz 2f\n"
	"1:	movl (%ebx), %edi\n"
	"	movl %eax, (%edi)\n"
	"	addl $4, %ebx\n"
	"	loop 1b\n"
	"2:	hlt\n"
	"	jmp 2b\n");

/*
 * guest_read_list: load from each of the %ecx GPAs listed at %ebx, then
 * halt.  Nothing is written.
 */
GUEST_PROGRAM(guest_read_list,
	"	jecxz 2f\n"
	"1:	movl (%ebx), %edi\n"
	"	movl (%edi), %eax\n"
	"	addl $4, %ebx\n"
	"	loop 1b\n"
	"2:	hlt\n"
	"	jmp 2b\n");

/*
 * guest_dirty_loop: forever, store the iteration number (the 32-bit word at
 * %esi, which the VMM bumps) at offset 0 of pseudo-random pages among the
 * %ecx pages from %ebx, with %edx as the seed; an "out" to VMM_PORT_DONE
 * after every 64 stores.
 */
GUEST_PROGRAM(guest_dirty_loop,
	"	movl %edx, %ebp\n"
	"1:	movl $64, %edi\n"
	"2:	imull $1103515245, %ebp, %ebp\n"
	"	addl $12345, %ebp\n"
	"	movl %ebp, %eax\n"
	"	shrl $8, %eax\n"
	"	xorl %edx, %edx\n"
	"	divl %ecx\n"
	"	shll $12, %edx\n"
	"	addl %ebx, %edx\n"
	"	movl (%esi), %eax\n"
	"	movl %eax, (%edx)\n"
	"	decl %edi\n"
	"	jnz 2b\n"
	"	outb %al, $0x10\n"
	"	jmp 1b\n");

/*
 * guest_write_stride: store %eax at %ebx, %ebx + %edx, ... (%ecx stores),
 * then "out" to VMM_PORT_DONE and halt.
 */
GUEST_PROGRAM(guest_write_stride,
	"	jecxz 2f\n"
	"1:	movl %eax, (%ebx)\n"
	"	addl %edx, %ebx\n"
	"	loop 1b\n"
	"2:	hlt\n"
	"	jmp 2b\n");
