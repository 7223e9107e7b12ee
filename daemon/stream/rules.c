// SPDX-License-Identifier: GPL-2.0
/*
 * The order and content rules of the migration stream
 * (Documentation/stream-format.rst, "Order rules" and "Receiver checks").
 *
 * Both the reader and the writer run every record through stream_apply(),
 * which checks everything before it changes any state, so a rejected
 * record leaves the rules exactly as they were.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "stream_priv.h"

const char *kvmmig_stream_rec_name(uint32_t type, char *buf, size_t len)
{
	static const char *const names[] = {
		[KVMMIG_REC_END] = "END",
		[KVMMIG_REC_REGIONS] = "REGIONS",
		[KVMMIG_REC_ROUND] = "ROUND",
		[KVMMIG_REC_PAGE_DATA] = "PAGE_DATA",
		[KVMMIG_REC_STATE] = "STATE",
		[KVMMIG_REC_DISCARD] = "DISCARD",
		[KVMMIG_REC_POSTCOPY] = "POSTCOPY",
		[KVMMIG_REC_PAGE_REQUEST] = "PAGE_REQUEST",
		[KVMMIG_REC_COMMITTED] = "COMMITTED",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		snprintf(buf, len, "%s", names[type]);
	else if (type & KVMMIG_REC_OPTIONAL)
		snprintf(buf, len, "optional(0x%08" PRIx32 ")", type);
	else
		snprintf(buf, len, "type 0x%08" PRIx32, type);
	return buf;
}

void stream_rules_init(struct stream_rules *s, struct kvmmig_stream_error *err,
		       uint64_t track_limit)
{
	memset(s, 0, sizeof(*s));
	s->mode = KVMMIG_STREAM_ANY;
	s->err = err;
	s->track_limit = track_limit;
	s->what = "header";
}

static void free_track(struct stream_track *track, unsigned int n)
{
	if (!track)
		return;
	for (unsigned int i = 0; i < n; i++)
		free(track[i].bits);
	free(track);
}

void stream_rules_release(struct stream_rules *s)
{
	free_track(s->track, s->nregions);
	free(s->regions);
	s->track = NULL;
	s->regions = NULL;
	s->nregions = 0;
}

void stream_rules_at(struct stream_rules *s, const char *what,
		     uint32_t rec_type, uint64_t offset)
{
	s->what = what;
	s->rec_type = rec_type;
	s->offset = offset;
}

int stream_fail(struct stream_rules *s, int err, const char *field,
		const char *fmt, ...)
{
	struct kvmmig_stream_error *e = s->err;
	char what[48], text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	if (s->what) {
		snprintf(what, sizeof(what), "%s", s->what);
	} else {
		char name[32];

		snprintf(what, sizeof(what), "%s record",
			 kvmmig_stream_rec_name(s->rec_type, name, sizeof(name)));
	}

	e->err = err;
	e->offset = s->offset;
	e->rec_type = s->what ? 0 : s->rec_type;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	if (field && *field)
		snprintf(e->msg, sizeof(e->msg), "%s at offset %" PRIu64 ": %s: %s",
			 what, s->offset, field, text);
	else
		snprintf(e->msg, sizeof(e->msg), "%s at offset %" PRIu64 ": %s",
			 what, s->offset, text);
	return -err;
}

/* ---------------------------------------------------------------------- */
/* Header */

void stream_encode_header(const struct kvmmig_stream_hdr *hdr,
			  uint8_t raw[KVMMIG_STREAM_HEADER_SIZE])
{
	memset(raw, 0, KVMMIG_STREAM_HEADER_SIZE);
	memcpy(raw, KVMMIG_STREAM_MAGIC, KVMMIG_STREAM_MAGIC_LEN);
	put_le32(raw + 8, KVMMIG_STREAM_VERSION);
	put_le32(raw + 12, hdr->flags);
	put_le32(raw + 16, hdr->page_size);
	memcpy(raw + 24, hdr->migration_id, 16);
	put_le16(raw + 40, hdr->sender_major);
	put_le16(raw + 42, hdr->sender_minor);
	put_le16(raw + 44, hdr->sender_patch);
	put_le32(raw + 60, kvmmig_crc32c(0, raw, 60));
}

