/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Migration stream format v1: writer and streaming reader.
 *
 * Documentation/stream-format.rst is the definition; this is one
 * implementation of it.  Every function returns 0 (or a count) on success
 * and a negative errno on failure; the error classes are the ones the
 * specification lists.
 */
#ifndef MIGD_STREAM_H
#define MIGD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Wire constants, see "Constants" in the specification. */
#define KVMMIG_STREAM_MAGIC		"\x89KVMMIG\n"
#define KVMMIG_STREAM_MAGIC_LEN		8
#define KVMMIG_STREAM_VERSION		1
#define KVMMIG_STREAM_HEADER_SIZE	64
#define KVMMIG_STREAM_MAX_BODY		(16u << 20)
#define KVMMIG_STREAM_MAX_REGIONS	1024
#define KVMMIG_STREAM_MAX_STATE		(1ull << 30)
#define KVMMIG_STREAM_PAGE_SIZE_MIN	4096
#define KVMMIG_STREAM_PAGE_SIZE_MAX	65536
#define KVMMIG_STREAM_REGION_NAME_LEN	40
#define KVMMIG_STREAM_STATE_NAME_LEN	32

/* Header flags: bits 0-15 must be understood, bits 16-31 may be ignored. */
#define KVMMIG_STREAM_F_RETURN		(1u << 0)
/*
 * Compatible: in a forward stream, "answer with COMMITTED, and wait for my
 * end of stream before handing over"; in a return stream, "I will".
 */
#define KVMMIG_STREAM_F_COMMITTED	(1u << 16)
#define KVMMIG_STREAM_F_INCOMPAT_MASK	0x0000ffffu
#define KVMMIG_STREAM_F_INCOMPAT_KNOWN	KVMMIG_STREAM_F_RETURN

/* Record types. */
#define KVMMIG_REC_OPTIONAL		(1u << 31)
#define KVMMIG_REC_END			0x00000001u
#define KVMMIG_REC_REGIONS		0x00000002u
#define KVMMIG_REC_ROUND		0x00000003u
#define KVMMIG_REC_PAGE_DATA		0x00000004u
#define KVMMIG_REC_STATE		0x00000005u
#define KVMMIG_REC_DISCARD		0x00000006u
#define KVMMIG_REC_POSTCOPY		0x00000007u
#define KVMMIG_REC_PAGE_REQUEST		0x00000008u
#define KVMMIG_REC_COMMITTED		0x00000009u

/* Record layout sizes. */
#define KVMMIG_REC_HDR_SIZE		8
#define KVMMIG_REC_TRAILER_SIZE		8
#define KVMMIG_REGIONS_HDR_SIZE		8
#define KVMMIG_REGION_ENTRY_SIZE	64
#define KVMMIG_ROUND_SIZE		16
#define KVMMIG_PAGES_HDR_SIZE		8
#define KVMMIG_PAGE_ENTRY_SIZE		8
#define KVMMIG_STATE_HDR_SIZE		64

/* Page index entries. */
#define KVMMIG_PAGE_INDEX_MASK		((1ull << 52) - 1)
#define KVMMIG_PAGE_ZERO		(1ull << 63)

#define KVMMIG_ROUND_F_STOPPED		(1u << 0)

#define KVMMIG_STATE_VCPU		1
#define KVMMIG_STATE_DEVICE		2
#define KVMMIG_STATE_NESTED		3
#define KVMMIG_STATE_F_MORE		(1u << 0)
/* struct kvm_nested_state: flags, format, size, then the header to 128. */
#define KVMMIG_NESTED_HDR_SIZE		128

/* Stream kinds a reader accepts. */
enum kvmmig_stream_mode {
	KVMMIG_STREAM_ANY,
	KVMMIG_STREAM_FORWARD,
	KVMMIG_STREAM_RETURN,
};

/* The stream header, decoded. */
struct kvmmig_stream_hdr {
	uint32_t version;
	uint32_t flags;
	uint32_t page_size;
	uint8_t migration_id[16];
	uint16_t sender_major;
	uint16_t sender_minor;
	uint16_t sender_patch;
};

struct kvmmig_stream_region {
	uint32_t id;
	uint64_t size;
	uint32_t page_size;
	char name[KVMMIG_STREAM_REGION_NAME_LEN];	/* NUL-terminated */
	uint64_t npages;				/* size / page_size */
};

/*
 * The first problem found, by the reader or the writer.  msg is the whole
 * human-readable text ("PAGE_DATA record at offset 4240: entry[3].index:
 * ..."); the other members let a program react to it.
 */
