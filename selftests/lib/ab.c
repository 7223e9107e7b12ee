// SPDX-License-Identifier: GPL-2.0
/*
 * The A-B migration workload: see ab.h.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ab.h"
#include "guest_program.h"

_Static_assert(sizeof(struct ab_ctl) == 64, "ab_ctl is one 64-byte slot");
_Static_assert(VMM_CODE_GPA + VMM_CODE_MAX == AB_FIRST_GPA,
	       "the walk starts right after the code page");

/*
 * guest_ab: forever, increment the byte at the start of each of the %ecx
 * pages from GPA %ebx, counting in the struct ab_ctl at %esi.  With a
 * non-zero ticks_per_page, an increment waits for its TSC deadline (low 32
 * bits, compared as a signed difference); a backlog beyond max_lag is
 * dropped, and a deadline more than one period ahead (the TSC jumped back,
 * or the guest was stopped for longer than the 32-bit window) is reset.
 */
GUEST_PROGRAM(guest_ab,
	"	movl %ebx, %edi\n"		/* the page to increment next */
	"	movl %ecx, %ebp\n"		/* pages left in this pass */
	"1:	movl 8(%esi), %eax\n"		/* ticks_per_page */
	"	testl %eax, %eax\n"
	"	jz 4f\n"
	"	rdtsc\n"
	"	subl 16(%esi), %eax\n"		/* now - deadline */
	"	js 3f\n"
	"	cmpl 12(%esi), %eax\n"		/* more backlog than max_lag? */
	"	jbe 2f\n"
	"	addl %eax, 16(%esi)\n"		/* deadline = now */
	"2:	movl 8(%esi), %eax\n"
	"	addl %eax, 16(%esi)\n"		/* the one after: a period later */
	"	jmp 4f\n"
	"3:	negl %eax\n"			/* deadline - now */
	"	cmpl 8(%esi), %eax\n"
	"	jbe 5f\n"
	"	rdtsc\n"			/* a stale deadline: restart now */
	"	movl %eax, 16(%esi)\n"
	"	jmp 4f\n"
	"5:	pause\n"
	"	jmp 1b\n"
	"4:	incb (%edi)\n"
	"	incl 0(%esi)\n"			/* incs */
	"	addl $4096, %edi\n"
	"	decl %ebp\n"
	"	jnz 1b\n"
	"	incl 4(%esi)\n"			/* passes */
	"	movl %ebx, %edi\n"
	"	movl %ecx, %ebp\n"
	"	jmp 1b\n");

void ab_share(size_t mem_size, int nr_vcpus, int i, uint64_t *gpa,
	      uint64_t *pages)
{
	uint64_t total = (mem_size - AB_FIRST_GPA) / VMM_PAGE_SIZE;
	uint64_t each = total / nr_vcpus;

	*gpa = AB_FIRST_GPA + i * each * VMM_PAGE_SIZE;
	*pages = i == nr_vcpus - 1 ? total - i * each : each;
}

void ab_setup(struct vmm_vm *vm, int nr_vcpus)
{
	char *mem = vm->mem;
	uint64_t gpa;

	if (nr_vcpus < 1 || nr_vcpus > VMM_MAX_VCPUS ||
	    vm->mem_size < AB_MIN_MEM(nr_vcpus))
		vmm_die("A-B: %d vCPUs do not fit in %zu bytes", nr_vcpus,
			vm->mem_size);
	memset(mem + AB_CTL_GPA, 0, nr_vcpus * sizeof(struct ab_ctl));
	vmm_load_program(vm, &guest_ab);
	for (gpa = AB_FIRST_GPA; gpa < vm->mem_size; gpa += VMM_PAGE_SIZE)
		*(uint64_t *)(mem + gpa + AB_TAG_OFFSET) = AB_TAG(gpa);
}

void ab_args(const struct vmm_vm *vm, int nr_vcpus, int i,
	     struct vmm_args *args)
{
	uint64_t gpa, pages;

	ab_share(vm->mem_size, nr_vcpus, i, &gpa, &pages);
	memset(args, 0, sizeof(*args));
	args->ebx = gpa;
	args->ecx = pages;
	args->esi = AB_CTL_GPA + i * sizeof(struct ab_ctl);
}