int stream_check_magic(struct stream_rules *s, const uint8_t *raw, size_t len)
{
	size_t n = len < KVMMIG_STREAM_MAGIC_LEN ? len : KVMMIG_STREAM_MAGIC_LEN;
	uint32_t version;

	if (memcmp(raw, KVMMIG_STREAM_MAGIC, n))
		return stream_fail(s, ENOEXEC, "magic", "not a kvmmig stream");
	if (len < 12)
		return 0;
	version = get_le32(raw + 8);
	if (version != KVMMIG_STREAM_VERSION)
		return stream_fail(s, EPROTONOSUPPORT, "version",
				   "format version %" PRIu32 ", this reader knows %d",
				   version, KVMMIG_STREAM_VERSION);
	return 0;
}

static bool is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int stream_parse_header(struct stream_rules *s, const uint8_t *raw,
			struct kvmmig_stream_hdr *hdr,
			enum kvmmig_stream_mode want)
{
	uint32_t crc, stored, flags, unknown, page_size;
	enum kvmmig_stream_mode kind;
	int ret;

	ret = stream_check_magic(s, raw, KVMMIG_STREAM_HEADER_SIZE);
	if (ret)
		return ret;

	stored = get_le32(raw + 60);
	crc = kvmmig_crc32c(0, raw, 60);
	if (crc != stored)
		return stream_fail(s, EBADMSG, "header_crc",
				   "CRC32C mismatch: stored 0x%08" PRIx32
				   ", computed 0x%08" PRIx32, stored, crc);

	flags = get_le32(raw + 12);
	unknown = flags & KVMMIG_STREAM_F_INCOMPAT_MASK &
		  ~KVMMIG_STREAM_F_INCOMPAT_KNOWN;
	if (unknown)
		return stream_fail(s, EOPNOTSUPP, "flags",
				   "unknown incompatible flags 0x%08" PRIx32,
				   unknown);

	if (get_le32(raw + 20))
		return stream_fail(s, EINVAL, "reserved0", "not zero");
	if (get_le16(raw + 46))
		return stream_fail(s, EINVAL, "reserved1", "not zero");
	if (!is_zero(raw + 48, 12))
		return stream_fail(s, EINVAL, "reserved2", "not zero");

	page_size = get_le32(raw + 16);
	if (page_size < KVMMIG_STREAM_PAGE_SIZE_MIN ||
	    page_size > KVMMIG_STREAM_PAGE_SIZE_MAX ||
	    (page_size & (page_size - 1)))
		return stream_fail(s, EINVAL, "page_size",
				   "%" PRIu32 " is not a power of two from %d to %d",
				   page_size, KVMMIG_STREAM_PAGE_SIZE_MIN,
				   KVMMIG_STREAM_PAGE_SIZE_MAX);

	if (is_zero(raw + 24, 16))
		return stream_fail(s, EINVAL, "migration_id", "all zero");

	kind = flags & KVMMIG_STREAM_F_RETURN ? KVMMIG_STREAM_RETURN :
						KVMMIG_STREAM_FORWARD;
	if (want != KVMMIG_STREAM_ANY && want != kind)
		return stream_fail(s, EPROTO, "flags", "a %s stream where a %s stream was expected",
				   kind == KVMMIG_STREAM_RETURN ? "return" : "forward",
				   want == KVMMIG_STREAM_RETURN ? "return" : "forward");

	hdr->version = get_le32(raw + 8);
	hdr->flags = flags;
	hdr->page_size = page_size;
	memcpy(hdr->migration_id, raw + 24, 16);
	hdr->sender_major = get_le16(raw + 40);
	hdr->sender_minor = get_le16(raw + 42);
	hdr->sender_patch = get_le16(raw + 44);

