// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty log as a migration uses it, under attack.  Writers change a
 * region (stores through a mapping, process_vm_writev(), pwrite(), O_DIRECT
 * reads from a RAM disk into the mapping) while a chaos thread keeps
 * changing protections, zapping, migrating, compacting and forking over
 * that mapping, and NUMA balancing scans it.  Meanwhile the test copies
 * every page each harvest reports into a shadow, as migd would to the
 * destination.  When everything stops, one last harvest and copy must
 * leave the shadow equal to the region: any write the log lost shows as a
 * page that differs.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "chaos.h"
#include "kvmmig_util.h"

#define PAGE		4096UL
#define NR_PAGES	4096UL			/* 16 MiB */
#define SIZE		(NR_PAGES * PAGE)
#define WORDS		(NR_PAGES / 64)
#define CHUNK_PAGES	16
#define RAMDISK		"/dev/ram0"

enum writer_kind {
	W_STORE,		/* stores through the attacked mapping */
	W_VM_WRITEV,		/* process_vm_writev() into it */
	W_PWRITE,		/* pwrite() on the region fd */
	W_ODIRECT,		/* O_DIRECT reads from a RAM disk into it */
	W_NR,
};

static const char *const writer_names[W_NR] = {
	"stores", "process_vm_writev", "pwrite", "O_DIRECT reads",
};

struct writer {
	pthread_t thread;
	enum writer_kind kind;
	char *mem;
	int fd;			/* region fd, or the RAM disk for W_ODIRECT */
	unsigned int seed;
	volatile bool *stop;
	unsigned long writes, failed;
	int err;
};

FIXTURE(chaos) {
	int dev;
	int fd;
	char *mem;
	char *shadow;
	__u64 bitmap[WORDS];
};

FIXTURE_VARIANT(chaos) {
	unsigned int writers;	/* 1 << enum writer_kind */
	unsigned int ops;	/* the chaos thread's, 1 << enum chaos_op */
};

#define MIGRATION_OPS	((1 << CHAOS_MOVE_PAGES) | (1 << CHAOS_COMPACT))

FIXTURE_VARIANT_ADD(chaos, stores) {
	.writers = 1 << W_STORE,
	.ops = CHAOS_ALL_OPS,
};

/* Migration alone: the re-arm must not miss a page behind its entry. */
FIXTURE_VARIANT_ADD(chaos, stores_under_migration) {
	.writers = 1 << W_STORE,
	.ops = MIGRATION_OPS,
};

/* No chaos: a writer through get_user_pages() alone. */
FIXTURE_VARIANT_ADD(chaos, process_vm_writev) {
	.writers = 1 << W_VM_WRITEV,
};

FIXTURE_VARIANT_ADD(chaos, process_vm_writev_under_chaos) {
	.writers = 1 << W_VM_WRITEV,
	.ops = CHAOS_ALL_OPS,
};

FIXTURE_VARIANT_ADD(chaos, o_direct) {
	.writers = 1 << W_ODIRECT,
};

FIXTURE_VARIANT_ADD(chaos, all_writers_under_chaos) {
	.writers = (1 << W_NR) - 1,
	.ops = CHAOS_ALL_OPS,
};

FIXTURE_SETUP(chaos)
{
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	self->fd = kvmmig_region(self->dev, SIZE, "dirty_log_chaos", -1);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	/* The destination starts as the source does: all zero. */
	self->shadow = calloc(1, SIZE);
	ASSERT_NE(NULL, self->shadow);
}

FIXTURE_TEARDOWN(chaos)
{
	numa_balancing_fast(false);
	munmap(self->mem, SIZE);
	free(self->shadow);
	close(self->fd);
	close(self->dev);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	static __thread char buf[CHUNK_PAGES * PAGE] __attribute__((aligned(4096)));
	struct iovec local = { buf, sizeof(buf) }, remote;
	size_t page, off;
	uint64_t val;

	while (!__atomic_load_n(w->stop, __ATOMIC_SEQ_CST)) {
		page = rand_r(&w->seed) % (NR_PAGES - CHUNK_PAGES);
		val = ((uint64_t)w->kind << 56) | ++w->writes;
		switch (w->kind) {
		case W_STORE:
			off = (rand_r(&w->seed) % (PAGE / 8)) * 8;
			__atomic_store_n((uint64_t *)(w->mem + page * PAGE + off),
					 val, __ATOMIC_RELAXED);
			break;
		case W_VM_WRITEV:
			memset(buf, (int)val, sizeof(buf));
			remote.iov_base = w->mem + page * PAGE;
			remote.iov_len = sizeof(buf);
			/* EFAULT while the chaos thread protects it. */
			if (process_vm_writev(getpid(), &local, 1, &remote, 1,
					      0) < 0)
				w->failed++;
			break;
		case W_PWRITE:
			memset(buf, (int)val, PAGE);
			if (pwrite(w->fd, buf, PAGE, page * PAGE) != PAGE) {
				w->err = -errno;
				return NULL;
			}
			break;
		case W_ODIRECT:
			if (pread(w->fd, w->mem + page * PAGE, sizeof(buf),
				  (rand_r(&w->seed) % 64) * sizeof(buf)) < 0)
				w->failed++;
			break;
		default:
			break;
		}
	}
	return NULL;
}

