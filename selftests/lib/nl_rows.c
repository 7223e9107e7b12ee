// SPDX-License-Identifier: GPL-2.0
/*
 * The kvmmig family's dumps, parsed into rows (see nl_rows.h).
 */

#include <errno.h>
#include <string.h>
#include <netlink/genl/genl.h>

#include "nl_rows.h"

static int region_row(struct nlattr **tb, void *arg)
{
	struct nlattr *log[KVMMIG_A_DIRTY_MAX + 1];
	struct region_rows *rows = arg;
	struct region_row *r;

	if (rows->n == 64)
		return -E2BIG;
	r = &rows->row[rows->n++];
	memset(r, 0, sizeof(*r));
	if (!tb[KVMMIG_A_REGION_ID] || !tb[KVMMIG_A_REGION_NAME] ||
	    !tb[KVMMIG_A_REGION_SIZE] || !tb[KVMMIG_A_REGION_NODE] ||
	    !tb[KVMMIG_A_REGION_PAGES] || !tb[KVMMIG_A_OWNER_PID] ||
	    !tb[KVMMIG_A_DIRTY_LOG])
		return -EBADMSG;
	r->id = nla_get_u64(tb[KVMMIG_A_REGION_ID]);
	nla_strlcpy(r->name, tb[KVMMIG_A_REGION_NAME], sizeof(r->name));
	r->size = nla_get_u64(tb[KVMMIG_A_REGION_SIZE]);
	r->node = (__s32)nla_get_u32(tb[KVMMIG_A_REGION_NODE]);
	r->pages = nla_get_u64(tb[KVMMIG_A_REGION_PAGES]);
	r->owner = nla_get_u32(tb[KVMMIG_A_OWNER_PID]);
	if (nla_parse_nested(log, KVMMIG_A_DIRTY_MAX, tb[KVMMIG_A_DIRTY_LOG],
			     NULL))
		return -EBADMSG;
	if (!log[KVMMIG_A_DIRTY_ENABLED] || !log[KVMMIG_A_DIRTY_MODE] ||
	    !log[KVMMIG_A_DIRTY_HARVESTS] ||
	    !log[KVMMIG_A_DIRTY_PAGES_REPORTED] ||
	    !log[KVMMIG_A_DIRTY_WRITE_FAULTS] ||
	    !log[KVMMIG_A_DIRTY_BATCH_NS_MAX] ||
	    !log[KVMMIG_A_DIRTY_HARVEST_NS_MAX])
		return -EBADMSG;
	r->has_log = true;
	r->log_enabled = nla_get_u8(log[KVMMIG_A_DIRTY_ENABLED]);
	r->log_mode = nla_get_u32(log[KVMMIG_A_DIRTY_MODE]);
	r->harvests = nla_get_u64(log[KVMMIG_A_DIRTY_HARVESTS]);
	r->reported = nla_get_u64(log[KVMMIG_A_DIRTY_PAGES_REPORTED]);
	return 0;
}

int __nlk_dump_regions(struct nlk *k, struct region_rows *rows)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_REGION_GET, NLM_F_DUMP);

	rows->n = 0;
	return msg ? __nlk_request(k, msg, region_row, rows, NULL) : -ENOMEM;
}

struct region_row *nlk_find_region(struct region_rows *rows,
				    const char *name)
{
	int i;

	for (i = 0; i < rows->n; i++)
		if (!strcmp(rows->row[i].name, name))
			return &rows->row[i];
	return NULL;
}

