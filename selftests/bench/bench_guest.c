// SPDX-License-Identifier: GPL-2.0
/*
 * Guest programs of the dirty-logging benchmark.
 */

#include "guest_program.h"
#include "bench.h"

/*
 * bench_dirty_pass: write the pass number %esi into the first word of
 * %ecx pages, %edx bytes apart, from GPA %ebx; report the end of the pass
 * on BENCH_PORT_PASS, then start the next pass with %esi + 1.
 */
GUEST_PROGRAM(bench_dirty_pass,
	"1:	movl %ebx, %edi\n"
	"	movl %ecx, %ebp\n"
	"	testl %ebp, %ebp\n"
	"	jz 3f\n"
	"2:	movl %esi, (%edi)\n"
	"	addl %edx, %edi\n"
	"	decl %ebp\n"
	"	jnz 2b\n"
	"3:	outb %al, $0x10\n"
	"	incl %esi\n"
	"	jmp 1b\n");

/*
 * bench_stall: forever, read the TSC, write one byte into the next of the
 * pages in [%ebx, %ebx + %ecx) and read the TSC again; keep the largest gap
 * between the two reads at GPA %edi (u64), scratch at %edi + 8 and count
 * the writes at %edi + 24 (u32).
 */
GUEST_PROGRAM(bench_stall,
	"	movl $0, 8(%edi)\n"
	"1:	incl 24(%edi)\n"
	"	rdtsc\n"
	"	movl %eax, 16(%edi)\n"
	"	movl %edx, 20(%edi)\n"
	"	movl 8(%edi), %esi\n"
	"	movb %al, (%ebx,%esi)\n"
	"	addl $4096, %esi\n"
	"	cmpl %ecx, %esi\n"
	"	jb 2f\n"
	"	xorl %esi, %esi\n"
	"2:	movl %esi, 8(%edi)\n"
	"	rdtsc\n"
	"	subl 16(%edi), %eax\n"
	"	sbbl 20(%edi), %edx\n"
	"	cmpl 4(%edi), %edx\n"
	"	ja 3f\n"
	"	jb 1b\n"
	"	cmpl 0(%edi), %eax\n"
	"	jbe 1b\n"
	"3:	movl %eax, 0(%edi)\n"
	"	movl %edx, 4(%edi)\n"
	"	jmp 1b\n");
