/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The A-B migration workload, after QEMU's migration-test: each vCPU walks
 * its share of guest RAM forever, incrementing the first byte of every page
 * in turn.  Wherever the guest is stopped, every page of a share holds the
 * same value as its predecessor or one less (mod 256), and the "one less"
 * happens at most once: where the walk is.  A page lost, duplicated,
 * misplaced or sent from the wrong round breaks that.
 *
 * Guest physical layout:
 *
 *   0x0000  control blocks, one struct ab_ctl per vCPU (the VMM sets the
 *           rate here; the guest counts its work here)
 *   0x1000  the guest program (VMM_CODE_GPA)
 *   0x2000  first page walked; vCPU i walks the i-th of nr_vcpus equal
 *           shares up to the end of RAM
 *
 * Every walked page also carries a tag at AB_TAG_OFFSET, written by the VMM
 * before the guest first runs: its own GPA, so a page that lands at the
 * wrong place is caught even where the A-B bytes happen to agree.  The rest
 * of the page stays zero.
 */
#ifndef _KVMMIG_SELFTEST_AB_H
#define _KVMMIG_SELFTEST_AB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm.h"

#define AB_CTL_GPA		0x0UL
#define AB_FIRST_GPA		0x2000UL
#define AB_TAG_OFFSET		8
#define AB_TAG(gpa)		(0xab00000000000000ULL | (gpa))

/* One per vCPU at AB_CTL_GPA + 64 * vCPU index; offsets are in ab.c's asm. */
struct ab_ctl {
	uint32_t incs;		/* guest: pages incremented (wraps) */
	uint32_t passes;	/* guest: full walks completed (wraps) */
	uint32_t ticks_per_page; /* VMM: TSC ticks between increments; 0: flat out */
	uint32_t max_lag;	/* VMM: backlog in ticks the guest may catch up */
	uint32_t deadline;	/* guest: TSC (low half) of the next increment */
	uint32_t reserved[11];
};

/* The guest program: %ebx first GPA, %ecx pages, %esi its struct ab_ctl. */
extern const struct vmm_program guest_ab;

/* The smallest RAM that leaves every vCPU at least two pages to walk. */
#define AB_MIN_MEM(nr_vcpus)	(AB_FIRST_GPA + 2 * (nr_vcpus) * VMM_PAGE_SIZE)

/* The share of vCPU @i: first GPA and number of pages. */
void ab_share(size_t mem_size, int nr_vcpus, int i, uint64_t *gpa,
	      uint64_t *pages);

static inline volatile struct ab_ctl *ab_ctl(void *mem, int i)
{
	return (volatile struct ab_ctl *)((char *)mem + AB_CTL_GPA) + i;
}

/*
 * Prepare fresh guest RAM: tag every walked page, clear the control blocks
 * and load guest_ab.  The caller then adds vCPU i with ab_args(i).
 */
void ab_setup(struct vmm_vm *vm, int nr_vcpus);
void ab_args(const struct vmm_vm *vm, int nr_vcpus, int i,
	     struct vmm_args *args);

/*
 * Pace the guest to @pages_per_s increments per second in all (split among
 * the vCPUs; 0: as fast as it can), given the guest's TSC rate.  May be
 * called while the guest runs.  -EINVAL when the rate cannot be expressed.
 */
int ab_set_rate(void *mem, int nr_vcpus, uint64_t pages_per_s,
		uint64_t tsc_khz);

/* Copy each vCPU's ab_ctl.incs into @incs[nr_vcpus]. */
void ab_incs(void *mem, int nr_vcpus, uint32_t *incs);
/* The fewest increments any vCPU made since @before was taken. */
uint32_t ab_advanced(void *mem, int nr_vcpus, const uint32_t *before);
/*
 * Wait until every vCPU made @n increments after @before; 0, or -ETIMEDOUT
 * after @timeout_ms.
 */
int ab_wait_advance(void *mem, int nr_vcpus, const uint32_t *before,
		    uint32_t n, int timeout_ms);

struct ab_result {
	uint64_t pages;		/* pages checked */
	uint64_t edges;		/* pages one less than their predecessor */
	uint64_t bad;		/* pages that break the pattern or the tag */
	uint64_t bad_tags;	/* of those, pages whose tag or zero fill is wrong */
	uint64_t first_bad;	/* GPA of the first bad page */
	uint8_t first_bad_val;	/* its A-B byte ... */
	uint8_t first_bad_prev;	/* ... and its predecessor's */
	uint8_t value;		/* the A-B byte of the first walked page */
	bool ok;		/* no bad page, at most one edge per share */
};

/*
 * Check guest RAM while no vCPU runs.  @full also checks that each page is
 * zero outside its A-B byte and its tag (reads all of RAM).
 */
void ab_check(const void *mem, size_t mem_size, int nr_vcpus, bool full,
	      struct ab_result *res);

/*
 * A 64-bit digest of all of guest RAM (control blocks and code included),
 * for comparing a VM's memory before and after a migration byte for byte.
 */
uint64_t ab_digest(const void *mem, size_t mem_size);

/* "ab=ok edges=1 pages=N bad=0 ..." for status lines and test logs. */
void ab_format(const struct ab_result *res, char *buf, size_t len);

#endif /* _KVMMIG_SELFTEST_AB_H */
