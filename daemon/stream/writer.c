// SPDX-License-Identifier: GPL-2.0
/*
 * Writer of the migration stream.  Records are streamed to the sink with
 * the CRC computed on the way (it sits in the trailer for that reason), so
 * page contents are never copied into a record buffer.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/io.h"
#include "common/zero.h"
#include "crc32c.h"
#include "stream_priv.h"

#define OBUF_SIZE	(256u << 10)

struct kvmmig_stream_writer {
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_writer_opts opts;
	struct stream_rules rules;
	struct kvmmig_stream_error err;
	int io_err;		/* sticky: the stream is broken */
	uint64_t offset;

	uint8_t *obuf;
	size_t olen;
	uint32_t crc;

	uint8_t *scratch;	/* record bodies and entry lists */
	size_t scratch_cap;
};

static int fd_write(void *opaque, const void *buf, size_t len)
{
	return migd_pwrite_full((int)(intptr_t)opaque, buf, len, -1);
}

void kvmmig_stream_sink_fd(struct kvmmig_stream_sink *sink, int fd)
{
	sink->write = fd_write;
	sink->opaque = (void *)(intptr_t)fd;
}

static int membuf_write(void *opaque, const void *buf, size_t len)
{
	struct kvmmig_stream_membuf *mb = opaque;

	if (len > mb->cap - mb->len) {
		size_t cap = mb->cap ? mb->cap : 4096;
		uint8_t *p;

		while (cap - mb->len < len) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		p = realloc(mb->data, cap);
		if (!p)
			return -ENOMEM;
		mb->data = p;
		mb->cap = cap;
	}
	memcpy(mb->data + mb->len, buf, len);
	mb->len += len;
	return 0;
}

void kvmmig_stream_sink_membuf(struct kvmmig_stream_sink *sink,
			       struct kvmmig_stream_membuf *mb)
{
	sink->write = membuf_write;
	sink->opaque = mb;
}

void kvmmig_stream_membuf_free(struct kvmmig_stream_membuf *mb)
{
	free(mb->data);
	memset(mb, 0, sizeof(*mb));
}

