// SPDX-License-Identifier: GPL-2.0
/*
 * The guest of the migration tests (see guest.h).
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/clock.h"
#include "guest.h"
#include "migd_run.h"

void make_image(const char *path, uint64_t npages, unsigned int seed)
{
	uint8_t *page = malloc(PS);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, npages * PS)) {
		perror(path);
		exit(2);
	}
	for (uint64_t i = 0; i < npages; i++) {
		if (i % 5 == 3)
			continue;
		for (unsigned int k = 0; k < PS; k++)
			page[k] = (uint8_t)(seed + i * 7 + k * 13);
		memcpy(page, &i, 8);
		memset(page + 8, 0, 8);
		if (pwrite(fd, page, PS, i * PS) != PS) {
			perror(path);
			exit(2);
		}
	}
	close(fd);
	free(page);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t start = migd_now_ns(), done = 0, rnd = 88172645463325252ull;

	while (!w->stop) {
		enum migd_vm_state s = migd_dirtylog_state(&w->log);
		uint64_t due;

		if (s == MIGD_VM_HANDED_OVER) {
			w->saw_handover = true;
			break;
		}
		if (s == MIGD_VM_PAUSE_REQ) {
			w->saw_pause_req = true;
			if (!w->hold_pause)
				migd_dirtylog_set_state(&w->log, MIGD_VM_PAUSED);
			sleep_ms(1);
			continue;
		}
		if (s == MIGD_VM_PAUSED) {
			sleep_ms(1);
			continue;
		}
		/* Steady rate: catch up to rate * elapsed, a few pages at a time. */
		due = (migd_now_ns() - start) * w->rate / MIGD_NSEC_PER_SEC;
		if (done >= due) {
			sleep_ms(1);
			continue;
		}
		for (int k = 0; k < 16 && done < due; k++, done++) {
			uint64_t p;

			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			/* Half the writes hit a hot tenth of memory, like a guest. */
			p = (rnd >> 1) % (rnd & 1 ? w->npages : w->npages / 10 + 1);
			w->shadow[p]++;
			memcpy(w->mem + p * PS + 8, &w->shadow[p], 8);
			memcpy(w->mem + p * PS + 16, &rnd, 8);
			migd_dirtylog_mark(&w->log, p);
			w->writes++;
		}
	}
	return NULL;
}

void writer_start(struct writer *w, const char *path, uint64_t npages,
		  unsigned int rate)
{
	char lp[160];
	int fd;

	memset(w, 0, sizeof(*w));
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->npages = npages;
	w->rate = rate;
	w->shadow = calloc(npages, 8);
	fd = open(path, O_RDWR);
	w->mem = mmap(NULL, npages * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	/* Pick up where an earlier writer on the same file left off. */
	for (uint64_t p = 0; w->mem != MAP_FAILED && p < npages; p++)
		memcpy(&w->shadow[p], w->mem + p * PS + 8, 8);
	snprintf(lp, sizeof(lp), "%s.dirty", path);
	if (w->mem == MAP_FAILED || migd_dirtylog_create(&w->log, lp, npages, PS)) {
		perror("writer");
		exit(2);
	}
	pthread_create(&w->thread, NULL, writer_main, w);
}

bool writer_stop(struct writer *w)
{
	bool intact = true;

	w->stop = true;
	pthread_join(w->thread, NULL);
	for (uint64_t p = 0; p < w->npages; p++) {
		uint64_t idx, gen;

		if (p % 5 == 3 && !w->shadow[p])
			continue;
		memcpy(&idx, w->mem + p * PS, 8);
		memcpy(&gen, w->mem + p * PS + 8, 8);
		if ((p % 5 != 3 && idx != p) || gen != w->shadow[p]) {
			if (intact)
				printf("# source page %" PRIu64 " changed behind the writer\n", p);
			intact = false;
		}
	}
	munmap(w->mem, w->npages * PS);
	migd_dirtylog_close(&w->log);
	free(w->shadow);
	return intact;
}

bool writer_runs(struct writer *w, uint64_t n)
{
	uint64_t start = w->writes, end = now_ms() + 5000;

	while (now_ms() < end) {
		if (w->writes >= start + n)
			return true;
		sleep_ms(2);
	}
	return false;
}

bool writer_saw_handover(struct writer *w, int ms)
{
	uint64_t end = now_ms() + ms;

	while (!w->saw_handover) {
		if (now_ms() >= end)
			return false;
		sleep_ms(2);
	}
	return true;
}