int ab_set_rate(void *mem, int nr_vcpus, uint64_t pages_per_s,
		uint64_t tsc_khz)
{
	uint64_t ticks = 0, lag = 0, per_vcpu;
	int i;

	if (pages_per_s) {
		per_vcpu = pages_per_s / nr_vcpus;
		if (!per_vcpu || !tsc_khz)
			return -EINVAL;
		ticks = tsc_khz * 1000 / per_vcpu;
		lag = tsc_khz * 100;	/* catch up at most 0.1 s of backlog */
		/* The guest compares 32-bit signed differences. */
		if (!ticks || ticks >= (1ULL << 30) || lag >= (1ULL << 30))
			return -EINVAL;
	}
	for (i = 0; i < nr_vcpus; i++) {
		ab_ctl(mem, i)->max_lag = lag;
		__atomic_store_n(&ab_ctl(mem, i)->ticks_per_page, ticks,
				 __ATOMIC_SEQ_CST);
	}
	return 0;
}

void ab_incs(void *mem, int nr_vcpus, uint32_t *incs)
{
	int i;

	for (i = 0; i < nr_vcpus; i++)
		incs[i] = __atomic_load_n(&ab_ctl(mem, i)->incs,
					  __ATOMIC_SEQ_CST);
}

uint32_t ab_advanced(void *mem, int nr_vcpus, const uint32_t *before)
{
	uint32_t now[VMM_MAX_VCPUS], least = UINT32_MAX;
	int i;

	ab_incs(mem, nr_vcpus, now);
	for (i = 0; i < nr_vcpus; i++)
		if ((uint32_t)(now[i] - before[i]) < least)
			least = now[i] - before[i];
	return least;
}

int ab_wait_advance(void *mem, int nr_vcpus, const uint32_t *before,
		    uint32_t n, int timeout_ms)
{
	int waited;

	for (waited = 0; ab_advanced(mem, nr_vcpus, before) < n; waited += 5) {
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		usleep(5000);
	}
	return 0;
}

/* Anything but the A-B byte and the tag must be zero. */
static bool page_fill_ok(const uint64_t *page, uint64_t gpa, bool full)
{
	size_t i;

	if (page[AB_TAG_OFFSET / 8] != AB_TAG(gpa))
		return false;
	if (!full)
		return true;
	if (page[0] & ~0xffULL)
		return false;
	for (i = 2; i < VMM_PAGE_SIZE / 8; i++)
		if (page[i])
			return false;
	return true;
}

void ab_check(const void *mem, size_t mem_size, int nr_vcpus, bool full,
	      struct ab_result *res)
{
	uint64_t gpa, pages, p, edges;
	const uint8_t *page;
	bool fill_ok, ab_ok;
	uint8_t prev;
	int i;

	memset(res, 0, sizeof(*res));
	res->value = *((const uint8_t *)mem + AB_FIRST_GPA);
	for (i = 0; i < nr_vcpus; i++) {
		ab_share(mem_size, nr_vcpus, i, &gpa, &pages);
		prev = *((const uint8_t *)mem + gpa);
		edges = 0;
		for (p = 0; p < pages; p++, gpa += VMM_PAGE_SIZE) {
			page = (const uint8_t *)mem + gpa;
			res->pages++;
			fill_ok = page_fill_ok((const uint64_t *)page, gpa, full);
			/* One less than its predecessor: the walk stopped here. */
			ab_ok = page[0] == prev ||
				((uint8_t)(page[0] + 1) == prev && !edges++);
			if (!fill_ok)
				res->bad_tags++;
			if ((!fill_ok || !ab_ok) && !res->bad++) {
				res->first_bad = gpa;
				res->first_bad_val = page[0];
				res->first_bad_prev = prev;
			}
			prev = page[0];
		}
		res->edges += edges;
	}
	res->ok = !res->bad;
}

uint64_t ab_digest(const void *mem, size_t mem_size)
{
	const uint64_t *w = mem, *end = w + mem_size / 8;
	uint64_t h = 0xcbf29ce484222325ULL;

	/* FNV-1a over words: each step is a bijection, so one changed word always shows. */
	while (w < end)
		h = (h ^ *w++) * 0x100000001b3ULL;
	return h;
}

void ab_format(const struct ab_result *res, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "ab=%s edges=%llu pages=%llu bad=%llu value=%u",
		     res->ok ? "ok" : "bad", (unsigned long long)res->edges,
		     (unsigned long long)res->pages,
		     (unsigned long long)res->bad, res->value);
	if (res->bad && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n,
			 " bad_tags=%llu first_bad=0x%llx first_bad_val=%u first_bad_prev=%u",
			 (unsigned long long)res->bad_tags,
			 (unsigned long long)res->first_bad,
			 res->first_bad_val, res->first_bad_prev);
}
