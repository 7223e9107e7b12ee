/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An independent encoder of stream format v1, written from
 * Documentation/stream-format.rst alone: the tests build their inputs with
 * it, so that the reader is checked against the specification and not
 * against the writer it ships with.  Nothing here includes stream.h.
 */
#ifndef MIGD_TESTS_WIRE_H
#define MIGD_TESTS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define W_VERSION	1
#define W_HDR_SIZE	64
#define W_MAX_BODY	(16u << 20)
#define W_F_RETURN	1u
#define W_F_COMMITTED	(1u << 16)
#define W_OPTIONAL	0x80000000u

#define W_END		1u
#define W_REGIONS	2u
#define W_ROUND		3u
#define W_PAGE_DATA	4u
#define W_STATE		5u
#define W_DISCARD	6u
#define W_POSTCOPY	7u
#define W_PAGE_REQUEST	8u
#define W_COMMITTED	9u

#define W_ZERO		(1ull << 63)
#define W_STOPPED	1u
#define W_MORE		1u
#define W_VCPU		1u
#define W_DEVICE	2u
#define W_NESTED	3u

struct wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

void wb_put(struct wbuf *b, const void *d, size_t n);
void wb_zero(struct wbuf *b, size_t n);
void wb_u16(struct wbuf *b, uint16_t v);
void wb_u32(struct wbuf *b, uint32_t v);
void wb_u64(struct wbuf *b, uint64_t v);
void wb_free(struct wbuf *b);

void w_le32(uint8_t *p, uint32_t v);
uint32_t w_get32(const uint8_t *p);

/* Bit-at-a-time CRC-32C, straight from the parameters in the spec. */
uint32_t w_crc32c(uint32_t crc, const void *d, size_t n);

struct w_hdr {
	uint32_t version;
	uint32_t flags;
	uint32_t page_size;
	uint32_t reserved0;
	uint8_t id[16];
	uint16_t s_major, s_minor, s_patch;
	uint16_t reserved1;
	uint8_t reserved2[12];
};

/* version 1, forward, 4096-byte pages, id 01..10, sender 0.1.0 */
void w_hdr_default(struct w_hdr *h);
void w_header(struct wbuf *b, const struct w_hdr *h);

/* Appends a framed record; returns its offset. */
size_t w_record(struct wbuf *b, uint32_t type, const void *body, uint32_t len);
/* Recomputes the CRC of the record at @off after a test patched it. */
void w_fix_crc(struct wbuf *b, size_t off);

/* Record bodies. */
void wb_regions_hdr(struct wbuf *body, uint32_t count);
void wb_region(struct wbuf *body, uint32_t id, uint64_t size,
	       uint32_t page_size, const char *name);
void wb_round(struct wbuf *body, uint32_t round, uint32_t flags, uint64_t dirty);
void wb_state_hdr(struct wbuf *body, uint32_t kind, uint32_t instance,
		  uint32_t format, uint32_t flags, uint64_t total,
		  const char *name);

/* Appends common records in one go. */
size_t w_regions2(struct wbuf *b);		/* id 1 "ram0" 16 pages, id 7 "ram1" 4 pages */
size_t w_round(struct wbuf *b, uint32_t round, uint32_t flags);
size_t w_end(struct wbuf *b);
/* PAGE_DATA of @n pages: entries as given, contents filled with (index + seed). */
size_t w_pages(struct wbuf *b, uint32_t region, const uint64_t *entries,
	       uint32_t n, uint32_t page_size, uint8_t seed);
size_t w_index_list(struct wbuf *b, uint32_t type, uint32_t region,
		    const uint64_t *entries, uint32_t n);
size_t w_state(struct wbuf *b, uint32_t kind, uint32_t instance, uint32_t flags,
	       uint64_t total, const char *name, const void *chunk, uint32_t len);

/* Header, REGIONS (w_regions2), ROUND 1. */
void w_prefix(struct wbuf *b);
/* Header, REGIONS (w_regions2), ROUND 1 STOPPED. */
void w_prefix_stopped(struct wbuf *b);

#endif /* MIGD_TESTS_WIRE_H */
