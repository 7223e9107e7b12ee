/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kvmmig family's dumps and SESSION_GET, parsed into rows: each
 * parser checks that every attribute the spec promises is there.
 * __nlk_*() return 0 or -errno like the requests of nl_util.h.
 */
#ifndef _KVMMIG_SELFTEST_NL_ROWS_H
#define _KVMMIG_SELFTEST_NL_ROWS_H

#include <stdbool.h>
#include <linux/kvmmig.h>

#include "nl_util.h"

struct region_row {
	__u64 id, size, pages;
	__s32 node;
	__u32 owner;
	char name[KVMMIG_REGION_NAME_LEN];
	bool has_log;
	__u8 log_enabled;
	__u32 log_mode;
	__u64 harvests, reported;
};

struct region_rows {
	int n;
	struct region_row row[64];
};

struct session_row {
	__u32 id, state, owner, nr_blobs, nr_regions;
	__u64 blob_bytes;
	__u64 regions[KVMMIG_SESSION_MAX_REGIONS];
	char name[KVMMIG_SESSION_NAME_LEN];
};

struct session_rows {
	int n;
	struct session_row row[16];
};

struct blob_rows {
	int n;
	struct {
		__u32 index, kind, instance, size, session;
		char name[KVMMIG_BLOB_NAME_LEN];
		unsigned char data[KVMMIG_BLOB_MAX_SIZE];
	} row[8];
};

int __nlk_dump_regions(struct nlk *k, struct region_rows *rows);
/* The row of region @name, or NULL. */
struct region_row *nlk_find_region(struct region_rows *rows,
				   const char *name);
/* Parses one SESSION_GET reply into @arg, a struct session_rows. */
int nlk_session_row(struct nlattr **tb, void *arg);
int __nlk_dump_sessions(struct nlk *k, struct session_rows *rows);
/* SESSION_GET do by id (@name NULL) or by name. */
int __nlk_get_session(struct nlk *k, __u32 id, const char *name,
		      struct session_rows *rows, struct nlk_ext *ext);
/* BLOB_GET dump of session @id. */
int __nlk_dump_blobs(struct nlk *k, __u32 id, struct blob_rows *rows,
		     struct nlk_ext *ext);

#endif /* _KVMMIG_SELFTEST_NL_ROWS_H */
