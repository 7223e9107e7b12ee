/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_DIRTY_AD_H
#define _KVMMIG_DIRTY_AD_H

#include <linux/types.h>

struct kvmmig_region;

/* Under the log's mutex: start A/D mode, or -EXDEV if KVM may map it. */
int kvmmig_dirty_ad_enable(struct kvmmig_region *region);

/* Under the log's mutex: make write-protect mode's invariant true again. */
void kvmmig_dirty_ad_disarm(struct kvmmig_region *region);

/*
 * Add to @words (bitmap words [w0, w0 + nwords), already taken) the pages
 * whose PTE dirty bits were set, and clean them.  Returns true if the log
 * fell back to write-protect mode instead (every page then reported).
 */
bool kvmmig_dirty_ad_collect(struct kvmmig_region *region,
			     unsigned long *words, unsigned long nwords,
			     unsigned long w0);

#endif /* _KVMMIG_DIRTY_AD_H */
