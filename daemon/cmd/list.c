// SPDX-License-Identifier: GPL-2.0
/*
 * migd list [--json]: the kvmmig sessions and regions of this host, from
 * the netlink dumps.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "session/netlink.h"
#include "session/pidfile.h"
#include "session/session.h"
#include "subcommands.h"

struct listing {
	struct migd_nl_session *sessions;
	unsigned int nsessions;
	struct migd_nl_region *regions;
	unsigned int nregions;
};

static int add_session(const struct migd_nl_session *s, void *data)
{
	struct listing *l = data;
	struct migd_nl_session *n = realloc(l->sessions, (l->nsessions + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->sessions = n;
	l->sessions[l->nsessions++] = *s;
	return 0;
}

static int add_region(const struct migd_nl_region *r, void *data)
{
	struct listing *l = data;
	struct migd_nl_region *n = realloc(l->regions, (l->nregions + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->regions = n;
	l->regions[l->nregions++] = *r;
	return 0;
}

static const struct migd_nl_region *find_region(const struct listing *l, uint64_t id)
{
	for (unsigned int i = 0; i < l->nregions; i++)
		if (l->regions[i].id == id)
			return &l->regions[i];
	return NULL;
}

static void size_str(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= (1ull << 30) && !(bytes % (1ull << 30)))
		snprintf(buf, len, "%" PRIu64 " GiB", bytes >> 30);
	else if (bytes >= (1 << 20) && !(bytes % (1 << 20)))
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else if (!(bytes % 1024))
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", bytes);
}

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void print_text(const struct listing *l)
{
	char size[32];

	if (!l->nsessions)
		printf("no sessions\n");
	else
		printf("%-20s %5s  %-10s %6s %8s  %s\n", "SESSION", "ID", "STATE", "BLOBS",
		       "MIGD", "REGIONS");
	for (unsigned int i = 0; i < l->nsessions; i++) {
		const struct migd_nl_session *s = &l->sessions[i];
		int migd = migd_pidfile_owner(s->name);
		char pid[16] = "-";

		if (migd)
			snprintf(pid, sizeof(pid), "%d", migd);
		printf("%-20s %5" PRIu32 "  %-10s %6" PRIu32 " %8s  ", s->name, s->id,
		       migd_nl_state_name(s->state), s->nr_blobs, pid);
		for (unsigned int j = 0; j < s->nr_regions; j++) {
			const struct migd_nl_region *r = find_region(l, s->region_ids[j]);

			if (r) {
				size_str(size, sizeof(size), r->size);
				printf("%s%s (%s)", j ? ", " : "", r->name, size);
			} else {
				printf("%sregion %" PRIu64, j ? ", " : "", s->region_ids[j]);
			}
		}
		printf("%s\n", s->nr_regions ? "" : "-");
	}
	printf("\n");
	if (!l->nregions) {
		printf("no regions\n");
		return;
	}
	printf("%-20s %5s %10s %10s %5s %8s  %s\n", "REGION", "ID", "SIZE", "RESIDENT",
	       "NODE", "PID", "DIRTY LOG");
	for (unsigned int i = 0; i < l->nregions; i++) {
		const struct migd_nl_region *r = &l->regions[i];
		char node[16] = "any", res[32];

		if (r->node >= 0)
			snprintf(node, sizeof(node), "%d", r->node);
		size_str(size, sizeof(size), r->size);
		size_str(res, sizeof(res), r->pages * KVMMIG_PAGE_SIZE);
		printf("%-20s %5" PRIu64 " %10s %10s %5s %8" PRIu32 "  ", r->name, r->id, size,
		       res, node, r->owner_pid);
		if (!r->has_dirty)
			printf("-\n");
		else if (r->dirty_enabled)
			printf("on, %" PRIu64 " harvests, %" PRIu64 " pages reported\n",
			       r->harvests, r->pages_reported);
		else
			printf("off\n");
	}
}

static void print_json(const struct listing *l)
{
	printf("{\"sessions\":[");
	for (unsigned int i = 0; i < l->nsessions; i++) {
		const struct migd_nl_session *s = &l->sessions[i];

		printf("%s{\"name\":", i ? "," : "");
		json_str(s->name);
		printf(",\"id\":%" PRIu32 ",\"state\":\"%s\",\"blobs\":%" PRIu32
		       ",\"blob_bytes\":%" PRIu64 ",\"migd_pid\":%d,\"regions\":[",
		       s->id, migd_nl_state_name(s->state), s->nr_blobs, s->blob_bytes,
		       migd_pidfile_owner(s->name));
		for (unsigned int j = 0; j < s->nr_regions; j++)
			printf("%s%" PRIu64, j ? "," : "", s->region_ids[j]);
		printf("]}");
	}
	printf("],\"regions\":[");
	for (unsigned int i = 0; i < l->nregions; i++) {
		const struct migd_nl_region *r = &l->regions[i];

		printf("%s{\"id\":%" PRIu64 ",\"name\":", i ? "," : "", r->id);
		json_str(r->name);
		printf(",\"size\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"node\":%" PRId32
		       ",\"owner_pid\":%" PRIu32, r->size, r->pages, r->node, r->owner_pid);
		if (r->has_dirty)
			printf(",\"dirty_log\":{\"enabled\":%s,\"mode\":%" PRIu32
			       ",\"harvests\":%" PRIu64 ",\"pages_reported\":%" PRIu64
			       ",\"write_faults\":%" PRIu64 ",\"batch_ns_max\":%" PRIu64
			       ",\"harvest_ns_max\":%" PRIu64 "}",
			       r->dirty_enabled ? "true" : "false", r->dirty_mode, r->harvests,
			       r->pages_reported, r->write_faults, r->batch_ns_max,
			       r->harvest_ns_max);
		printf("}");
	}
	printf("]}\n");
}

int migd_list_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct listing l = { 0 };
	struct migd_nl nl;
	bool json = false;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			printf("Usage: migd list [--json]\n"
			       "List the kvmmig sessions and regions of this host.\n");
			return 0;
		default:
			fprintf(stderr, "Usage: migd list [--json]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "Usage: migd list [--json]\n");
		return 2;
	}
	ret = migd_nl_open(&nl, false);
	if (ret) {
		pr_err("%s", migd_session_nl_strerror(&nl, ret));
		return 1;
	}
	ret = migd_nl_session_dump(&nl, add_session, &l);
	if (!ret)
		ret = migd_nl_region_dump(&nl, add_region, &l);
	if (ret)
		pr_err("listing: %s", nl.error[0] ? nl.error : strerror(-ret));
	else if (json)
		print_json(&l);
	else
		print_text(&l);
	migd_nl_close(&nl);
	free(l.sessions);
	free(l.regions);
	return ret ? 1 : 0;
}
