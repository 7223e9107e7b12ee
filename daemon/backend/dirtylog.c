// SPDX-License-Identifier: GPL-2.0
/*
 * The shared-file dirty log (see dirtylog.h).
 */

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "dirtylog.h"

static size_t log_len(uint64_t npages)
{
	return MIGD_DIRTYLOG_BITMAP_OFF + (npages + 63) / 64 * 8;
}

static int log_map(struct migd_dirtylog *log, int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	log->hdr = p;
	log->bits = (uint64_t *)((char *)p + MIGD_DIRTYLOG_BITMAP_OFF);
	log->map_len = len;
	return 0;
}

int migd_dirtylog_create(struct migd_dirtylog *log, const char *path,
			 uint64_t npages, uint32_t page_size)
{
	size_t len = log_len(npages);
	int fd, ret;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = ftruncate(fd, len) ? -errno : log_map(log, fd, len);
	close(fd);
	if (ret)
		return ret;
	memcpy(log->hdr->magic, MIGD_DIRTYLOG_MAGIC, 8);
	log->hdr->page_size = page_size;
	log->hdr->npages = npages;
	log->npages = npages;
	__atomic_store_n(&log->hdr->vm_state, MIGD_VM_RUNNING, __ATOMIC_RELEASE);
	return 0;
}

int migd_dirtylog_open(struct migd_dirtylog *log, const char *path)
{
	struct migd_dirtylog_hdr hdr;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = -EINVAL;
	if (fstat(fd, &st) || st.st_size < MIGD_DIRTYLOG_BITMAP_OFF ||
	    pread(fd, &hdr, sizeof(hdr), 0) != sizeof(hdr) ||
	    memcmp(hdr.magic, MIGD_DIRTYLOG_MAGIC, 8) ||
	    hdr.npages > (UINT64_MAX - MIGD_DIRTYLOG_BITMAP_OFF) / 2 ||
	    (uint64_t)st.st_size < log_len(hdr.npages))
		goto out;
	ret = log_map(log, fd, log_len(hdr.npages));
	log->npages = hdr.npages;
out:
	close(fd);
	return ret;
}

void migd_dirtylog_close(struct migd_dirtylog *log)
{
	if (log->hdr)
		munmap(log->hdr, log->map_len);
	memset(log, 0, sizeof(*log));
}

void migd_dirtylog_mark(struct migd_dirtylog *log, uint64_t page)
{
	/* Release: the page's contents are visible before its bit. */
	__atomic_fetch_or(&log->bits[page / 64], 1ull << (page % 64),
			  __ATOMIC_RELEASE);
}

enum migd_vm_state migd_dirtylog_state(struct migd_dirtylog *log)
{
	return __atomic_load_n(&log->hdr->vm_state, __ATOMIC_ACQUIRE);
}

void migd_dirtylog_set_state(struct migd_dirtylog *log, enum migd_vm_state s)
{
	__atomic_store_n(&log->hdr->vm_state, s, __ATOMIC_SEQ_CST);
}

static void sleep_us(long us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = us * 1000 };

	nanosleep(&ts, NULL);
}

enum migd_vm_state migd_dirtylog_vm_check(struct migd_dirtylog *log)
{
	uint32_t want = MIGD_VM_PAUSE_REQ;
	enum migd_vm_state s;

	__atomic_compare_exchange_n(&log->hdr->vm_state, &want, MIGD_VM_PAUSED,
				    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	while ((s = migd_dirtylog_state(log)) == MIGD_VM_PAUSED ||
	       s == MIGD_VM_PAUSE_REQ)
		sleep_us(200);
	return s;
}

uint64_t migd_dirtylog_harvest(struct migd_dirtylog *log, uint64_t first,
			       uint64_t n, uint64_t *bitmap)
{
	uint64_t words = (n + 63) / 64, count = 0;

	for (uint64_t w = 0; w < words; w++) {
		uint64_t *src = &log->bits[first / 64 + w];
		uint64_t mask = ~0ull, v;

		if (w == words - 1 && n % 64)
			mask = (1ull << (n % 64)) - 1;

		/* A cheap load first: most words are clean, leave them be. */
		if (!__atomic_load_n(src, __ATOMIC_RELAXED))
			continue;
		/* Acquire pairs with the writer's release in _mark(). */
		v = __atomic_fetch_and(src, ~mask, __ATOMIC_ACQUIRE) & mask;
		count += __builtin_popcountll(v & ~bitmap[w]);
		bitmap[w] |= v;
	}
	return count;
}

int migd_dirtylog_pause(struct migd_dirtylog *log, int timeout_ms,
			int (*check)(void *arg), void *arg)
{
	uint64_t deadline = migd_now_ns() + (uint64_t)timeout_ms * MIGD_NSEC_PER_MSEC;
	uint32_t want = MIGD_VM_RUNNING;

	if (!__atomic_compare_exchange_n(&log->hdr->vm_state, &want, MIGD_VM_PAUSE_REQ,
					 false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
	    want != MIGD_VM_PAUSE_REQ)
		return want == MIGD_VM_PAUSED ? 0 : -EINVAL;
	for (;;) {
		int err = 0;

		if (migd_dirtylog_state(log) == MIGD_VM_PAUSED)
			return 0;
		if (check)
			err = check(arg);
		if (!err && migd_now_ns() >= deadline)
			err = -ETIMEDOUT;
		if (!err) {
			sleep_us(200);
			continue;
		}
		/* Withdraw the request; if the writer paused meanwhile, resume it. */
		want = MIGD_VM_PAUSE_REQ;
		if (!__atomic_compare_exchange_n(&log->hdr->vm_state, &want,
						 MIGD_VM_RUNNING, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			migd_dirtylog_set_state(log, MIGD_VM_RUNNING);
		return err;
	}
}
