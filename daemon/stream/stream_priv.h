/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals shared by the stream reader and writer: little-endian field
 * access and the rule checker both of them run every record through, so
 * the writer cannot produce what the reader rejects.
 */
#ifndef MIGD_STREAM_PRIV_H
#define MIGD_STREAM_PRIV_H

#include <stdarg.h>
#include <string.h>

#include "stream.h"

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t rec_pad(uint32_t body_len)
{
	return (8 - (body_len & 7)) & 7;
}

/* Per-region page bitmap: bit set = the destination holds a valid copy. */
struct stream_track {
	uint64_t *bits;
};

/* Everything the order and content rules need to remember. */
struct stream_rules {
	enum kvmmig_stream_mode mode;	/* FORWARD or RETURN once known */
	uint32_t hdr_flags;
	uint32_t page_size;

	bool have_regions;
	bool stopped;
	bool postcopy;
	bool discarded;
	bool committed;
	bool ended;
	uint32_t round;

	/* An unfinished STATE blob (the last chunk had MORE). */
	bool more;
	struct kvmmig_stream_state_desc more_desc;
	uint64_t more_total;
	uint64_t more_done;

	struct kvmmig_stream_region *regions;
	unsigned int nregions;

	uint64_t track_limit;
	struct stream_track *track;	/* NULL when not tracking */

	/* Where errors go, and the record they are about. */
	struct kvmmig_stream_error *err;
	uint64_t offset;
	uint32_t rec_type;
	const char *what;		/* "header", "stream" or NULL: record */
};

void stream_rules_init(struct stream_rules *s, struct kvmmig_stream_error *err,
		       uint64_t track_limit);
void stream_rules_release(struct stream_rules *s);

/* Sets where the next error is reported. */
void stream_rules_at(struct stream_rules *s, const char *what,
		     uint32_t rec_type, uint64_t offset);

/* Records @err and a message; returns -err. */
int stream_fail(struct stream_rules *s, int err, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void stream_encode_header(const struct kvmmig_stream_hdr *hdr,
			  uint8_t raw[KVMMIG_STREAM_HEADER_SIZE]);

/*
 * Checks magic and version on the first @len bytes of a header, so that a
 * short foreign file is reported as foreign rather than as truncated.
 */
int stream_check_magic(struct stream_rules *s, const uint8_t *raw, size_t len);

/*
 * Checks a whole raw header in the order the specification gives, decodes
 * it into @hdr and adopts its page size and kind.
 */
int stream_parse_header(struct stream_rules *s, const uint8_t *raw,
			struct kvmmig_stream_hdr *hdr,
			enum kvmmig_stream_mode want);

/*
 * Checks one record body against the order and content rules and, only if
 * it passes, updates the state and fills @rec.  @avail bytes of @body are
 * present; for PAGE_DATA the writer passes just the fixed part and the
 * entries (avail < body_len) since contents are never inspected.
 */
int stream_apply(struct stream_rules *s, uint32_t type, const uint8_t *body,
		 uint32_t avail, uint32_t body_len,
		 struct kvmmig_stream_rec *rec);

/* Order rule alone, for the writer's pre-checks. */
int stream_check_order(struct stream_rules *s, uint32_t type);

const struct kvmmig_stream_region *
stream_find_region(const struct stream_rules *s, uint32_t id,
		   unsigned int *idx);
bool stream_page_valid(const struct stream_rules *s, unsigned int idx,
		       uint64_t index);

/* Checks a name field: 1 (or 0 if @may_be_empty) to len-1 printable bytes. */
int stream_check_name(struct stream_rules *s, const uint8_t *name, size_t len,
		      bool may_be_empty, const char *field);

#endif /* MIGD_STREAM_PRIV_H */
