// SPDX-License-Identifier: GPL-2.0
/*
 * Streaming reader of the migration stream: pulls bytes from a source in
 * chunks, holds one record at a time, and hands out a record only once
 * all of it has been read and checked.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "stream_priv.h"

#define IBUF_SIZE	(64u << 10)
/* The record buffer grows with the bytes that actually arrive, from here. */
#define RBUF_MIN	(64u << 10)

struct kvmmig_stream_reader {
	struct kvmmig_stream_source src;
	struct kvmmig_stream_reader_opts opts;
	struct stream_rules rules;
	struct kvmmig_stream_error err;
	struct kvmmig_stream_hdr hdr;
	bool have_hdr;
	bool done;
	uint64_t offset;	/* bytes handed from ibuf to the parser */

	uint8_t *ibuf;
	size_t ipos, ilen;
	bool eof;

	uint8_t *rbuf;
	size_t rcap;
};

static ssize_t fd_read(void *opaque, void *buf, size_t len)
{
	int fd = (int)(intptr_t)opaque;
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

void kvmmig_stream_source_fd(struct kvmmig_stream_source *src, int fd)
{
	src->read = fd_read;
	src->opaque = (void *)(intptr_t)fd;
}

static ssize_t mem_read(void *opaque, void *buf, size_t len)
{
	struct kvmmig_stream_memsrc *m = opaque;
	size_t n = m->len - m->pos;

	if (n > len)
		n = len;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return n;
}

void kvmmig_stream_source_mem(struct kvmmig_stream_source *src,
			      struct kvmmig_stream_memsrc *m,
			      const void *data, size_t len)
{
	m->data = data;
	m->len = len;
	m->pos = 0;
	src->read = mem_read;
	src->opaque = m;
}

int kvmmig_stream_reader_new(struct kvmmig_stream_reader **rp,
			     const struct kvmmig_stream_source *src,
			     const struct kvmmig_stream_reader_opts *opts)
{
	struct kvmmig_stream_reader *r;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ibuf = malloc(IBUF_SIZE);
	if (!r->ibuf) {
		free(r);
		return -ENOMEM;
	}
	r->src = *src;
	if (opts)
		r->opts = *opts;
	stream_rules_init(&r->rules, &r->err, r->opts.track_pages);
	*rp = r;
	return 0;
}

void kvmmig_stream_reader_free(struct kvmmig_stream_reader *r)
{
	if (!r)
		return;
	stream_rules_release(&r->rules);
	free(r->rbuf);
	free(r->ibuf);
	free(r);
}

const struct kvmmig_stream_error *
kvmmig_stream_reader_error(const struct kvmmig_stream_reader *r)
{
	return &r->err;
}

bool kvmmig_stream_reader_tracking(const struct kvmmig_stream_reader *r)
{
	return r->rules.track;
}

uint64_t kvmmig_stream_reader_offset(const struct kvmmig_stream_reader *r)
{
	return r->offset;
}

/*
 * Copies up to @want bytes into @dst; fewer only at end of stream.  Large
 * reads with an empty ibuf go straight to @dst to spare a copy of page data.
 */
static ssize_t take(struct kvmmig_stream_reader *r, uint8_t *dst, size_t want)
{
	size_t got = 0;

	while (got < want) {
		size_t n = r->ilen - r->ipos;
		ssize_t rd;

		if (n) {
			if (n > want - got)
				n = want - got;
			memcpy(dst + got, r->ibuf + r->ipos, n);
			r->ipos += n;
			got += n;
			continue;
		}
		if (r->eof)
			break;
		if (want - got >= IBUF_SIZE)
			rd = r->src.read(r->src.opaque, dst + got, want - got);
		else
			rd = r->src.read(r->src.opaque, r->ibuf, IBUF_SIZE);
		if (rd < 0) {
			stream_rules_at(&r->rules, "stream", 0, r->offset + got);
			return stream_fail(&r->rules, (int)-rd, "", "read failed: %s",
					   strerror((int)-rd));
		}
		if ((size_t)rd > (want - got >= IBUF_SIZE ? want - got : IBUF_SIZE)) {
			stream_rules_at(&r->rules, "stream", 0, r->offset + got);
			return stream_fail(&r->rules, EIO, "", "source returned %zd bytes, more than asked",
					   rd);
		}
		if (rd == 0) {
			r->eof = true;
			break;
		}
		if (want - got >= IBUF_SIZE) {
			got += rd;
		} else {
			r->ipos = 0;
			r->ilen = rd;
		}
	}
	r->offset += got;
	return got;
}

int kvmmig_stream_read_header(struct kvmmig_stream_reader *r,
			      struct kvmmig_stream_hdr *hdr)
{
	uint8_t raw[KVMMIG_STREAM_HEADER_SIZE];
	ssize_t got, more;
	int ret;

	if (r->err.err)
		return -r->err.err;
	if (r->have_hdr)
		goto out;

	stream_rules_at(&r->rules, "header", 0, 0);
	/* Magic and version first: another version may have another header. */
	got = take(r, raw, 12);
	if (got < 0)
		return got;
	ret = stream_check_magic(&r->rules, raw, got);
	if (ret)
		return ret;
	if (got == 12) {
		more = take(r, raw + 12, sizeof(raw) - 12);
		if (more < 0)
			return more;
		got += more;
	}
	if (got < (ssize_t)sizeof(raw))
		return stream_fail(&r->rules, ENODATA, "", got ?
				   "truncated: %zd of %d bytes" : "empty stream (%zd of %d bytes)",
				   got, KVMMIG_STREAM_HEADER_SIZE);
	ret = stream_parse_header(&r->rules, raw, &r->hdr, r->opts.mode);
	if (ret)
		return ret;
	r->have_hdr = true;
out:
	if (hdr)
		*hdr = r->hdr;
	return 0;
}

/* After END only the end of the stream may come. */
static int read_eof(struct kvmmig_stream_reader *r)
{
	uint8_t tail[4];
	ssize_t got;

	stream_rules_at(&r->rules, "stream", 0, r->offset);
	got = take(r, tail, sizeof(tail));
	if (got < 0)
		return got;
	if (!got) {
		r->done = true;
		return 0;
	}
	if (got == sizeof(tail) && get_le32(tail) == KVMMIG_REC_END)
		return stream_fail(&r->rules, EALREADY, "type", "END repeated");
	return stream_fail(&r->rules, ENOTEMPTY, "", "data after END");
}

/* Grows the record buffer to hold at least @need bytes, but at most @max. */
static int rbuf_grow(struct kvmmig_stream_reader *r, size_t need, size_t max)
{
	size_t cap = r->rcap ? r->rcap : RBUF_MIN;
	uint8_t *p;

	while (cap < need)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap <= r->rcap)
		return 0;
	p = realloc(r->rbuf, cap);
	if (!p)
		return stream_fail(&r->rules, ENOMEM, "", "out of memory for a %zu-byte record", max);
	r->rbuf = p;
	r->rcap = cap;
	return 0;
}