	s->mode = kind;
	s->hdr_flags = flags;
	s->page_size = page_size;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Helpers */

int stream_check_name(struct stream_rules *s, const uint8_t *name, size_t len,
		      bool may_be_empty, const char *field)
{
	size_t n = 0;

	while (n < len && name[n])
		n++;
	if (n == len)
		return stream_fail(s, EINVAL, field, "not NUL-terminated within %zu bytes", len);
	if (!n && !may_be_empty)
		return stream_fail(s, EINVAL, field, "empty");
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x21 || name[i] > 0x7e)
			return stream_fail(s, EINVAL, field,
					   "byte %zu is 0x%02x, not printable ASCII", i, name[i]);
	if (!is_zero(name + n, len - n))
		return stream_fail(s, EINVAL, field, "bytes after the terminating NUL are not zero");
	return 0;
}

const struct kvmmig_stream_region *
stream_find_region(const struct stream_rules *s, uint32_t id, unsigned int *idx)
{
	for (unsigned int i = 0; i < s->nregions; i++) {
		if (s->regions[i].id == id) {
			if (idx)
				*idx = i;
			return &s->regions[i];
		}
	}
	return NULL;
}

bool stream_page_valid(const struct stream_rules *s, unsigned int idx,
		       uint64_t index)
{
	return s->track[idx].bits[index / 64] & (1ull << (index % 64));
}

static void page_set(struct stream_rules *s, unsigned int idx, uint64_t index,
		     bool valid)
{
	uint64_t *w = &s->track[idx].bits[index / 64];

	if (valid)
		*w |= 1ull << (index % 64);
	else
		*w &= ~(1ull << (index % 64));
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case KVMMIG_STATE_VCPU:
		return "VCPU";
	case KVMMIG_STATE_DEVICE:
		return "DEVICE";
	case KVMMIG_STATE_NESTED:
		return "NESTED";
	}
	return "?";
}

/* ---------------------------------------------------------------------- */
/* Order */

/* A return stream after its REGIONS: (PAGE_REQUEST)* [COMMITTED] END. */
static int check_return_order(struct stream_rules *s, uint32_t type, const char *name)
{
	bool promised = s->hdr_flags & KVMMIG_STREAM_F_COMMITTED;

	switch (type) {
	case KVMMIG_REC_PAGE_REQUEST:
		if (s->committed)
			return stream_fail(s, EPROTO, "type", "%s after COMMITTED", name);
		break;
	case KVMMIG_REC_COMMITTED:
		if (!promised)
			return stream_fail(s, EPROTO, "type",
					   "COMMITTED in a return stream without the COMMITTED flag");
		if (s->committed)
			return stream_fail(s, EPROTO, "type", "second COMMITTED");
		break;
	case KVMMIG_REC_END:
		if (promised && !s->committed)
			return stream_fail(s, EPROTO, "type",
					   "END without COMMITTED in a return stream with the COMMITTED flag");
		break;
	}
	return 0;
}

