// SPDX-License-Identifier: GPL-2.0
/*
 * migd verify FILE|-: walks a stream with the reference reader, tracking
 * pages, and prints a summary or the first problem.  It is what a person
 * runs on a saved VM before trusting it.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"
#include "subcommands.h"
#include "verify.h"

/* One bit per page: 2^31 pages (8 TiB of 4 KiB pages) is 256 MiB at most. */
#define VERIFY_TRACK_PAGES	(1ull << 31)

struct verify_stats {
	unsigned int regions;
	uint64_t region_pages;
	uint32_t rounds;
	bool stopped;
	uint64_t page_records, full_pages, zero_pages;
	uint64_t state_blobs[KVMMIG_STATE_NESTED + 1];
	uint64_t state_bytes;
	uint64_t discard_records, discard_pages;
	bool postcopy;
	uint64_t postcopy_pages;
	uint64_t request_records, request_pages;
	bool committed;
	uint64_t optional_records;
	uint64_t end_offset;
	FILE *out;
};

static int verify_rec(void *opaque, const struct kvmmig_stream_rec *rec)
{
	struct verify_stats *st = opaque;

	switch (rec->type) {
	case KVMMIG_REC_REGIONS:
		st->regions = rec->regions.count;
		if (st->out)
			fprintf(st->out, "regions: %u\n", rec->regions.count);
		for (unsigned int i = 0; i < rec->regions.count; i++) {
			const struct kvmmig_stream_region *r = &rec->regions.regions[i];

			st->region_pages += r->npages;
			if (st->out)
				fprintf(st->out, "  region %" PRIu32 " \"%s\": %" PRIu64
					" bytes, %" PRIu64 " pages\n",
					r->id, r->name, r->size, r->npages);
		}
		break;
	case KVMMIG_REC_ROUND:
		st->rounds = rec->round.round;
		st->stopped = rec->round.flags & KVMMIG_ROUND_F_STOPPED;
		break;
	case KVMMIG_REC_PAGE_DATA:
		st->page_records++;
		st->zero_pages += rec->pages.zero;
		st->full_pages += rec->pages.count - rec->pages.zero;
		if (st->postcopy)
			st->postcopy_pages += rec->pages.count;
		break;
	case KVMMIG_REC_STATE:
		st->state_bytes += rec->state.len;
		if (!(rec->state.flags & KVMMIG_STATE_F_MORE))
			st->state_blobs[rec->state.desc.kind]++;
		break;
	case KVMMIG_REC_DISCARD:
		st->discard_records++;
		st->discard_pages += rec->pages.count;
		break;
	case KVMMIG_REC_POSTCOPY:
		st->postcopy = true;
		break;
	case KVMMIG_REC_PAGE_REQUEST:
		st->request_records++;
		st->request_pages += rec->pages.count;
		break;
	case KVMMIG_REC_COMMITTED:
		st->committed = true;
		break;
	case KVMMIG_REC_END:
		st->end_offset = rec->offset;
		break;
	default:
		st->optional_records++;
		break;
	}
	return 0;
}

