/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A dirty log in a shared file, next to a memory file: the stand-in for
 * kvmmig's region dirty log while migd is tested without the module.
 *
 * Whatever writes the memory file (a test VMM, a writer thread) maps the
 * log too and, after each write to a page, marks the page.  migd harvests
 * by atomically taking bitmap words, like the module does.  The order
 * matters: write the page first, then mark it; a write marked before it
 * lands could be harvested, read stale, and never sent again.
 *
 * The log also carries the VM's run state, so that migd can ask the
 * writer to pause before the final pass:
 *
 *   RUNNING -> PAUSE_REQ (migd) -> PAUSED (writer acknowledges, stops)
 *   PAUSED -> RUNNING (migd: migration failed, run on)
 *   PAUSED -> HANDED_OVER (migd: the destination has the VM, stop for good)
 *
 * Layout: a 64-byte header at offset 0, the bitmap (one bit per page, in
 * 64-bit host-endian words) at offset 4096.  The file never leaves the
 * host, so host byte order is fine.
 */
#ifndef MIGD_DIRTYLOG_H
#define MIGD_DIRTYLOG_H

#include <stddef.h>
#include <stdint.h>

#define MIGD_DIRTYLOG_MAGIC	"MIGDLOG1"
#define MIGD_DIRTYLOG_BITMAP_OFF 4096

enum migd_vm_state {
	MIGD_VM_RUNNING = 0,
	MIGD_VM_PAUSE_REQ = 1,
	MIGD_VM_PAUSED = 2,
	MIGD_VM_HANDED_OVER = 3,
};

struct migd_dirtylog_hdr {
	char magic[8];
	uint32_t page_size;
	uint32_t vm_state;	/* enum migd_vm_state, accessed atomically */
	uint64_t npages;
	uint64_t reserved[5];
};

struct migd_dirtylog {
	struct migd_dirtylog_hdr *hdr;
	uint64_t *bits;
	uint64_t npages;
	size_t map_len;
};

/* Creates (or truncates) a log for @npages pages, all clean, RUNNING. */
int migd_dirtylog_create(struct migd_dirtylog *log, const char *path,
			 uint64_t npages, uint32_t page_size);
int migd_dirtylog_open(struct migd_dirtylog *log, const char *path);
void migd_dirtylog_close(struct migd_dirtylog *log);

/* Writer side: @page was written (call after the write). */
void migd_dirtylog_mark(struct migd_dirtylog *log, uint64_t page);

/*
 * Writer side, called between writes: acknowledges a pause request and
 * sleeps until migd resumes or hands over.  Returns the state to act on:
 * RUNNING (go on) or HANDED_OVER (stop writing for good).
 */
enum migd_vm_state migd_dirtylog_vm_check(struct migd_dirtylog *log);

enum migd_vm_state migd_dirtylog_state(struct migd_dirtylog *log);
void migd_dirtylog_set_state(struct migd_dirtylog *log, enum migd_vm_state s);

/*
 * migd side: ORs and clears the bits of [first, first + n) into @bitmap
 * (@first a multiple of 64); returns how many bits it took.
 */
uint64_t migd_dirtylog_harvest(struct migd_dirtylog *log, uint64_t first,
			       uint64_t n, uint64_t *bitmap);

/*
 * migd side: asks the writer to pause and waits up to @timeout_ms for it;
 * -ETIMEDOUT (the request is withdrawn), or what @check (if not NULL)
 * returned when it returned non-zero, such as -ECANCELED.
 */
int migd_dirtylog_pause(struct migd_dirtylog *log, int timeout_ms,
			int (*check)(void *arg), void *arg);

#endif /* MIGD_DIRTYLOG_H */