int stream_check_order(struct stream_rules *s, uint32_t type)
{
	char name[32];

	kvmmig_stream_rec_name(type, name, sizeof(name));

	if (s->ended)
		return stream_fail(s, EPROTO, "type", "%s after END", name);
	if (type & KVMMIG_REC_OPTIONAL)
		return 0;
	if (s->more && type != KVMMIG_REC_STATE)
		return stream_fail(s, EPROTO, "type",
				   "%s while STATE %s %" PRIu32 " is incomplete (last chunk had MORE)",
				   name, kind_name(s->more_desc.kind),
				   s->more_desc.instance);

	if (s->mode == KVMMIG_STREAM_RETURN) {
		if (type != KVMMIG_REC_REGIONS && type != KVMMIG_REC_PAGE_REQUEST &&
		    type != KVMMIG_REC_COMMITTED && type != KVMMIG_REC_END)
			return stream_fail(s, EPROTO, "type", "%s in a return stream", name);
	} else if (type == KVMMIG_REC_PAGE_REQUEST || type == KVMMIG_REC_COMMITTED) {
		return stream_fail(s, EPROTO, "type", "%s in a forward stream", name);
	}

	if (type == KVMMIG_REC_REGIONS) {
		if (s->have_regions)
			return stream_fail(s, EPROTO, "type", "second REGIONS");
		return 0;
	}
	if (!s->have_regions)
		return stream_fail(s, EPROTO, "type", "%s before REGIONS", name);
	if (s->mode == KVMMIG_STREAM_RETURN)
		return check_return_order(s, type, name);

	switch (type) {
	case KVMMIG_REC_ROUND:
		if (s->stopped)
			return stream_fail(s, EPROTO, "type", "ROUND after the STOPPED ROUND");
		break;
	case KVMMIG_REC_PAGE_DATA:
		if (!s->round)
			return stream_fail(s, EPROTO, "type", "PAGE_DATA before ROUND 1");
		break;
	case KVMMIG_REC_STATE:
	case KVMMIG_REC_DISCARD:
	case KVMMIG_REC_POSTCOPY:
		if (!s->stopped)
			return stream_fail(s, EPROTO, "type", "%s before the STOPPED ROUND", name);
		if (s->postcopy)
			return stream_fail(s, EPROTO, "type", "%s after POSTCOPY", name);
		break;
	case KVMMIG_REC_END:
		if (!s->stopped)
			return stream_fail(s, EPROTO, "type", "END before the STOPPED ROUND");
		if (s->discarded && !s->postcopy)
			return stream_fail(s, EPROTO, "type",
					   "END after DISCARD without POSTCOPY");
		break;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Records */

static int bad_length(struct stream_rules *s, uint32_t body_len, uint64_t want)
{
	return stream_fail(s, EUCLEAN, "body_length",
			   "%" PRIu32 " bytes, contents need %" PRIu64,
			   body_len, want);
}

static int short_body(struct stream_rules *s, uint32_t body_len, uint32_t min)
{
	return stream_fail(s, EUCLEAN, "body_length",
			   "%" PRIu32 " bytes, shorter than the %" PRIu32 "-byte fixed part",
			   body_len, min);
}

static int apply_regions(struct stream_rules *s, const uint8_t *body,
			 uint32_t body_len, struct kvmmig_stream_rec *rec)
{
	struct kvmmig_stream_region *regions;
	struct stream_track *track = NULL;
	uint64_t total_pages = 0;
	uint32_t count;
	char field[48];
	int ret;

	if (body_len < KVMMIG_REGIONS_HDR_SIZE)
		return short_body(s, body_len, KVMMIG_REGIONS_HDR_SIZE);
	count = get_le32(body);
	if (!count)
		return stream_fail(s, EINVAL, "count", "no regions");
	if (count > KVMMIG_STREAM_MAX_REGIONS)
		return stream_fail(s, E2BIG, "count", "%" PRIu32 " regions, at most %d",
				   count, KVMMIG_STREAM_MAX_REGIONS);
	if (get_le32(body + 4))
		return stream_fail(s, EINVAL, "reserved", "not zero");
	if (body_len != KVMMIG_REGIONS_HDR_SIZE + (uint64_t)count * KVMMIG_REGION_ENTRY_SIZE)
		return bad_length(s, body_len, KVMMIG_REGIONS_HDR_SIZE +
				  (uint64_t)count * KVMMIG_REGION_ENTRY_SIZE);

	/* Count and length agree with bytes that passed the CRC: safe to size by. */
	regions = calloc(count, sizeof(*regions));
	if (!regions)
		return stream_fail(s, ENOMEM, "", "out of memory for %" PRIu32 " regions", count);

	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = body + KVMMIG_REGIONS_HDR_SIZE + i * KVMMIG_REGION_ENTRY_SIZE;
		struct kvmmig_stream_region *r = &regions[i];
		uint32_t flags = get_le32(e + 4);

		r->id = get_le32(e);
		r->size = get_le64(e + 8);
		r->page_size = get_le32(e + 16);

		ret = -EINVAL;
		if (flags) {
			snprintf(field, sizeof(field), "regions[%" PRIu32 "].flags", i);
			ret = stream_fail(s, EOPNOTSUPP, field, "unknown flags 0x%08" PRIx32, flags);
			goto err;
		}
		if (!r->size || r->size % s->page_size) {
			snprintf(field, sizeof(field), "regions[%" PRIu32 "].size", i);
			ret = stream_fail(s, EINVAL, field,
					  "%" PRIu64 " is not a non-zero multiple of the page size %" PRIu32,
					  r->size, s->page_size);
			goto err;
		}
		if (r->page_size != s->page_size) {
			snprintf(field, sizeof(field), "regions[%" PRIu32 "].page_size", i);
			ret = stream_fail(s, EINVAL, field,
					  "%" PRIu32 ", the header says %" PRIu32,
					  r->page_size, s->page_size);
			goto err;
		}
		if (get_le32(e + 20)) {
			snprintf(field, sizeof(field), "regions[%" PRIu32 "].reserved", i);
			ret = stream_fail(s, EINVAL, field, "not zero");
			goto err;
		}
		snprintf(field, sizeof(field), "regions[%" PRIu32 "].name", i);
		ret = stream_check_name(s, e + 24, KVMMIG_STREAM_REGION_NAME_LEN, false, field);
		if (ret)
			goto err;
		memcpy(r->name, e + 24, KVMMIG_STREAM_REGION_NAME_LEN);
		r->npages = r->size / s->page_size;

		for (uint32_t j = 0; j < i; j++) {
			if (regions[j].id == r->id) {
				snprintf(field, sizeof(field), "regions[%" PRIu32 "].id", i);
				ret = stream_fail(s, EEXIST, field,
						  "region id %" PRIu32 " already declared by regions[%" PRIu32 "]",
						  r->id, j);
				goto err;
			}
			if (!strcmp(regions[j].name, r->name)) {
				ret = stream_fail(s, EEXIST, field,
						  "region name \"%s\" already declared by regions[%" PRIu32 "]",
						  r->name, j);
				goto err;
			}
		}
		total_pages += r->npages;
	}

	/* Tracking memory only once every field has been checked. */
	if (s->track_limit && total_pages <= s->track_limit) {
		track = calloc(count, sizeof(*track));
		if (!track)
			goto nomem;
		for (uint32_t i = 0; i < count; i++) {
			track[i].bits = calloc((regions[i].npages + 63) / 64, sizeof(uint64_t));
			if (!track[i].bits)
				goto nomem;
		}
	}

	s->regions = regions;
	s->nregions = count;
	s->track = track;
	s->have_regions = true;
	rec->regions.regions = regions;
	rec->regions.count = count;
	return 0;

nomem:
	free_track(track, count);
	ret = stream_fail(s, ENOMEM, "", "out of memory for tracking %" PRIu64 " pages",
			  total_pages);
err:
	free(regions);
	return ret;
}

static int apply_round(struct stream_rules *s, const uint8_t *body,
		       uint32_t body_len, struct kvmmig_stream_rec *rec)
{
	uint32_t round, flags;

	if (body_len != KVMMIG_ROUND_SIZE)
		return bad_length(s, body_len, KVMMIG_ROUND_SIZE);
	round = get_le32(body);
	flags = get_le32(body + 4);
	if (flags & ~KVMMIG_ROUND_F_STOPPED)
		return stream_fail(s, EOPNOTSUPP, "flags", "unknown flags 0x%08" PRIx32,
				   flags & ~KVMMIG_ROUND_F_STOPPED);
	if (!s->round && round != 1)
		return stream_fail(s, EPROTO, "round", "first ROUND is %" PRIu32 ", not 1", round);
	if ((uint64_t)round != (uint64_t)s->round + 1)
		return stream_fail(s, EPROTO, "round", "ROUND %" PRIu32 " after ROUND %" PRIu32
				   ", expected %" PRIu64, round, s->round,
				   (uint64_t)s->round + 1);

	s->round = round;
	if (flags & KVMMIG_ROUND_F_STOPPED)
		s->stopped = true;
	rec->round.round = round;
	rec->round.flags = flags;
	rec->round.dirty_pages = get_le64(body + 8);
	return 0;
}

/* PAGE_DATA, DISCARD and PAGE_REQUEST: a region and a list of pages. */
static int apply_pages(struct stream_rules *s, uint32_t type, const uint8_t *body,
		       uint32_t avail, uint32_t body_len,
		       struct kvmmig_stream_rec *rec)
{
	const struct kvmmig_stream_region *r;
	uint64_t prev = 0, nfull = 0, want;
	const uint8_t *entries;
	uint32_t region_id, count;
	unsigned int ridx;
	char field[48];

	if (body_len < KVMMIG_PAGES_HDR_SIZE)
		return short_body(s, body_len, KVMMIG_PAGES_HDR_SIZE);
	region_id = get_le32(body);
	count = get_le32(body + 4);

	r = stream_find_region(s, region_id, &ridx);
	if (!r)
		return stream_fail(s, ENOENT, "region_id", "no region %" PRIu32, region_id);
	if (!count)
		return stream_fail(s, EINVAL, "count", "no pages");
	want = KVMMIG_PAGES_HDR_SIZE + (uint64_t)count * KVMMIG_PAGE_ENTRY_SIZE;
	if (want > body_len)
		return stream_fail(s, EUCLEAN, "count",
				   "%" PRIu32 " entries need %" PRIu64 " bytes, the body has %" PRIu32,
				   count, want, body_len);
	if (want > avail)	/* writer bug: it must pass all entries */
		return stream_fail(s, EFAULT, "count", "entries not supplied");

	entries = body + KVMMIG_PAGES_HDR_SIZE;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t v = get_le64(entries + (size_t)i * KVMMIG_PAGE_ENTRY_SIZE);
		uint64_t index = v & KVMMIG_PAGE_INDEX_MASK;
		uint64_t resv = v & ~KVMMIG_PAGE_INDEX_MASK;

		if (type == KVMMIG_REC_PAGE_DATA)
			resv &= ~KVMMIG_PAGE_ZERO;
		if (resv) {
			snprintf(field, sizeof(field), "entry[%" PRIu32 "].reserved", i);
			return stream_fail(s, EINVAL, field, "bits 0x%016" PRIx64 " set", resv);
		}
		if (index >= r->npages) {
			snprintf(field, sizeof(field), "entry[%" PRIu32 "].index", i);
			return stream_fail(s, ERANGE, field,
					   "page %" PRIu64 " outside region %" PRIu32 " (%" PRIu64 " pages)",
					   index, r->id, r->npages);
		}
		if (i && index <= prev) {
			snprintf(field, sizeof(field), "entry[%" PRIu32 "].index", i);
			return stream_fail(s, EINVAL, field,
					   "page %" PRIu64 " does not follow page %" PRIu64
					   " (entries must be strictly increasing)", index, prev);
		}
		if (type == KVMMIG_REC_PAGE_DATA && s->postcopy && s->track &&
		    stream_page_valid(s, ridx, index)) {
			snprintf(field, sizeof(field), "entry[%" PRIu32 "].index", i);
			return stream_fail(s, EEXIST, field,
					   "page %" PRIu64 " of region %" PRIu32
					   " sent again after POSTCOPY", index, r->id);
		}
		prev = index;
		if (!(v & KVMMIG_PAGE_ZERO))
			nfull++;
	}

	if (type == KVMMIG_REC_PAGE_DATA)
		want += nfull * s->page_size;
	if (want != body_len)
		return bad_length(s, body_len, want);

	/* Checked: now record what the destination holds. */
	if (type == KVMMIG_REC_DISCARD)
		s->discarded = true;
	if (s->track && type != KVMMIG_REC_PAGE_REQUEST)
		for (uint32_t i = 0; i < count; i++)
			page_set(s, ridx, get_le64(entries + (size_t)i * 8) &
				 KVMMIG_PAGE_INDEX_MASK, type == KVMMIG_REC_PAGE_DATA);

	rec->pages.region = r;
	rec->pages.count = count;
	rec->pages.zero = (uint32_t)(count - nfull);
	rec->pages.entries = entries;
	rec->pages.data = entries + (size_t)count * KVMMIG_PAGE_ENTRY_SIZE;
	return 0;
}