int nlk_session_row(struct nlattr **tb, void *arg)
{
	struct session_rows *rows = arg;
	struct session_row *s;
	struct nlattr *nla;
	int rem;

	if (rows->n == 16)
		return -E2BIG;
	s = &rows->row[rows->n++];
	memset(s, 0, sizeof(*s));
	if (!tb[KVMMIG_A_SESSION_ID] || !tb[KVMMIG_A_SESSION_NAME] ||
	    !tb[KVMMIG_A_SESSION_STATE] || !tb[KVMMIG_A_OWNER_PID] ||
	    !tb[KVMMIG_A_SESSION_REGIONS] || !tb[KVMMIG_A_SESSION_NR_BLOBS] ||
	    !tb[KVMMIG_A_SESSION_BLOB_BYTES])
		return -EBADMSG;
	s->id = nla_get_u32(tb[KVMMIG_A_SESSION_ID]);
	nla_strlcpy(s->name, tb[KVMMIG_A_SESSION_NAME], sizeof(s->name));
	s->state = nla_get_u32(tb[KVMMIG_A_SESSION_STATE]);
	s->owner = nla_get_u32(tb[KVMMIG_A_OWNER_PID]);
	s->nr_blobs = nla_get_u32(tb[KVMMIG_A_SESSION_NR_BLOBS]);
	s->blob_bytes = nla_get_u64(tb[KVMMIG_A_SESSION_BLOB_BYTES]);
	nla_for_each_nested(nla, tb[KVMMIG_A_SESSION_REGIONS], rem) {
		if (nla_type(nla) != KVMMIG_A_REGION_ID ||
		    s->nr_regions == KVMMIG_SESSION_MAX_REGIONS)
			return -EBADMSG;
		s->regions[s->nr_regions++] = nla_get_u64(nla);
	}
	return 0;
}

int __nlk_dump_sessions(struct nlk *k, struct session_rows *rows)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP);

	rows->n = 0;
	return msg ? __nlk_request(k, msg, nlk_session_row, rows, NULL) : -ENOMEM;
}

int __nlk_get_session(struct nlk *k, __u32 id, const char *name,
		      struct session_rows *rows, struct nlk_ext *ext)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_SESSION_GET, 0);

	rows->n = 0;
	if (!msg)
		return -ENOMEM;
	if ((name && nla_put_string(msg, KVMMIG_A_SESSION_NAME, name)) ||
	    (!name && nla_put_u32(msg, KVMMIG_A_SESSION_ID, id))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __nlk_request(k, msg, nlk_session_row, rows, ext);
}

static int blob_row(struct nlattr **tb, void *arg)
{
	struct blob_rows *rows = arg;
	int i = rows->n;

	if (i == 8)
		return -E2BIG;
	if (!tb[KVMMIG_A_SESSION_ID] || !tb[KVMMIG_A_BLOB_INDEX] ||
	    !tb[KVMMIG_A_BLOB_KIND] || !tb[KVMMIG_A_BLOB_INSTANCE] ||
	    !tb[KVMMIG_A_BLOB_NAME] || !tb[KVMMIG_A_BLOB_DATA] ||
	    nla_len(tb[KVMMIG_A_BLOB_DATA]) > KVMMIG_BLOB_MAX_SIZE)
		return -EBADMSG;
	rows->row[i].session = nla_get_u32(tb[KVMMIG_A_SESSION_ID]);
	rows->row[i].index = nla_get_u32(tb[KVMMIG_A_BLOB_INDEX]);
	rows->row[i].kind = nla_get_u32(tb[KVMMIG_A_BLOB_KIND]);
	rows->row[i].instance = nla_get_u32(tb[KVMMIG_A_BLOB_INSTANCE]);
	nla_strlcpy(rows->row[i].name, tb[KVMMIG_A_BLOB_NAME],
		    sizeof(rows->row[i].name));
	rows->row[i].size = nla_len(tb[KVMMIG_A_BLOB_DATA]);
	memcpy(rows->row[i].data, nla_data(tb[KVMMIG_A_BLOB_DATA]),
	       rows->row[i].size);
	rows->n++;
	return 0;
}

int __nlk_dump_blobs(struct nlk *k, __u32 id, struct blob_rows *rows,
		     struct nlk_ext *ext)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_BLOB_GET, NLM_F_DUMP);

	rows->n = 0;
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KVMMIG_A_SESSION_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __nlk_request(k, msg, blob_row, rows, ext);
}
