/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GUEST_PROGRAM() assembles 32-bit position-independent guest code into the
 * test binary as a struct vmm_program the reference VMM can load.
 */
#ifndef _KVMMIG_SELFTEST_GUEST_PROGRAM_H
#define _KVMMIG_SELFTEST_GUEST_PROGRAM_H

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

#endif /* _KVMMIG_SELFTEST_GUEST_PROGRAM_H */