int kvmmig_stream_read_next(struct kvmmig_stream_reader *r,
			    struct kvmmig_stream_rec *rec)
{
	uint32_t type, body_len, pad, stored, crc;
	uint64_t rec_off;
	size_t total, have;
	ssize_t got;
	int ret;

	if (r->err.err)
		return -r->err.err;
	if (!r->have_hdr) {
		ret = kvmmig_stream_read_header(r, NULL);
		if (ret)
			return ret;
	}
	if (r->done)
		return 0;
	if (r->rules.ended)
		return read_eof(r);

	rec_off = r->offset;
	stream_rules_at(&r->rules, "stream", 0, rec_off);
	ret = rbuf_grow(r, KVMMIG_REC_HDR_SIZE, RBUF_MIN);
	if (ret)
		return ret;
	got = take(r, r->rbuf, KVMMIG_REC_HDR_SIZE);
	if (got < 0)
		return got;
	if (!got)
		return stream_fail(&r->rules, ENODATA, "", "stream ended without END");
	if (got < KVMMIG_REC_HDR_SIZE)
		return stream_fail(&r->rules, ENODATA, "",
				   "truncated record header (%zd of %d bytes)",
				   got, KVMMIG_REC_HDR_SIZE);

	type = get_le32(r->rbuf);
	body_len = get_le32(r->rbuf + 4);
	stream_rules_at(&r->rules, NULL, type, rec_off);
	if (body_len > KVMMIG_STREAM_MAX_BODY)
		return stream_fail(&r->rules, EMSGSIZE, "body_length",
				   "%" PRIu32 " bytes, at most %u", body_len,
				   KVMMIG_STREAM_MAX_BODY);

