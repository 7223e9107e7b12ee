// SPDX-License-Identifier: GPL-2.0
/*
 * Guest programs for the reference VMM.  Each is 32-bit position-independent
 * code assembled into the test binary and copied to VMM_CODE_GPA; its
 * arguments arrive in registers (struct vmm_args).
 */

#include "vmm.h"

#define GUEST_PROGRAM(prog, body)					\
	extern const uint8_t prog##_start[], prog##_end[];		\
	asm(".pushsection .rodata." #prog ", \"a\"\n"			\
	    ".code32\n"							\
	    #prog "_start:\n"						\
	    body							\
	    #prog "_end:\n"						\
	    ".code64\n"							\
	    ".popsection\n");						\
	const struct vmm_program prog = {				\
		.name = #prog, .start = prog##_start, .end = prog##_end	\
	}

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