struct kvmmig_stream_error {
	int err;		/* positive errno, 0 if no error */
	uint64_t offset;	/* stream offset of the record (or header) */
	uint32_t rec_type;	/* 0 for the header and for stream-level errors */
	char field[48];		/* "entry[3].index", "" if none */
	char msg[320];
};

/* Name of a record type, "optional(0x80001234)" style for unknown ones. */
const char *kvmmig_stream_rec_name(uint32_t type, char *buf, size_t len);

/* Fill @id with a random, non-zero migration id. */
int kvmmig_stream_new_id(uint8_t id[16]);

/* ---------------------------------------------------------------------- */
/* Writer */

/* Writes all of @buf or fails; returns 0 or -errno. */
struct kvmmig_stream_sink {
	int (*write)(void *opaque, const void *buf, size_t len);
	void *opaque;
};

/* A growing memory buffer, for tests, the fuzzer corpus and small saves. */
struct kvmmig_stream_membuf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void kvmmig_stream_sink_fd(struct kvmmig_stream_sink *sink, int fd);
void kvmmig_stream_sink_membuf(struct kvmmig_stream_sink *sink,
			       struct kvmmig_stream_membuf *mb);
void kvmmig_stream_membuf_free(struct kvmmig_stream_membuf *mb);

struct kvmmig_stream_writer_opts {
	uint32_t max_body;	/* split PAGE_DATA/STATE above; 0: MAX_BODY */
	bool detect_zero;	/* send all-zero contents as ZERO entries */
	uint64_t track_pages;	/* track pages if regions have at most this many */
};

/* A page to send: data is page_size bytes, or NULL for a zero page. */
struct kvmmig_stream_page {
	uint64_t index;
	const void *data;
};

struct kvmmig_stream_state_desc {
	uint32_t kind;		/* KVMMIG_STATE_* */
	uint32_t instance;
	uint32_t format;
	char name[KVMMIG_STREAM_STATE_NAME_LEN];	/* NUL-terminated, may be "" */
};

struct kvmmig_stream_writer;

/*
 * The writer checks every call against the same rules as the reader, so
 * it never emits a stream the reader rejects: a call that would break
 * them returns the reader's errno, writes nothing, and the stream stays
 * usable.  A sink failure is sticky.  The header is written by the first
 * flush, so _new() does no I/O; hdr->version is ignored (always 1).
 */
int kvmmig_stream_writer_new(struct kvmmig_stream_writer **wp,
			     const struct kvmmig_stream_sink *sink,
			     const struct kvmmig_stream_hdr *hdr,
			     const struct kvmmig_stream_writer_opts *opts);
void kvmmig_stream_writer_free(struct kvmmig_stream_writer *w);
const struct kvmmig_stream_error *
kvmmig_stream_writer_error(const struct kvmmig_stream_writer *w);
/* Bytes handed to the sink or buffered so far. */
uint64_t kvmmig_stream_writer_offset(const struct kvmmig_stream_writer *w);

int kvmmig_stream_write_regions(struct kvmmig_stream_writer *w,
				const struct kvmmig_stream_region *regions,
				unsigned int count);
int kvmmig_stream_write_round(struct kvmmig_stream_writer *w, uint32_t round,
			      uint32_t flags, uint64_t dirty_pages);
/* Pages of one region in strictly increasing index order; split as needed. */
int kvmmig_stream_write_pages(struct kvmmig_stream_writer *w,
			      uint32_t region_id,
			      const struct kvmmig_stream_page *pages,
			      size_t count);
/* A whole blob, chunked with MORE as needed. */
int kvmmig_stream_write_state(struct kvmmig_stream_writer *w,
			      const struct kvmmig_stream_state_desc *desc,
			      const void *blob, uint64_t len);
int kvmmig_stream_write_discard(struct kvmmig_stream_writer *w,
				uint32_t region_id, const uint64_t *index,
				size_t count);
int kvmmig_stream_write_postcopy(struct kvmmig_stream_writer *w);
int kvmmig_stream_write_page_request(struct kvmmig_stream_writer *w,
				     uint32_t region_id, const uint64_t *index,
				     size_t count);
/* Return stream with KVMMIG_STREAM_F_COMMITTED: every page is in place. */
int kvmmig_stream_write_committed(struct kvmmig_stream_writer *w);
/* An optional record (type must have KVMMIG_REC_OPTIONAL). */
int kvmmig_stream_write_optional(struct kvmmig_stream_writer *w,
				 uint32_t type, const void *body,
				 uint32_t len);