static int apply_state(struct stream_rules *s, const uint8_t *body,
		       uint32_t avail, uint32_t body_len,
		       struct kvmmig_stream_rec *rec)
{
	uint32_t kind, instance, format, flags, chunk;
	uint64_t total, offset = 0;
	const uint8_t *data;
	int ret;

	if (body_len < KVMMIG_STATE_HDR_SIZE)
		return short_body(s, body_len, KVMMIG_STATE_HDR_SIZE);
	kind = get_le32(body);
	instance = get_le32(body + 4);
	format = get_le32(body + 8);
	flags = get_le32(body + 12);
	total = get_le64(body + 16);
	chunk = body_len - KVMMIG_STATE_HDR_SIZE;
	data = body + KVMMIG_STATE_HDR_SIZE;

	if (kind < KVMMIG_STATE_VCPU || kind > KVMMIG_STATE_NESTED)
		return stream_fail(s, EINVAL, "kind", "unknown state kind %" PRIu32, kind);
	if (flags & ~KVMMIG_STATE_F_MORE)
		return stream_fail(s, EOPNOTSUPP, "flags", "unknown flags 0x%08" PRIx32,
				   flags & ~KVMMIG_STATE_F_MORE);
	if (total > KVMMIG_STREAM_MAX_STATE)
		return stream_fail(s, EMSGSIZE, "total_size",
				   "%" PRIu64 " bytes, at most %llu", total,
				   KVMMIG_STREAM_MAX_STATE);
	if (get_le64(body + 24))
		return stream_fail(s, EINVAL, "reserved", "not zero");
	ret = stream_check_name(s, body + 32, KVMMIG_STREAM_STATE_NAME_LEN, true, "name");
	if (ret)
		return ret;

