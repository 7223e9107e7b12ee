/* SPDX-License-Identifier: GPL-2.0 */
/*
 * "migd list [--json]": the kvmmig sessions and regions of this host,
 * from the netlink dumps.
 */
#ifndef MIGD_LIST_H
#define MIGD_LIST_H

int migd_list_main(int argc, char **argv);

#endif /* MIGD_LIST_H */
