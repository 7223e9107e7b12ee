/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_DIRTY_AD_H
#define _KVMMIG_DIRTY_AD_H

#include <linux/types.h>

struct kvmmig_dirty_log;

/* Under the log's lock: start A/D mode, or -EXDEV if KVM may map it. */
int kvmmig_dirty_ad_enable(struct kvmmig_dirty_log *log);

/*
 * Make write-protect mode's invariant true again (every page whose bit is
 * clear is armed): under the log's lock held for writing, or by the
 * harvest that switches the log out of A/D mode.  -ENOMEM or 0.
 */
int kvmmig_dirty_ad_disarm(struct kvmmig_dirty_log *log);

/*
 * Add to @words (bitmap words [w0, w0 + nwords), already taken) the pages
 * whose PTE dirty bits were set, and clean them.  Returns true if the log
 * fell back to write-protect mode instead (every page then reported).
 */
bool kvmmig_dirty_ad_collect(struct kvmmig_dirty_log *log,
			     unsigned long *words, unsigned long nwords,
			     unsigned long w0);

#endif /* _KVMMIG_DIRTY_AD_H */