	pad = rec_pad(body_len);
	total = KVMMIG_REC_HDR_SIZE + (size_t)body_len + pad + KVMMIG_REC_TRAILER_SIZE;
	have = KVMMIG_REC_HDR_SIZE;
	/* Grow only as bytes arrive: a short stream cannot make us allocate 16 MiB. */
	while (have < total) {
		if (have == r->rcap) {
			ret = rbuf_grow(r, have + 1, total);
			if (ret)
				return ret;
		}
		got = take(r, r->rbuf + have, (r->rcap < total ? r->rcap : total) - have);
		if (got < 0)
			return got;
		if (!got)
			return stream_fail(&r->rules, ENODATA, "",
					   "truncated record (%zu of %zu bytes)", have, total);
		have += got;
	}

	stored = get_le32(r->rbuf + total - 8);
	crc = kvmmig_crc32c(0, r->rbuf, total - 8);
	if (crc != stored)
		return stream_fail(&r->rules, EBADMSG, "crc",
				   "CRC32C mismatch: stored 0x%08" PRIx32
				   ", computed 0x%08" PRIx32, stored, crc);
	for (uint32_t i = 0; i < pad; i++)
		if (r->rbuf[KVMMIG_REC_HDR_SIZE + body_len + i])
			return stream_fail(&r->rules, EINVAL, "padding", "not zero");
	if (get_le32(r->rbuf + total - 4))
		return stream_fail(&r->rules, EINVAL, "reserved", "trailer reserved word not zero");

	memset(rec, 0, sizeof(*rec));
	rec->type = type;
	rec->offset = rec_off;
	rec->body_len = body_len;
	rec->body = r->rbuf + KVMMIG_REC_HDR_SIZE;
	ret = stream_apply(&r->rules, type, rec->body, body_len, body_len, rec);
	if (ret)
		return ret;
	return 1;
}

int kvmmig_stream_read_all(struct kvmmig_stream_reader *r,
			   int (*cb)(void *opaque,
				     const struct kvmmig_stream_rec *rec),
			   void *opaque)
{
	struct kvmmig_stream_rec rec;
	int ret;

	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0) {
		ret = cb ? cb(opaque, &rec) : 0;
		if (ret)
			return ret;
	}
	return ret;
}

uint64_t kvmmig_stream_rec_index(const struct kvmmig_stream_rec *rec, uint32_t i)
{
	return get_le64(rec->pages.entries + (size_t)i * KVMMIG_PAGE_ENTRY_SIZE) &
	       KVMMIG_PAGE_INDEX_MASK;
}

void kvmmig_stream_page_iter_init(struct kvmmig_stream_page_iter *it,
				  const struct kvmmig_stream_rec *rec)
{
	it->rec = rec;
	it->i = 0;
	it->next_data = rec->pages.data;
}

bool kvmmig_stream_page_iter_next(struct kvmmig_stream_page_iter *it,
				  struct kvmmig_stream_page *page)
{
	const struct kvmmig_stream_rec *rec = it->rec;
	uint64_t v;

	if (it->i >= rec->pages.count)
		return false;
	v = get_le64(rec->pages.entries + (size_t)it->i * KVMMIG_PAGE_ENTRY_SIZE);
	it->i++;
	page->index = v & KVMMIG_PAGE_INDEX_MASK;
	if (v & KVMMIG_PAGE_ZERO) {
		page->data = NULL;
	} else {
		page->data = it->next_data;
		it->next_data += rec->pages.region->page_size;
	}
	return true;
}
