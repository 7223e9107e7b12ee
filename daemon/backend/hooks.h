/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM control by commands (--on-pause, --on-resume, --on-handover): until
 * kvmmig sessions relay "pause now" to the VMM, a shell command can.  A
 * pause counts as acknowledged when its command exits 0.
 */
#ifndef MIGD_HOOKS_H
#define MIGD_HOOKS_H

#include "engine/region.h"

struct migd_hooks {
	const char *on_pause;
	const char *on_resume;
	const char *on_handover;
};

/* Points @vm at the commands in @h (which must outlive the migration). */
void migd_hooks_install(struct migd_vm_ops *vm, struct migd_hooks *h);

#endif /* MIGD_HOOKS_H */
