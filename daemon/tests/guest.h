/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest of the migration tests: a memory image in a file, and a
 * writer thread in the test that plays the guest.  It keeps dirtying
 * pages of the image at a steady rate, half of the writes on a hot tenth
 * of memory, marks them in the shared dirty log and honours pause
 * requests; what it wrote is checked against the file when it stops.
 */
#ifndef MIGD_TESTS_GUEST_H
#define MIGD_TESTS_GUEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/dirtylog.h"

#define PS		4096u

/*
 * A memory image: every page starts with its index and a generation
 * counter (the writer bumps it), then bytes from a seed; every 5th page is
 * zero, to exercise zero pages.
 */
void make_image(const char *path, uint64_t npages, unsigned int seed);

struct writer {
	pthread_t thread;
	char path[128];
	uint64_t npages;
	unsigned int rate;		/* pages per second */
	/* Shared with the test's thread. */
	_Atomic bool stop;
	_Atomic bool hold_pause;	/* see a pause request but do not ack it */
	_Atomic bool saw_pause_req;
	_Atomic bool saw_handover;
	_Atomic uint64_t writes;
	uint64_t *shadow;		/* generation of each page, as written */
	uint8_t *mem;
	struct migd_dirtylog log;
};

/* Starts writing @npages of @path at @rate pages a second. */
void writer_start(struct writer *w, const char *path, uint64_t npages,
		  unsigned int rate);
/* Stops the thread; checks that the file holds what it wrote. */
bool writer_stop(struct writer *w);
/* Waits until the writer has done @n more writes: it runs on. */
bool writer_runs(struct writer *w, uint64_t n);
/*
 * Waits up to @ms for the writer to see the hand-over: it looks once a
 * millisecond, and on a loaded machine later than migd exits.
 */
bool writer_saw_handover(struct writer *w, int ms);

#endif /* MIGD_TESTS_GUEST_H */