int migd_verify_fd(int fd, const char *name, FILE *out, FILE *err)
{
	struct kvmmig_stream_reader_opts opts = { .track_pages = VERIFY_TRACK_PAGES };
	struct verify_stats st = { .out = out };
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_source src;
	struct kvmmig_stream_hdr hdr;
	bool ret_stream;
	int ret;

	kvmmig_stream_source_fd(&src, fd);
	ret = kvmmig_stream_reader_new(&r, &src, &opts);
	if (ret) {
		fprintf(err, "migd verify: %s: %s\n", name, strerror(-ret));
		return 1;
	}
	ret = kvmmig_stream_read_header(r, &hdr);
	if (ret)
		goto fail;

	ret_stream = hdr.flags & KVMMIG_STREAM_F_RETURN;
	if (out) {
		fprintf(out, "%s: %s stream, format v%" PRIu32 ", page size %" PRIu32
			", sender kvmmig %u.%u.%u\n", name,
			ret_stream ? "return" : "forward", hdr.version, hdr.page_size,
			hdr.sender_major, hdr.sender_minor, hdr.sender_patch);
		fprintf(out, "migration id: ");
		for (int i = 0; i < 16; i++)
			fprintf(out, "%02x%s", hdr.migration_id[i],
				i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
		fprintf(out, "\n");
	}

	ret = kvmmig_stream_read_all(r, verify_rec, &st);
	if (ret)
		goto fail;

	if (out) {
		fprintf(out, "guest memory: %" PRIu64 " pages\n", st.region_pages);
		if (!ret_stream) {
			fprintf(out, "rounds: %" PRIu32 "%s\n", st.rounds,
				st.stopped ? " (last one stopped)" : "");
			fprintf(out, "pages: %" PRIu64 " full, %" PRIu64 " zero in %" PRIu64
				" PAGE_DATA records\n", st.full_pages, st.zero_pages,
				st.page_records);
			fprintf(out, "state: %" PRIu64 " vcpu, %" PRIu64 " nested, %" PRIu64
				" device blobs, %" PRIu64 " bytes\n",
				st.state_blobs[KVMMIG_STATE_VCPU],
				st.state_blobs[KVMMIG_STATE_NESTED],
				st.state_blobs[KVMMIG_STATE_DEVICE], st.state_bytes);
			if (st.postcopy)
				fprintf(out, "postcopy: %" PRIu64 " pages discarded, %" PRIu64
					" pages sent after the switch\n",
					st.discard_pages, st.postcopy_pages);
			else
				fprintf(out, "postcopy: no\n");
			if (hdr.flags & KVMMIG_STREAM_F_COMMITTED)
				fprintf(out, "asks for COMMITTED: yes\n");
		} else {
			fprintf(out, "page requests: %" PRIu64 " pages in %" PRIu64 " records\n",
				st.request_pages, st.request_records);
			if (hdr.flags & KVMMIG_STREAM_F_COMMITTED)
				fprintf(out, "committed: %s\n", st.committed ? "yes" : "no");
		}
		if (st.optional_records)
			fprintf(out, "optional records skipped: %" PRIu64 "\n",
				st.optional_records);
		fprintf(out, "page tracking: %s\n", kvmmig_stream_reader_tracking(r) ?
			"on" : "off (regions too large)");
		fprintf(out, "END at offset %" PRIu64 ", %" PRIu64 " bytes: OK\n",
			st.end_offset, kvmmig_stream_reader_offset(r));
	}
	kvmmig_stream_reader_free(r);
	return 0;

fail:
	fprintf(err, "migd verify: %s: %s\n", name, kvmmig_stream_reader_error(r)->msg);
	kvmmig_stream_reader_free(r);
	return 1;
}

static void verify_usage(FILE *out)
{
	fprintf(out,
		"Usage: migd verify [-q] FILE|-\n"
		"\n"
		"Check a kvmmig migration stream (see Documentation/stream-format.rst)\n"
		"and print a summary, or the first problem.  \"-\" reads standard input.\n"
		"Exit status: 0 valid, 1 invalid, 2 usage or open error.\n"
		"\n"
		"Options:\n"
		"  -q, --quiet   print nothing for a valid stream\n"
		"  -h, --help    show this help and exit\n");
}

int migd_verify_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help",  no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false;
	const char *path;
	int opt, fd, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			verify_usage(stdout);
			return 0;
		default:
			verify_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		verify_usage(stderr);
		return 2;
	}
	path = argv[optind];
	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
		path = "<stdin>";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "migd verify: %s: %s\n", path, strerror(errno));
			return 2;
		}
	}
	ret = migd_verify_fd(fd, path, quiet ? NULL : stdout, stderr);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}
