// SPDX-License-Identifier: GPL-2.0
/*
 * NUMA placement of region pages allocated outside a fault (see
 * region_numa.h).  The modes follow mm/mempolicy.c; interleaving goes by
 * page index, as shmem's does, so a region filled twice lands the same.
 */

#include <linux/gfp.h>
#include <linux/mempolicy.h>
#include <linux/nodemask.h>
#include <linux/topology.h>

#include "region_numa.h"

void kvmmig_numa_policy_init(struct kvmmig_numa_policy *pol)
{
	spin_lock_init(&pol->lock);
	pol->mode = MPOL_DEFAULT;
	nodes_clear(pol->nodes);
}

void kvmmig_numa_policy_set(struct kvmmig_numa_policy *pol,
			    const struct mempolicy *new)
{
	spin_lock(&pol->lock);
	pol->mode = MPOL_DEFAULT;
	nodes_clear(pol->nodes);
#ifdef CONFIG_NUMA
	if (new) {
		pol->mode = new->mode;
		pol->nodes = new->nodes;
	}
#endif
	spin_unlock(&pol->lock);
}

static int kvmmig_numa_nth_node(const nodemask_t *nodes, unsigned long n)
{
	int nid = first_node(*nodes);

	n %= nodes_weight(*nodes);
	while (n--)
		nid = next_node(nid, *nodes);
	return nid;
}

struct folio *kvmmig_numa_policy_alloc(struct kvmmig_numa_policy *pol,
				       gfp_t gfp, pgoff_t index)
{
	struct folio *folio;
	unsigned short mode;
	nodemask_t nodes;
	int nid;

	spin_lock(&pol->lock);
	mode = pol->mode;
	nodes = pol->nodes;
	spin_unlock(&pol->lock);

	if (mode == MPOL_DEFAULT || mode == MPOL_LOCAL || nodes_empty(nodes))
		return folio_alloc(gfp, 0);

	nid = numa_node_id();
	switch (mode) {
	case MPOL_BIND:
		if (!node_isset(nid, nodes))
			nid = first_node(nodes);
		return __folio_alloc(gfp, 0, nid, &nodes);
	case MPOL_PREFERRED_MANY:
		if (!node_isset(nid, nodes))
			nid = first_node(nodes);
		folio = __folio_alloc(gfp | __GFP_NOWARN, 0, nid, &nodes);
		return folio ?: folio_alloc(gfp, 0);
	case MPOL_PREFERRED:
		return __folio_alloc_node(gfp, 0, first_node(nodes));
	case MPOL_INTERLEAVE:
		nid = kvmmig_numa_nth_node(&nodes, index);
		return __folio_alloc_node(gfp, 0, nid);
	default:
		/* A mode newer than this code (weighted interleave): local. */
		return folio_alloc(gfp, 0);
	}
}