	if (s->more) {
		const struct kvmmig_stream_state_desc *d = &s->more_desc;
		const char *f = NULL;

		if (kind != d->kind)
			f = "kind";
		else if (instance != d->instance)
			f = "instance";
		else if (format != d->format)
			f = "format";
		else if (memcmp(body + 32, d->name, KVMMIG_STREAM_STATE_NAME_LEN))
			f = "name";
		else if (total != s->more_total)
			f = "total_size";
		if (f)
			return stream_fail(s, EPROTO, f,
					   "does not continue STATE %s %" PRIu32 " (last chunk had MORE)",
					   kind_name(d->kind), d->instance);
		offset = s->more_done;
	}

	if (offset + chunk > total)
		return stream_fail(s, EUCLEAN, "body_length",
				   "chunk of %" PRIu32 " bytes at %" PRIu64
				   " ends beyond total_size %" PRIu64, chunk, offset, total);
	if (flags & KVMMIG_STATE_F_MORE) {
		if (!chunk)
			return stream_fail(s, EUCLEAN, "body_length", "empty chunk with MORE");
		if (offset + chunk == total)
			return stream_fail(s, EUCLEAN, "flags",
					   "MORE set but the chunk completes total_size %" PRIu64, total);
	} else if (offset + chunk != total) {
		return stream_fail(s, EUCLEAN, "total_size",
				   "blob ends after %" PRIu64 " bytes, total_size is %" PRIu64,
				   offset + chunk, total);
	}

