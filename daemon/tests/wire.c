// SPDX-License-Identifier: GPL-2.0
/*
 * Independent stream encoder for the tests; see wire.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static const uint8_t magic[8] = { 0x89, 'K', 'V', 'M', 'M', 'I', 'G', '\n' };

void wb_put(struct wbuf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

void wb_zero(struct wbuf *b, size_t n)
{
	static const uint8_t z[64];

	while (n) {
		size_t k = n < sizeof(z) ? n : sizeof(z);

		wb_put(b, z, k);
		n -= k;
	}
}

void wb_u16(struct wbuf *b, uint16_t v)
{
	uint8_t x[2] = { v & 0xff, v >> 8 };

	wb_put(b, x, 2);
}

void w_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t w_get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

void wb_u32(struct wbuf *b, uint32_t v)
{
	uint8_t x[4];

	w_le32(x, v);
	wb_put(b, x, 4);
}

void wb_u64(struct wbuf *b, uint64_t v)
{
	wb_u32(b, (uint32_t)v);
	wb_u32(b, (uint32_t)(v >> 32));
}

void wb_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

uint32_t w_crc32c(uint32_t crc, const void *d, size_t n)
{
	const uint8_t *p = d;

	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

void w_hdr_default(struct w_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->version = W_VERSION;
	h->page_size = 4096;
	for (int i = 0; i < 16; i++)
		h->id[i] = i + 1;
	h->s_minor = 1;
}

void w_header(struct wbuf *b, const struct w_hdr *h)
{
	size_t start = b->len;

	wb_put(b, magic, 8);
	wb_u32(b, h->version);
	wb_u32(b, h->flags);
	wb_u32(b, h->page_size);
	wb_u32(b, h->reserved0);
	wb_put(b, h->id, 16);
	wb_u16(b, h->s_major);
	wb_u16(b, h->s_minor);
	wb_u16(b, h->s_patch);
	wb_u16(b, h->reserved1);
	wb_put(b, h->reserved2, 12);
	wb_u32(b, w_crc32c(0, b->p + start, 60));
}

size_t w_record(struct wbuf *b, uint32_t type, const void *body, uint32_t len)
{
	size_t off = b->len;
	uint32_t pad = (8 - len % 8) % 8;

	wb_u32(b, type);
	wb_u32(b, len);
	wb_put(b, body, len);
	wb_zero(b, pad);
	wb_u32(b, w_crc32c(0, b->p + off, 8 + len + pad));
	wb_u32(b, 0);
	return off;
}

void w_fix_crc(struct wbuf *b, size_t off)
{
	uint32_t len = w_get32(b->p + off + 4);
	uint32_t pad = (8 - len % 8) % 8;

	w_le32(b->p + off + 8 + len + pad, w_crc32c(0, b->p + off, 8 + len + pad));
}

void wb_regions_hdr(struct wbuf *body, uint32_t count)
{
	wb_u32(body, count);
	wb_u32(body, 0);
}

void wb_region(struct wbuf *body, uint32_t id, uint64_t size,
	       uint32_t page_size, const char *name)
{
	uint8_t field[40] = { 0 };

	memcpy(field, name, strlen(name) < 40 ? strlen(name) : 40);
	wb_u32(body, id);
	wb_u32(body, 0);
	wb_u64(body, size);
	wb_u32(body, page_size);
	wb_u32(body, 0);
	wb_put(body, field, sizeof(field));
}

void wb_round(struct wbuf *body, uint32_t round, uint32_t flags, uint64_t dirty)
{
	wb_u32(body, round);
	wb_u32(body, flags);
	wb_u64(body, dirty);
}

void wb_state_hdr(struct wbuf *body, uint32_t kind, uint32_t instance,
		  uint32_t format, uint32_t flags, uint64_t total,
		  const char *name)
{
	uint8_t field[32] = { 0 };

	memcpy(field, name, strlen(name) < 32 ? strlen(name) : 32);
	wb_u32(body, kind);
	wb_u32(body, instance);
	wb_u32(body, format);
	wb_u32(body, flags);
	wb_u64(body, total);
	wb_u64(body, 0);
	wb_put(body, field, sizeof(field));
}

size_t w_regions2(struct wbuf *b)
{
	struct wbuf body = { 0 };
	size_t off;

	wb_regions_hdr(&body, 2);
	wb_region(&body, 1, 16 * 4096, 4096, "ram0");
	wb_region(&body, 7, 4 * 4096, 4096, "ram1");
	off = w_record(b, W_REGIONS, body.p, body.len);
	wb_free(&body);
	return off;
}

size_t w_round(struct wbuf *b, uint32_t round, uint32_t flags)
{
	struct wbuf body = { 0 };
	size_t off;

	wb_round(&body, round, flags, 0);
	off = w_record(b, W_ROUND, body.p, body.len);
	wb_free(&body);
	return off;
}

size_t w_end(struct wbuf *b)
{
	return w_record(b, W_END, NULL, 0);
}

/* The fixed part and the entries of PAGE_DATA, DISCARD and PAGE_REQUEST. */
static void wb_entries(struct wbuf *body, uint32_t region, const uint64_t *entries,
		       uint32_t n)
{
	wb_u32(body, region);
	wb_u32(body, n);
	for (uint32_t i = 0; i < n; i++)
		wb_u64(body, entries[i]);
}

size_t w_pages(struct wbuf *b, uint32_t region, const uint64_t *entries,
	       uint32_t n, uint32_t page_size, uint8_t seed)
{
	struct wbuf body = { 0 };
	size_t off;

	wb_entries(&body, region, entries, n);
	for (uint32_t i = 0; i < n; i++) {
		if (entries[i] & W_ZERO)
			continue;
		for (uint32_t k = 0; k < page_size; k++) {
			uint8_t c = (uint8_t)(entries[i] + seed + k / 512);

			wb_put(&body, &c, 1);
		}
	}
	off = w_record(b, W_PAGE_DATA, body.p, body.len);
	wb_free(&body);
	return off;
}

size_t w_index_list(struct wbuf *b, uint32_t type, uint32_t region,
		    const uint64_t *entries, uint32_t n)
{
	struct wbuf body = { 0 };
	size_t off;

	wb_entries(&body, region, entries, n);
	off = w_record(b, type, body.p, body.len);
	wb_free(&body);
	return off;
}

size_t w_state(struct wbuf *b, uint32_t kind, uint32_t instance, uint32_t flags,
	       uint64_t total, const char *name, const void *chunk, uint32_t len)
{
	struct wbuf body = { 0 };
	size_t off;

	wb_state_hdr(&body, kind, instance, 0x5eed, flags, total, name);
	wb_put(&body, chunk, len);
	off = w_record(b, W_STATE, body.p, body.len);
	wb_free(&body);
	return off;
}

static void prefix(struct wbuf *b, uint32_t round_flags)
{
	struct w_hdr h;

	w_hdr_default(&h);
	w_header(b, &h);
	w_regions2(b);
	w_round(b, 1, round_flags);
}

void w_prefix(struct wbuf *b)
{
	prefix(b, 0);
}

void w_prefix_stopped(struct wbuf *b)
{
	prefix(b, W_STOPPED);
}
