/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What migd can be asked to do, one file each; main.c picks one.  Each
 * returns the exit status: 0 done, 1 failed, 2 usage.
 */
#ifndef MIGD_SUBCOMMANDS_H
#define MIGD_SUBCOMMANDS_H

#include "common/cancel.h"
#include "cmdline.h"

/* migd --peer HOST, --output FILE: send the VM (send.c). */
int migd_send_main(struct migd_cmdline *c, struct migd_cancel *cancel);
/* migd --listen [ADDR:]PORT: receive one VM (receive.c). */
int migd_receive_main(struct migd_cmdline *c, struct migd_cancel *cancel);
/*
 * migd --cancel SESSION: stop the migd migrating SESSION (cancel.c);
 * @cancel interrupts the wait for it.
 */
int migd_cancel_main(const char *name, int timeout_ms, struct migd_cancel *cancel);

/* "migd list ARGS" and "migd verify ARGS": argv[0] is the command. */
int migd_list_main(int argc, char **argv);
int migd_verify_main(int argc, char **argv);

#endif /* MIGD_SUBCOMMANDS_H */