/* Copy the pages of @bitmap from the region into the shadow. */
static int copy_reported(FIXTURE_DATA(chaos) *self)
{
	unsigned long page;

	for (page = 0; page < NR_PAGES; page++) {
		if (!bitmap_test(self->bitmap, page))
			continue;
		if (pread(self->fd, self->shadow + page * PAGE, PAGE,
			  page * PAGE) != PAGE)
			return -errno;
	}
	return 0;
}

/* A RAM disk with something other than zeros on it, for O_DIRECT. */
static int open_ramdisk(void)
{
	static char buf[CHUNK_PAGES * PAGE];
	int fd = open(RAMDISK, O_RDWR), i;

	if (fd < 0)
		return -errno;
	for (i = 0; i < 64; i++) {
		memset(buf, 0x40 + i, sizeof(buf));
		if (pwrite(fd, buf, sizeof(buf), i * sizeof(buf)) != sizeof(buf)) {
			close(fd);
			return -EIO;
		}
	}
	fsync(fd);
	close(fd);
	fd = open(RAMDISK, O_RDONLY | O_DIRECT);
	return fd < 0 ? -errno : fd;
}

#define SECONDS		4

TEST_F_TIMEOUT(chaos, shadow_copy_equals_the_region, 300)
{
	struct chaos chaos = {
		.addr = self->mem, .len = SIZE, .ops = variant->ops,
		.seed = 42,
	};
	struct writer w[W_NR] = { 0 };
	volatile bool stop = false;
	unsigned long harvests = 0, copied = 0, page, differ = 0;
	char ops[256], writes[256] = "";
	bool numa;
	time_t end;
	long n;
	int k, ret, rd = -1;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT,
				       0, 0));
	numa = !numa_balancing_fast(true);
	if (variant->writers & (1 << W_ODIRECT)) {
		rd = open_ramdisk();
		ASSERT_LE(0, rd) TH_LOG("%s (brd, loaded by the bed): %s",
					RAMDISK, strerror(-rd));
	}
	chaos_install_segv_waiter(&chaos);
	if (chaos.ops)
		ASSERT_EQ(0, chaos_start(&chaos));
	for (k = 0; k < W_NR; k++) {
		if (!(variant->writers & (1 << k)))
			continue;
		w[k] = (struct writer) {
			.kind = k, .mem = self->mem, .seed = k + 1,
			.fd = k == W_ODIRECT ? rd : self->fd, .stop = &stop,
		};
		ASSERT_EQ(0, pthread_create(&w[k].thread, NULL, writer_main,
					    &w[k]));
	}

	end = time(NULL) + SECONDS;
	while (time(NULL) < end) {
		n = kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap);
		ASSERT_LE(0, n);
		ASSERT_EQ(0, copy_reported(self));
		harvests++;
		copied += n;
		usleep(1000);
	}

	__atomic_store_n(&stop, true, __ATOMIC_SEQ_CST);
	for (k = 0; k < W_NR; k++)
		if (variant->writers & (1 << k))
			pthread_join(w[k].thread, NULL);
	ret = chaos.ops ? chaos_stop(&chaos) : 0;
	if (numa)
		numa_balancing_fast(false);
	ASSERT_EQ(0, ret) TH_LOG("chaos: %s", chaos.why);

	/* The last pass of a migration, with the source stopped. */
	n = kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap);
	ASSERT_LE(0, n);
	ASSERT_EQ(0, copy_reported(self));

	for (page = 0; page < NR_PAGES; page++) {
		char now[PAGE];

		ASSERT_EQ(PAGE, pread(self->fd, now, PAGE, page * PAGE));
		if (memcmp(now, self->shadow + page * PAGE, PAGE)) {
			if (differ < 10)
				TH_LOG("page %lu changed after its last report",
				       page);
			differ++;
		}
	}

	chaos_describe(&chaos, ops, sizeof(ops));
	for (k = 0; k < W_NR; k++) {
		if (!(variant->writers & (1 << k)))
			continue;
		ASSERT_EQ(0, w[k].err) TH_LOG("%s: %s", writer_names[k],
					      strerror(-w[k].err));
		snprintf(writes + strlen(writes), sizeof(writes) - strlen(writes),
			 "%s%s %lu (%lu refused)", writes[0] ? ", " : "",
			 writer_names[k], w[k].writes, w[k].failed);
		/* Each writer did write. */
		ASSERT_LT(w[k].failed, w[k].writes);
	}
	if (variant->ops & (1 << CHAOS_MOVE_PAGES)) {
		/* Migration did happen, if the machine has two nodes. */
		if (chaos_nr_nodes() > 1)
			ASSERT_LT(0, chaos.pages_moved);
	}
	TH_LOG("%lu harvests, %lu pages copied; writes: %s; chaos: %s; NUMA balancing %s",
	       harvests, copied, writes, ops, numa ? "fast" : "absent");
	if (rd >= 0)
		close(rd);
	ASSERT_EQ(0, differ) TH_LOG("%lu pages lost their last write", differ);
}

KVMMIG_HARNESS_MAIN