	if (kind == KVMMIG_STATE_NESTED && offset == 0) {
		uint16_t nformat;
		uint32_t nsize;

		if (total < KVMMIG_NESTED_HDR_SIZE)
			return stream_fail(s, EUCLEAN, "total_size",
					   "%" PRIu64 " bytes, a kvm_nested_state has at least %d",
					   total, KVMMIG_NESTED_HDR_SIZE);
		if (chunk < 8)
			return stream_fail(s, EUCLEAN, "body_length",
					   "first NESTED chunk of %" PRIu32 " bytes lacks the kvm_nested_state header",
					   chunk);
		if (avail < KVMMIG_STATE_HDR_SIZE + 8)	/* writer bug */
			return stream_fail(s, EFAULT, "body_length", "chunk not supplied");
		nformat = get_le16(data + 2);
		nsize = get_le32(data + 4);
		if (nformat > 1)
			return stream_fail(s, EINVAL, "nested.format",
					   "%u is neither VMX (0) nor SVM (1)", nformat);
		if (nsize != total)
			return stream_fail(s, EUCLEAN, "nested.size",
					   "kvm_nested_state says %" PRIu32 " bytes, total_size is %" PRIu64,
					   nsize, total);
	}

	rec->state.desc.kind = kind;
	rec->state.desc.instance = instance;
	rec->state.desc.format = format;
	memcpy(rec->state.desc.name, body + 32, KVMMIG_STREAM_STATE_NAME_LEN);
	rec->state.flags = flags;
	rec->state.total_size = total;
	rec->state.offset = offset;
	rec->state.data = data;
	rec->state.len = chunk;