int kvmmig_stream_new_id(uint8_t id[16])
{
	static const uint8_t zero[16];

	do {
		ssize_t n = getrandom(id, 16, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n != 16)
			return -EIO;
	} while (!memcmp(id, zero, 16));
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Output */

int kvmmig_stream_writer_flush(struct kvmmig_stream_writer *w)
{
	int ret;

	if (w->io_err)
		return -w->io_err;
	if (!w->olen)
		return 0;
	ret = w->sink.write(w->sink.opaque, w->obuf, w->olen);
	if (ret) {
		w->io_err = -ret;
		stream_rules_at(&w->rules, "stream", 0, w->offset);
		return stream_fail(&w->rules, -ret, "", "write failed: %s", strerror(-ret));
	}
	w->olen = 0;
	return 0;
}

static int emit(struct kvmmig_stream_writer *w, const void *data, size_t len)
{
	int ret;

	w->offset += len;
	/* Big pieces (page runs, state chunks) bypass the buffer, in order. */
	if (len > OBUF_SIZE - w->olen || len >= OBUF_SIZE / 2) {
		ret = kvmmig_stream_writer_flush(w);
		if (ret)
			return ret;
	}
	if (len >= OBUF_SIZE / 2) {
		ret = w->sink.write(w->sink.opaque, data, len);
		if (ret) {
			w->io_err = -ret;
			stream_rules_at(&w->rules, "stream", 0, w->offset - len);
			return stream_fail(&w->rules, -ret, "", "write failed: %s", strerror(-ret));
		}
		return 0;
	}
	memcpy(w->obuf + w->olen, data, len);
	w->olen += len;
	return 0;
}

static int rec_begin(struct kvmmig_stream_writer *w, uint32_t type, uint32_t body_len)
{
	uint8_t hdr[KVMMIG_REC_HDR_SIZE];

	put_le32(hdr, type);
	put_le32(hdr + 4, body_len);
	w->crc = kvmmig_crc32c(0, hdr, sizeof(hdr));
	return emit(w, hdr, sizeof(hdr));
}

static int rec_body(struct kvmmig_stream_writer *w, const void *data, size_t len)
{
	w->crc = kvmmig_crc32c(w->crc, data, len);
	return emit(w, data, len);
}

static int rec_end(struct kvmmig_stream_writer *w, uint32_t body_len)
{
	static const uint8_t zero[8];
	uint8_t trailer[KVMMIG_REC_TRAILER_SIZE];
	uint32_t pad = rec_pad(body_len);
	int ret;

	if (pad) {
		ret = rec_body(w, zero, pad);
		if (ret)
			return ret;
	}
	put_le32(trailer, w->crc);
	put_le32(trailer + 4, 0);
	return emit(w, trailer, sizeof(trailer));
}

static int scratch(struct kvmmig_stream_writer *w, size_t len)
{
	uint8_t *p;

	if (len <= w->scratch_cap)
		return 0;
	p = realloc(w->scratch, len);
	if (!p)
		return stream_fail(&w->rules, ENOMEM, "", "out of memory for %zu bytes", len);
	w->scratch = p;
	w->scratch_cap = len;
	return 0;
}

/*
 * Starts a writer call: I/O errors are sticky, rule errors are not, and
 * errors are reported at the offset the record would have had.
 */
static int call_begin(struct kvmmig_stream_writer *w, uint32_t type)
{
	if (w->io_err)
		return -w->io_err;
	memset(&w->err, 0, sizeof(w->err));
	stream_rules_at(&w->rules, NULL, type, w->offset);
	return 0;
}

/* A record whose whole body is in memory: check it, then write it. */
static int write_small(struct kvmmig_stream_writer *w, uint32_t type,
		       const uint8_t *body, uint32_t len)
{
	struct kvmmig_stream_rec rec;
	int ret;

	ret = stream_apply(&w->rules, type, body, len, len, &rec);
	if (ret)
		return ret;
	ret = rec_begin(w, type, len);
	if (!ret && len)
		ret = rec_body(w, body, len);
	if (!ret)
		ret = rec_end(w, len);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Public API */

int kvmmig_stream_writer_new(struct kvmmig_stream_writer **wp,
			     const struct kvmmig_stream_sink *sink,
			     const struct kvmmig_stream_hdr *hdr,
			     const struct kvmmig_stream_writer_opts *opts)
{
	struct kvmmig_stream_writer *w;
	struct kvmmig_stream_hdr parsed;
	int ret;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->obuf = malloc(OBUF_SIZE);
	if (!w->obuf) {
		free(w);
		return -ENOMEM;
	}
	w->sink = *sink;
	if (opts)
		w->opts = *opts;
	if (!w->opts.max_body || w->opts.max_body > KVMMIG_STREAM_MAX_BODY)
		w->opts.max_body = KVMMIG_STREAM_MAX_BODY;
	stream_rules_init(&w->rules, &w->err, w->opts.track_pages);

	/* Encode, then check with the reader's own header parser. */
	stream_encode_header(hdr, w->obuf);
	ret = stream_parse_header(&w->rules, w->obuf, &parsed, KVMMIG_STREAM_ANY);
	if (ret)
		goto err;
	/* Room for the largest page plus one entry, or pages could not be split. */
	ret = -EINVAL;
	if (w->opts.max_body < KVMMIG_PAGES_HDR_SIZE + KVMMIG_PAGE_ENTRY_SIZE + hdr->page_size ||
	    w->opts.max_body < KVMMIG_STATE_HDR_SIZE + KVMMIG_NESTED_HDR_SIZE)
		goto err;
	w->olen = KVMMIG_STREAM_HEADER_SIZE;
	w->offset = KVMMIG_STREAM_HEADER_SIZE;
	*wp = w;
	return 0;
err:
	stream_rules_release(&w->rules);
	free(w->obuf);
	free(w);
	return ret;
}

void kvmmig_stream_writer_free(struct kvmmig_stream_writer *w)
{
	if (!w)
		return;
	stream_rules_release(&w->rules);
	free(w->scratch);
	free(w->obuf);
	free(w);
}

const struct kvmmig_stream_error *
kvmmig_stream_writer_error(const struct kvmmig_stream_writer *w)
{
	return &w->err;
}

uint64_t kvmmig_stream_writer_offset(const struct kvmmig_stream_writer *w)
{
	return w->offset;
}

int kvmmig_stream_write_regions(struct kvmmig_stream_writer *w,
				const struct kvmmig_stream_region *regions,
				unsigned int count)
{
	uint32_t len;
	int ret;

	ret = call_begin(w, KVMMIG_REC_REGIONS);
	if (ret)
		return ret;
	if (count > KVMMIG_STREAM_MAX_REGIONS)
		return stream_fail(&w->rules, E2BIG, "count", "%u regions, at most %d",
				   count, KVMMIG_STREAM_MAX_REGIONS);
	len = KVMMIG_REGIONS_HDR_SIZE + count * KVMMIG_REGION_ENTRY_SIZE;
	ret = scratch(w, len);
	if (ret)
		return ret;
	memset(w->scratch, 0, len);
	put_le32(w->scratch, count);
	for (unsigned int i = 0; i < count; i++) {
		uint8_t *e = w->scratch + KVMMIG_REGIONS_HDR_SIZE + i * KVMMIG_REGION_ENTRY_SIZE;
		const struct kvmmig_stream_region *r = &regions[i];
		size_t n = strnlen(r->name, sizeof(r->name));

		if (n >= KVMMIG_STREAM_REGION_NAME_LEN) {
			char field[32];

			snprintf(field, sizeof(field), "regions[%u].name", i);
			return stream_fail(&w->rules, EINVAL, field, "longer than %d bytes",
					   KVMMIG_STREAM_REGION_NAME_LEN - 1);
		}
		put_le32(e, r->id);
		put_le64(e + 8, r->size);
		put_le32(e + 16, r->page_size ? r->page_size : w->rules.page_size);
		memcpy(e + 24, r->name, n);
	}
	return write_small(w, KVMMIG_REC_REGIONS, w->scratch, len);
}

int kvmmig_stream_write_round(struct kvmmig_stream_writer *w, uint32_t round,
			      uint32_t flags, uint64_t dirty_pages)
{
	uint8_t body[KVMMIG_ROUND_SIZE];
	int ret;

	ret = call_begin(w, KVMMIG_REC_ROUND);
	if (ret)
		return ret;
	put_le32(body, round);
	put_le32(body + 4, flags);
	put_le64(body + 8, dirty_pages);
	return write_small(w, KVMMIG_REC_ROUND, body, sizeof(body));
}

/*
 * Checks a whole list before any record of it is written, so that a bad
 * entry in the third record of a split does not leave two records behind.
 */
static int precheck_indices(struct kvmmig_stream_writer *w, uint32_t type,
			    uint32_t region_id, const struct kvmmig_stream_page *pages,
			    const uint64_t *index, size_t count)
{
	const struct kvmmig_stream_region *r;
	uint64_t prev = 0;
	unsigned int ridx;
	char field[48];
	int ret;

	ret = stream_check_order(&w->rules, type);
	if (ret)
		return ret;
	r = stream_find_region(&w->rules, region_id, &ridx);
	if (!r)
		return stream_fail(&w->rules, ENOENT, "region_id", "no region %" PRIu32, region_id);
	for (size_t i = 0; i < count; i++) {
		uint64_t v = pages ? pages[i].index : index[i];

		snprintf(field, sizeof(field), "pages[%zu].index", i);
		if (v >= r->npages)
			return stream_fail(&w->rules, ERANGE, field,
					   "page %" PRIu64 " outside region %" PRIu32 " (%" PRIu64 " pages)",
					   v, r->id, r->npages);
		if (i && v <= prev)
			return stream_fail(&w->rules, EINVAL, field,
					   "page %" PRIu64 " does not follow page %" PRIu64
					   " (entries must be strictly increasing)", v, prev);
		if (type == KVMMIG_REC_PAGE_DATA && w->rules.postcopy && w->rules.track &&
		    stream_page_valid(&w->rules, ridx, v))
			return stream_fail(&w->rules, EEXIST, field,
					   "page %" PRIu64 " of region %" PRIu32
					   " sent again after POSTCOPY", v, r->id);
		prev = v;
	}
	return 0;
}

/*
 * The start of every call that writes a list (PAGE_DATA, DISCARD,
 * PAGE_REQUEST): the call is in order, the whole list passes, and the
 * scratch buffer holds the entries of one record.  *@max_entries (if not
 * NULL) gets how many entries one record takes at most.  An empty list
 * writes nothing.
 */
static int begin_list(struct kvmmig_stream_writer *w, uint32_t type, uint32_t region_id,
		      const struct kvmmig_stream_page *pages, const uint64_t *index,
		      size_t count, size_t *max_entries)
{
	size_t max;
	int ret;

	ret = call_begin(w, type);
	if (ret || !count)
		return ret;
	ret = precheck_indices(w, type, region_id, pages, index, count);
	if (ret)
		return ret;
	max = (w->opts.max_body - KVMMIG_PAGES_HDR_SIZE) / KVMMIG_PAGE_ENTRY_SIZE;
	if (max > count)
		max = count;
	if (max_entries)
		*max_entries = max;
	return scratch(w, KVMMIG_PAGES_HDR_SIZE + max * KVMMIG_PAGE_ENTRY_SIZE);
}

int kvmmig_stream_write_pages(struct kvmmig_stream_writer *w,
			      uint32_t region_id,
			      const struct kvmmig_stream_page *pages,
			      size_t count)
{
	uint32_t ps = w->rules.page_size;
	size_t i = 0;
	int ret;

	ret = begin_list(w, KVMMIG_REC_PAGE_DATA, region_id, pages, NULL, count, NULL);
	if (ret || !count)
		return ret;

	while (i < count) {
		uint64_t body_len = KVMMIG_PAGES_HDR_SIZE;
		uint32_t n = 0, avail;
		struct kvmmig_stream_rec rec;

		/* Greedy: as many pages as fit in max_body; at least one always does. */
		while (i + n < count) {
			const struct kvmmig_stream_page *pg = &pages[i + n];
			bool zero = !pg->data || (w->opts.detect_zero && migd_is_zero(pg->data, ps));
			uint64_t cost = KVMMIG_PAGE_ENTRY_SIZE + (zero ? 0 : ps);

			if (body_len + cost > w->opts.max_body)
				break;
			put_le64(w->scratch + KVMMIG_PAGES_HDR_SIZE + (size_t)n * 8,
				 pg->index | (zero ? KVMMIG_PAGE_ZERO : 0));
			body_len += cost;
			n++;
		}
		put_le32(w->scratch, region_id);
		put_le32(w->scratch + 4, n);
		avail = KVMMIG_PAGES_HDR_SIZE + n * KVMMIG_PAGE_ENTRY_SIZE;

		stream_rules_at(&w->rules, NULL, KVMMIG_REC_PAGE_DATA, w->offset);
		ret = stream_apply(&w->rules, KVMMIG_REC_PAGE_DATA, w->scratch, avail,
				   (uint32_t)body_len, &rec);
		if (ret)
			return ret;
		ret = rec_begin(w, KVMMIG_REC_PAGE_DATA, (uint32_t)body_len);
		if (!ret)
			ret = rec_body(w, w->scratch, avail);
		for (uint32_t k = 0; !ret && k < n; k++) {
			uint64_t e = get_le64(w->scratch + KVMMIG_PAGES_HDR_SIZE + (size_t)k * 8);

			if (!(e & KVMMIG_PAGE_ZERO))
				ret = rec_body(w, pages[i + k].data, ps);
		}
		if (!ret)
			ret = rec_end(w, (uint32_t)body_len);
		if (ret)
			return ret;
		i += n;
	}
	return 0;
}

int kvmmig_stream_write_state(struct kvmmig_stream_writer *w,
			      const struct kvmmig_stream_state_desc *desc,
			      const void *blob, uint64_t len)
{
	const uint32_t max_chunk = w->opts.max_body - KVMMIG_STATE_HDR_SIZE;
	const uint8_t *p = blob;
	uint64_t off = 0;
	size_t name_len;
	int ret;

	ret = call_begin(w, KVMMIG_REC_STATE);
	if (ret)
		return ret;
	name_len = strnlen(desc->name, sizeof(desc->name));
	if (name_len >= KVMMIG_STREAM_STATE_NAME_LEN)
		return stream_fail(&w->rules, EINVAL, "name", "longer than %d bytes",
				   KVMMIG_STREAM_STATE_NAME_LEN - 1);
	if (len > KVMMIG_STREAM_MAX_STATE)
		return stream_fail(&w->rules, EMSGSIZE, "total_size",
				   "%" PRIu64 " bytes, at most %llu", len,
				   KVMMIG_STREAM_MAX_STATE);
	ret = scratch(w, KVMMIG_STATE_HDR_SIZE + KVMMIG_NESTED_HDR_SIZE);
	if (ret)
		return ret;

	do {
		uint32_t chunk = len - off > max_chunk ? max_chunk : (uint32_t)(len - off);
		uint32_t flags = off + chunk < len ? KVMMIG_STATE_F_MORE : 0;
		uint32_t peek = chunk < KVMMIG_NESTED_HDR_SIZE ? chunk : KVMMIG_NESTED_HDR_SIZE;
		uint32_t body_len = KVMMIG_STATE_HDR_SIZE + chunk;
		struct kvmmig_stream_rec rec;
		uint8_t *h = w->scratch;

		memset(h, 0, KVMMIG_STATE_HDR_SIZE);
		put_le32(h, desc->kind);
		put_le32(h + 4, desc->instance);
		put_le32(h + 8, desc->format);
		put_le32(h + 12, flags);
		put_le64(h + 16, len);
		memcpy(h + 32, desc->name, name_len);
		/* The rules look into the first bytes of a NESTED blob. */
		if (peek)
			memcpy(h + KVMMIG_STATE_HDR_SIZE, p + off, peek);

		stream_rules_at(&w->rules, NULL, KVMMIG_REC_STATE, w->offset);
		ret = stream_apply(&w->rules, KVMMIG_REC_STATE, h,
				   KVMMIG_STATE_HDR_SIZE + peek, body_len, &rec);
		if (ret)
			return ret;
		ret = rec_begin(w, KVMMIG_REC_STATE, body_len);
		if (!ret)
			ret = rec_body(w, h, KVMMIG_STATE_HDR_SIZE);
		if (!ret && chunk)
			ret = rec_body(w, p + off, chunk);
		if (!ret)
			ret = rec_end(w, body_len);
		if (ret)
			return ret;
		off += chunk;
	} while (off < len);
	return 0;
}

/* DISCARD and PAGE_REQUEST: index lists, split at max_body. */
static int write_index_list(struct kvmmig_stream_writer *w, uint32_t type,
			    uint32_t region_id, const uint64_t *index, size_t count)
{
	size_t max_entries, i = 0;
	int ret;

	ret = begin_list(w, type, region_id, NULL, index, count, &max_entries);
	if (ret || !count)
		return ret;

	while (i < count) {
		uint32_t n = count - i > max_entries ? max_entries : count - i;
		uint32_t len = KVMMIG_PAGES_HDR_SIZE + n * KVMMIG_PAGE_ENTRY_SIZE;

		put_le32(w->scratch, region_id);
		put_le32(w->scratch + 4, n);
		for (uint32_t k = 0; k < n; k++)
			put_le64(w->scratch + KVMMIG_PAGES_HDR_SIZE + (size_t)k * 8, index[i + k]);
		stream_rules_at(&w->rules, NULL, type, w->offset);
		ret = write_small(w, type, w->scratch, len);
		if (ret)
			return ret;
		i += n;
	}
	return 0;
}

int kvmmig_stream_write_discard(struct kvmmig_stream_writer *w,
				uint32_t region_id, const uint64_t *index,
				size_t count)
{
	return write_index_list(w, KVMMIG_REC_DISCARD, region_id, index, count);
}

int kvmmig_stream_write_page_request(struct kvmmig_stream_writer *w,
				     uint32_t region_id, const uint64_t *index,
				     size_t count)
{
	return write_index_list(w, KVMMIG_REC_PAGE_REQUEST, region_id, index, count);
}

int kvmmig_stream_write_postcopy(struct kvmmig_stream_writer *w)
{
	int ret = call_begin(w, KVMMIG_REC_POSTCOPY);

	return ret ? ret : write_small(w, KVMMIG_REC_POSTCOPY, NULL, 0);
}

int kvmmig_stream_write_committed(struct kvmmig_stream_writer *w)
{
	int ret = call_begin(w, KVMMIG_REC_COMMITTED);

	return ret ? ret : write_small(w, KVMMIG_REC_COMMITTED, NULL, 0);
}

int kvmmig_stream_write_optional(struct kvmmig_stream_writer *w,
				 uint32_t type, const void *body, uint32_t len)
{
	int ret = call_begin(w, type);

	if (ret)
		return ret;
	if (!(type & KVMMIG_REC_OPTIONAL))
		return stream_fail(&w->rules, EINVAL, "type", "not an optional type");
	if (len > w->opts.max_body)
		return stream_fail(&w->rules, EMSGSIZE, "body_length",
				   "%" PRIu32 " bytes, at most %" PRIu32, len, w->opts.max_body);
	return write_small(w, type, body, len);
}

int kvmmig_stream_write_end(struct kvmmig_stream_writer *w)
{
	int ret = call_begin(w, KVMMIG_REC_END);

	if (!ret)
		ret = write_small(w, KVMMIG_REC_END, NULL, 0);
	if (!ret)
		ret = kvmmig_stream_writer_flush(w);
	return ret;
}
