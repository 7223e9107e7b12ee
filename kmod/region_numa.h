/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_REGION_NUMA_H
#define _KVMMIG_REGION_NUMA_H

#include <linux/gfp.h>
#include <linux/nodemask.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct mempolicy;

/*
 * Where a region's pages go when no VMA says: pages pwrite() allocates
 * (migd filling a destination before its VMM touches them).  A copy of
 * the memory policy last set on a mapping of the region with mbind(): a
 * reference on the policy itself cannot be kept, __mpol_put() is not
 * exported.  Faults follow their VMA's own policy.
 */
struct kvmmig_numa_policy {
	spinlock_t lock;
	unsigned short mode;		/* MPOL_DEFAULT: none set */
	nodemask_t nodes;
};

void kvmmig_numa_policy_init(struct kvmmig_numa_policy *pol);

/* Record @new (NULL: back to the default), as ->set_policy() does. */
void kvmmig_numa_policy_set(struct kvmmig_numa_policy *pol,
			    const struct mempolicy *new);

/* An order-0 folio for page @index, placed by @pol; NULL without memory. */
struct folio *kvmmig_numa_policy_alloc(struct kvmmig_numa_policy *pol,
				       gfp_t gfp, pgoff_t index);

#endif /* _KVMMIG_REGION_NUMA_H */