	s->more = flags & KVMMIG_STATE_F_MORE;
	if (s->more) {
		s->more_desc = rec->state.desc;
		s->more_total = total;
		s->more_done = offset + chunk;
	}
	return 0;
}

static int apply_end(struct stream_rules *s, uint32_t body_len)
{
	if (body_len)
		return bad_length(s, body_len, 0);

	if (s->postcopy && s->track) {
		for (unsigned int i = 0; i < s->nregions; i++) {
			const uint64_t *bits = s->track[i].bits;
			uint64_t n = s->regions[i].npages;
			char field[48];

			for (uint64_t w = 0; w < (n + 63) / 64; w++) {
				uint64_t want = w < n / 64 ? ~0ull : (1ull << (n % 64)) - 1;
				uint64_t miss = ~bits[w] & want;

				if (!miss)
					continue;
				snprintf(field, sizeof(field), "regions[%u]", i);
				return stream_fail(s, EPROTO, field,
						   "page %" PRIu64 " of region %" PRIu32
						   " never delivered after POSTCOPY",
						   w * 64 + __builtin_ctzll(miss), s->regions[i].id);
			}
		}
	}
	s->ended = true;
	return 0;
}

int stream_apply(struct stream_rules *s, uint32_t type, const uint8_t *body,
		 uint32_t avail, uint32_t body_len, struct kvmmig_stream_rec *rec)
{
	int ret;

	if (!(type & KVMMIG_REC_OPTIONAL) &&
	    (type < KVMMIG_REC_END || type > KVMMIG_REC_COMMITTED)) {
		char name[32];

		return stream_fail(s, ENOMSG, "type", "unknown mandatory record %s",
				   kvmmig_stream_rec_name(type, name, sizeof(name)));
	}

	ret = stream_check_order(s, type);
	if (ret)
		return ret;

	switch (type) {
	case KVMMIG_REC_END:
		return apply_end(s, body_len);
	case KVMMIG_REC_REGIONS:
		return apply_regions(s, body, body_len, rec);
	case KVMMIG_REC_ROUND:
		return apply_round(s, body, body_len, rec);
	case KVMMIG_REC_PAGE_DATA:
	case KVMMIG_REC_DISCARD:
	case KVMMIG_REC_PAGE_REQUEST:
		return apply_pages(s, type, body, avail, body_len, rec);
	case KVMMIG_REC_STATE:
		return apply_state(s, body, avail, body_len, rec);
	case KVMMIG_REC_POSTCOPY:
		if (body_len)
			return bad_length(s, body_len, 0);
		s->postcopy = true;
		return 0;
	case KVMMIG_REC_COMMITTED:
		if (body_len)
			return bad_length(s, body_len, 0);
		s->committed = true;
		return 0;
	}
	/* An optional record no version so far defines: skipped. */
	return 0;
}