/* Writes END and flushes. */
int kvmmig_stream_write_end(struct kvmmig_stream_writer *w);
int kvmmig_stream_writer_flush(struct kvmmig_stream_writer *w);

/* ---------------------------------------------------------------------- */
/* Reader */

/* Reads up to @len bytes: returns the count, 0 at end of stream, -errno. */
struct kvmmig_stream_source {
	ssize_t (*read)(void *opaque, void *buf, size_t len);
	void *opaque;
};

struct kvmmig_stream_memsrc {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

void kvmmig_stream_source_fd(struct kvmmig_stream_source *src, int fd);
void kvmmig_stream_source_mem(struct kvmmig_stream_source *src,
			      struct kvmmig_stream_memsrc *m,
			      const void *data, size_t len);

struct kvmmig_stream_reader_opts {
	enum kvmmig_stream_mode mode;
	uint64_t track_pages;	/* track pages if regions have at most this many */
};

/*
 * One checked record.  Pointers point into the reader's buffer and are
 * valid until the next call on the reader.  For an unknown optional record
 * type is its raw type (with KVMMIG_REC_OPTIONAL) and only body is set.
 */
struct kvmmig_stream_rec {
	uint32_t type;
	uint64_t offset;
	uint32_t body_len;
	const uint8_t *body;
	union {
		struct {
			const struct kvmmig_stream_region *regions;
			unsigned int count;
		} regions;
		struct {
			uint32_t round;
			uint32_t flags;
			uint64_t dirty_pages;
		} round;
		/* PAGE_DATA, DISCARD, PAGE_REQUEST */
		struct {
			const struct kvmmig_stream_region *region;
			uint32_t count;
			uint32_t zero;		/* PAGE_DATA entries with ZERO */
			const uint8_t *entries;
			const uint8_t *data;	/* PAGE_DATA contents */
		} pages;
		struct {
			struct kvmmig_stream_state_desc desc;
			uint32_t flags;
			uint64_t total_size;
			uint64_t offset;	/* of this chunk in the blob */
			const void *data;
			uint32_t len;
		} state;
	};
};

struct kvmmig_stream_reader;

int kvmmig_stream_reader_new(struct kvmmig_stream_reader **rp,
			     const struct kvmmig_stream_source *src,
			     const struct kvmmig_stream_reader_opts *opts);
void kvmmig_stream_reader_free(struct kvmmig_stream_reader *r);

/* Reads and checks the header; _next() calls it when needed. */
int kvmmig_stream_read_header(struct kvmmig_stream_reader *r,
			      struct kvmmig_stream_hdr *hdr);
/*
 * Reads and checks the next record: 1 and *rec filled, 0 after END when
 * the stream has ended cleanly, or -errno (then see _reader_error()).
 * Errors are sticky.
 */
int kvmmig_stream_read_next(struct kvmmig_stream_reader *r,
			    struct kvmmig_stream_rec *rec);
/*
 * Calls @cb for every record until END; a non-zero return from @cb stops
 * the walk and is returned.
 */
int kvmmig_stream_read_all(struct kvmmig_stream_reader *r,
			   int (*cb)(void *opaque,
				     const struct kvmmig_stream_rec *rec),
			   void *opaque);
const struct kvmmig_stream_error *
kvmmig_stream_reader_error(const struct kvmmig_stream_reader *r);
/* True if the reader tracks pages (regions fit in opts.track_pages). */
bool kvmmig_stream_reader_tracking(const struct kvmmig_stream_reader *r);
/* Bytes consumed from the source so far. */
uint64_t kvmmig_stream_reader_offset(const struct kvmmig_stream_reader *r);

/* Entry @i of a PAGE_DATA, DISCARD or PAGE_REQUEST record. */
uint64_t kvmmig_stream_rec_index(const struct kvmmig_stream_rec *rec,
				 uint32_t i);

/* Walks the pages of a PAGE_DATA record, contents included. */
struct kvmmig_stream_page_iter {
	const struct kvmmig_stream_rec *rec;
	uint32_t i;
	const uint8_t *next_data;
};

void kvmmig_stream_page_iter_init(struct kvmmig_stream_page_iter *it,
				  const struct kvmmig_stream_rec *rec);
bool kvmmig_stream_page_iter_next(struct kvmmig_stream_page_iter *it,
				  struct kvmmig_stream_page *page);

#endif /* MIGD_STREAM_H */
