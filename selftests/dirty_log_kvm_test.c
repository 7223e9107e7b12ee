// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty log with a real KVM guest whose RAM is a kvmmig region: exact
 * reports of guest writes, none for guest reads, agreement with KVM's own
 * KVM_GET_DIRTY_LOG, the invariant of KVM's dirty_log_test with the vCPU
 * running on another thread during the harvests, concurrent harvests,
 * sub-ranges, initially-all-set, and the region's lifetime around the VM.
 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "chaos.h"
#include "kvmmig_util.h"
#include "vmm.h"

#define PAGE		4096UL
#define NR_PAGES	4096UL			/* 16 MiB of guest RAM */
#define SIZE		(NR_PAGES * PAGE)
#define WORDS		(NR_PAGES / 64)

/* Guest physical layout: code at VMM_CODE_GPA, then these. */
#define CTRL_GPA	0x2000UL		/* iteration number */
#define LIST_GPA	0x3000UL		/* GPAs for guest_*_list */
#define LIST_MAX	(4 * PAGE / 4)
#define AREA_PAGE	64UL			/* first page guests dirty */
#define AREA_PAGES	(NR_PAGES - AREA_PAGE)

#define KVM_FIXTURE_FIELDS		\
	int dev;			\
	int fd;				\
	char *mem;			\
	struct vmm_vm vm;		\
	bool vm_live;			\
	long pages0;			\
	__u64 bitmap[WORDS]

FIXTURE(kvm) {
	KVM_FIXTURE_FIELDS;
};

/* The same, run once per re-arm batch size: see FIXTURE_VARIANT(run). */
FIXTURE(run) {
	KVM_FIXTURE_FIELDS;
};

static void open_region(struct __test_metadata *_metadata,
			FIXTURE_DATA(kvm) *self)
{
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	self->pages0 = kvmmig_debugfs_pages();
	self->fd = kvmmig_region(self->dev, SIZE, "dirty_log_kvm", -1);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

static void setup(struct __test_metadata *_metadata, FIXTURE_DATA(kvm) *self)
{
	self->fd = -1;
	self->dev = -1;
	self->mem = MAP_FAILED;
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	open_region(_metadata, self);
}

static void teardown(FIXTURE_DATA(kvm) *self)
{
	numa_balancing_fast(false);
	if (self->vm_live)
		vmm_destroy(&self->vm);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, SIZE);
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev >= 0)
		close(self->dev);
}

FIXTURE_SETUP(kvm)
{
	setup(_metadata, self);
}

FIXTURE_TEARDOWN(kvm)
{
	teardown(self);
}

FIXTURE_SETUP(run)
{
	setup(_metadata, (FIXTURE_DATA(kvm) *)self);
}

FIXTURE_TEARDOWN(run)
{
	teardown((FIXTURE_DATA(kvm) *)self);
}

static void start_vm(FIXTURE_DATA(kvm) *self, __u32 slot_flags)
{
	vmm_create(&self->vm, self->mem, SIZE, slot_flags);
	self->vm_live = true;
}

static long harvest(FIXTURE_DATA(kvm) *self)
{
	memset(self->bitmap, 0xa5, sizeof(self->bitmap));
	return kvmmig_log_harvest(self->fd, 0, NR_PAGES, self->bitmap);
}

/* @n distinct random pages of the area, sorted out by a bitmap. */
static void pick_pages(unsigned long *pages, int n, unsigned int seed)
{
	__u64 taken[WORDS] = { 0 };
	int i = 0;

	srandom(seed);
	while (i < n) {
		unsigned long p = AREA_PAGE + random() % AREA_PAGES;

		if (bitmap_test(taken, p))
			continue;
		bitmap_setbit(taken, p);
		pages[i++] = p;
	}
}

static void write_list(FIXTURE_DATA(kvm) *self, const unsigned long *pages,
		       int n, unsigned long offset)
{
	uint32_t *list = (uint32_t *)(self->mem + LIST_GPA);
	int i;

	for (i = 0; i < n; i++)
		list[i] = pages[i] * PAGE + offset;
}

/* Run guest_write_list (or _read_list) over @pages to completion. */
static int run_list(FIXTURE_DATA(kvm) *self, struct vmm_vcpu *vcpu,
		    uint32_t value, int n)
{
	struct vmm_args args = { .eax = value, .ebx = LIST_GPA, .ecx = n };

	vmm_vcpu_reset(vcpu, &args);
	return vmm_vcpu_run(vcpu);
}

static int bitmap_equals_pages(const __u64 *bitmap, const unsigned long *pages,
			       int n)
{
	__u64 want[WORDS] = { 0 };
	int i;

	for (i = 0; i < n; i++)
		bitmap_setbit(want, pages[i]);
	return !memcmp(want, bitmap, sizeof(want));
}

TEST_F(kvm, guest_writes_are_reported_exactly)
{
	struct vmm_args args = { 0 };
	unsigned long pages[200];
	struct vmm_vcpu *vcpu;
	int i, round;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);

	for (round = 0; round < 4; round++) {
		int n = round == 3 ? 3 : 16 << round;

		pick_pages(pages, n, round);
		write_list(self, pages, n, 8 * round);
		/* The VMM's own writes (code, list) are reported too. */
		ASSERT_LT(0, harvest(self));
		ASSERT_TRUE(bitmap_test(self->bitmap, LIST_GPA / PAGE));

		ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 0x1000 + round, n));
		ASSERT_EQ(n, harvest(self)) TH_LOG("round %d", round);
		ASSERT_TRUE(bitmap_equals_pages(self->bitmap, pages, n));
		for (i = 0; i < n; i++)
			ASSERT_EQ(0x1000 + round,
				  *(uint32_t *)(self->mem + pages[i] * PAGE + 8 * round));
		/* Nothing twice without a new write. */
		ASSERT_EQ(0, harvest(self));
		/* The same pages again: every one faults and is reported. */
		ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 0x2000 + round, n));
		ASSERT_EQ(n, harvest(self));
		ASSERT_TRUE(bitmap_equals_pages(self->bitmap, pages, n));
	}
}

TEST_F(kvm, guest_reads_are_not_reported)
{
	struct vmm_args args = { 0 };
	unsigned long pages[128];
	struct vmm_vcpu *vcpu;
	int i;

	/* Half the pages hold data, half were never touched. */
	pick_pages(pages, 128, 7);
	for (i = 0; i < 64; i++)
		self->mem[pages[i] * PAGE] = 1;
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_read_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	write_list(self, pages, 128, 0);
	ASSERT_LT(0, harvest(self));

	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 0, 128));
	ASSERT_EQ(0, harvest(self));
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 0, 128));
	ASSERT_EQ(0, harvest(self));
}

TEST_F(kvm, vmm_writes_to_guest_mapped_pages_are_reported)
{
	struct vmm_args args = { 0 };
	unsigned long pages[64];
	char buf[PAGE];
	struct vmm_vcpu *vcpu;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	pick_pages(pages, 64, 3);
	write_list(self, pages, 64, 0);
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 5, 64));
	ASSERT_LT(0, harvest(self));

	/* KVM maps these pages now; the VMM writes two, pwrites a third. */
	self->mem[pages[0] * PAGE + 1] = 1;
	self->mem[pages[1] * PAGE + 2] = 1;
	memset(buf, 9, sizeof(buf));
	ASSERT_EQ(PAGE, pwrite(self->fd, buf, PAGE, pages[2] * PAGE));
	ASSERT_EQ(3, harvest(self));
	ASSERT_TRUE(bitmap_equals_pages(self->bitmap, pages, 3));
	/* The guest sees the VMM's write. */
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 6, 64));
	ASSERT_EQ(64, harvest(self));
}

TEST_F(kvm, reports_equal_kvm_get_dirty_log)
{
	struct vmm_args args = { 0 };
	unsigned long pages[512];
	__u64 kvm_bitmap[WORDS];
	struct kvm_dirty_log log = { .slot = 0 };
	struct vmm_vcpu *vcpu;
	int round, i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	start_vm(self, KVM_MEM_LOG_DIRTY_PAGES);
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	log.dirty_bitmap = kvm_bitmap;

	for (round = 0; round < 8; round++) {
		int n = 1 + (round * 73) % 512;

		pick_pages(pages, n, 100 + round);
		write_list(self, pages, n, 0);
		/* Both logs start the round clean. */
		ASSERT_EQ(0, ioctl(self->vm.vm_fd, KVM_GET_DIRTY_LOG, &log));
		ASSERT_LE(0, harvest(self));

		ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, round + 1, n));

		memset(kvm_bitmap, 0, sizeof(kvm_bitmap));
		ASSERT_EQ(0, ioctl(self->vm.vm_fd, KVM_GET_DIRTY_LOG, &log));
		ASSERT_EQ(n, harvest(self));
		for (i = 0; i < WORDS; i++)
			ASSERT_EQ(kvm_bitmap[i], self->bitmap[i])
				TH_LOG("round %d, pages %d..%d", round, i * 64,
				       i * 64 + 63);
	}
}

/* The iteration check of KVM's dirty_log_test, vm_dirty_log_verify(). */
struct verify_state {
	uint32_t iteration;
	__u64 track[WORDS];		/* must be reported next time */
	uint32_t seen[NR_PAGES];	/* value at the previous check */
	unsigned long dirty, clean, in_flight, other;
	const char *view;		/* where the check reads guest RAM */
	/*
	 * Others write too (a chaos thread's children, MADV_POPULATE_WRITE):
	 * a dirty page the guest did not change is no store in flight.
	 */
	bool other_writers;
};

static int verify_round(struct __test_metadata *_metadata,
			FIXTURE_DATA(kvm) *self, struct verify_state *st)
{
	uint32_t it = st->iteration;
	unsigned long page;

	for (page = AREA_PAGE; page < NR_PAGES; page++) {
		uint32_t val = __atomic_load_n((uint32_t *)(st->view + page * PAGE),
					       __ATOMIC_SEQ_CST);
		bool dirty = bitmap_test(self->bitmap, page);

		if (bitmap_test(st->track, page)) {
			st->track[page / 64] &= ~(1ULL << (page % 64));
			EXPECT_TRUE(dirty) TH_LOG("iteration %u: page %lu was written after the last harvest but is not reported",
						  it, page);
		}
		if (dirty) {
			st->dirty++;
			/*
			 * Written since the last harvest: this or the last
			 * value.  Or a store still in flight: its write fault
			 * set the bit before the store landed, and the re-arm
			 * made it fault again.  Then the page is unchanged,
			 * and the next harvest must report it once more.
			 */
			if (val != it && val != it - 1 && st->other_writers) {
				st->other++;
			} else if (val != it && val != it - 1) {
				EXPECT_EQ(st->seen[page], val)
					TH_LOG("iteration %u: dirty page %lu holds %u, was %u",
					       it, page, val, st->seen[page]);
				bitmap_setbit(st->track, page);
				st->in_flight++;
			}
		} else {
			st->clean++;
			EXPECT_LE(val, it) TH_LOG("iteration %u: page %lu holds %u",
						  it, page, val);
			/*
			 * Changed since the last check and not by a write of
			 * this iteration (which may follow the harvest):
			 * a write the harvest must have seen.
			 */
			EXPECT_TRUE(val == st->seen[page] || val == it)
				TH_LOG("iteration %u: clean page %lu changed %u -> %u",
				       it, page, st->seen[page], val);
			if (val == it)
				bitmap_setbit(st->track, page);
		}
		st->seen[page] = val;
		if (_metadata->exit_code)
			return -1;
	}
	return 0;
}

FIXTURE_VARIANT(run) {
	__u32 batch_pages;
};

FIXTURE_VARIANT_ADD(run, default_batch) {
	.batch_pages = 0,
};

FIXTURE_VARIANT_ADD(run, batch_of_one) {
	.batch_pages = 1,
};

FIXTURE_VARIANT_ADD(run, max_batch) {
	.batch_pages = KVMMIG_DIRTY_LOG_MAX_BATCH,
};

#define ITERATIONS	40

/*
 * KVM's dirty_log_test invariant.  With @chaos, a chaos thread works on
 * the VMM's mapping of guest RAM (the memslot) all along: the vCPU retries
 * the EFAULTs a protection change gives it, and the check reads guest RAM
 * through a second, read-only mapping the chaos thread leaves alone.
 */
static void invariant_test(struct __test_metadata *_metadata,
			   FIXTURE_DATA(kvm) *self, __u32 batch_pages,
			   bool with_chaos)
{
	struct vmm_args args = {
		.ebx = AREA_PAGE * PAGE, .ecx = AREA_PAGES, .esi = CTRL_GPA,
		.edx = 12345,
	};
	volatile uint32_t *ctrl = (uint32_t *)(self->mem + CTRL_GPA);
	struct chaos chaos = {
		.addr = self->mem + AREA_PAGE * PAGE,
		.len = AREA_PAGES * PAGE, .ops = CHAOS_ALL_OPS, .seed = 7,
	};
	struct kvmmig_dirty_log_stats stats;
	struct verify_state *st;
	struct vmm_vcpu *vcpu;
	unsigned long total = 0;
	char *view = NULL;
	char ops[256] = "";
	bool numa = false;

	st = calloc(1, sizeof(*st));
	ASSERT_NE(NULL, st);
	st->view = self->mem;
	st->other_writers = with_chaos;
	if (with_chaos) {
		view = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
		ASSERT_NE(MAP_FAILED, view);
		st->view = view;
	}
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0,
				       batch_pages));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_dirty_loop);
	st->iteration = 1;
	*ctrl = st->iteration;
	ASSERT_LE(0, harvest(self));
	vcpu = vmm_vcpu_add(&self->vm, &args);
	vcpu->retry_efault = with_chaos;
	vmm_vcpu_start(vcpu);
	if (with_chaos) {
		numa = !numa_balancing_fast(true);
		ASSERT_EQ(0, chaos_start(&chaos));
	}

	for (; st->iteration <= ITERATIONS; st->iteration++) {
		long n;

		vmm_vcpu_wait_passes(vcpu, 1);
		/* The guest keeps writing while the harvest runs. */
		n = harvest(self);
		ASSERT_LE(0, n);
		total += n;
		ASSERT_EQ(0, verify_round(_metadata, self, st));
		__atomic_store_n(ctrl, st->iteration + 1, __ATOMIC_SEQ_CST);
	}
	if (with_chaos) {
		ASSERT_EQ(0, chaos_stop(&chaos)) TH_LOG("chaos: %s", chaos.why);
		if (numa)
			numa_balancing_fast(false);
		chaos_describe(&chaos, ops, sizeof(ops));
	}
	ASSERT_NE(-1, vmm_vcpu_stop(vcpu));
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &stats));
	TH_LOG("%d iterations, %lu dirty (%lu in flight) and %lu clean checks, %lu reported, %llu write faults, longest batch %llu ns, longest harvest %llu ns, longest page re-arm %llu ns",
	       ITERATIONS, st->dirty, st->in_flight, st->clean, total, stats.write_faults,
	       stats.batch_ns_max, stats.harvest_ns_max, stats.rearm_ns_max);
	if (with_chaos)
		TH_LOG("chaos: %s; NUMA balancing %s; %lu EFAULTs retried",
		       ops, numa ? "fast" : "absent", vcpu->efaults);
	/* The guest did write during the run. */
	ASSERT_LT(ITERATIONS, total);
	if (view)
		munmap(view, SIZE);
	free(st);
}

/*
 * What a destination would hold: the value of each page when a harvest
 * last reported it, read after that harvest.  The harvesters copy under
 * one lock, so the last copy of a page is also the latest read of it.
 */
struct shadow {
	pthread_mutex_t lock;
	const char *mem;
	uint32_t val[NR_PAGES];
};

static void shadow_copy(struct shadow *sh, const __u64 *bitmap)
{
	unsigned long page;

	pthread_mutex_lock(&sh->lock);
	for (page = 0; page < NR_PAGES; page++)
		if (bitmap_test(bitmap, page))
			sh->val[page] = __atomic_load_n((uint32_t *)(sh->mem + page * PAGE),
							__ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&sh->lock);
}

struct harvester {
	pthread_t thread;
	int fd;
	volatile bool *stop;
	struct shadow *shadow;
	__u64 seen[WORDS];
	unsigned long harvests, reported;
	int err;
};

static void *harvester_main(void *arg)
{
	struct harvester *h = arg;
	__u64 bitmap[WORDS];
	long n;
	int i;

	while (!__atomic_load_n(h->stop, __ATOMIC_SEQ_CST)) {
		n = kvmmig_log_harvest(h->fd, 0, NR_PAGES, bitmap);
		if (n < 0) {
			h->err = n;
			break;
		}
		shadow_copy(h->shadow, bitmap);
		for (i = 0; i < WORDS; i++)
			h->seen[i] |= bitmap[i];
		h->harvests++;
		h->reported += n;
		/*
		 * A harvester that never pauses can starve a vCPU: its write
		 * fault sets the bit before KVM installs the mapping, the
		 * next harvest re-arms the page, and KVM retries the fault.
		 */
		usleep(200);
	}
	return NULL;
}

static void concurrent_test(struct __test_metadata *_metadata,
			    FIXTURE_DATA(kvm) *self, __u32 batch_pages)
{
	struct vmm_args args = {
		.ebx = AREA_PAGE * PAGE, .ecx = AREA_PAGES, .esi = CTRL_GPA,
		.edx = 777,
	};
	struct harvester *h;
	volatile bool stop = false;
	struct vmm_vcpu *vcpu;
	unsigned long page, written = 0;
	int i;

	struct shadow *sh = calloc(1, sizeof(*sh));
	unsigned long stale = 0;

	h = calloc(2, sizeof(*h));
	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, sh);
	pthread_mutex_init(&sh->lock, NULL);
	sh->mem = self->mem;
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0,
				       batch_pages));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_dirty_loop);
	*(uint32_t *)(self->mem + CTRL_GPA) = 1;
	vcpu = vmm_vcpu_add(&self->vm, &args);
	ASSERT_LE(0, harvest(self));

	vmm_vcpu_start(vcpu);
	for (i = 0; i < 2; i++) {
		h[i].fd = self->fd;
		h[i].stop = &stop;
		h[i].shadow = sh;
		ASSERT_EQ(0, pthread_create(&h[i].thread, NULL, harvester_main,
					    &h[i]));
	}
	for (i = 0; i < 20; i++) {
		vmm_vcpu_wait_passes(vcpu, 2);
		/* New values keep rewriting pages already harvested. */
		__atomic_store_n((uint32_t *)(self->mem + CTRL_GPA), i + 2,
				 __ATOMIC_SEQ_CST);
	}
	ASSERT_NE(-1, vmm_vcpu_stop(vcpu));
	stop = true;
	for (i = 0; i < 2; i++) {
		pthread_join(h[i].thread, NULL);
		ASSERT_EQ(0, h[i].err);
	}
	/* What the two threads left, if anything: the stop-and-copy pass. */
	ASSERT_LE(0, harvest(self));
	shadow_copy(sh, self->bitmap);

	for (page = AREA_PAGE; page < NR_PAGES; page++) {
		bool reported = bitmap_test(h[0].seen, page) ||
				bitmap_test(h[1].seen, page) ||
				bitmap_test(self->bitmap, page);
		bool wrote = *(uint32_t *)(self->mem + page * PAGE) != 0;

		written += wrote;
		/* Written pages are reported; untouched ones never. */
		ASSERT_EQ(wrote, reported) TH_LOG("page %lu", page);
		/* And each write by a harvest after it landed. */
		if (sh->val[page] != *(uint32_t *)(self->mem + page * PAGE)) {
			if (!stale++)
				TH_LOG("page %lu holds %u, was %u when last reported",
				       page, *(uint32_t *)(self->mem + page * PAGE),
				       sh->val[page]);
		}
	}
	ASSERT_EQ(0, stale) TH_LOG("%lu pages changed after their last report",
				   stale);
	TH_LOG("%lu pages written; harvests %lu + %lu, reports %lu + %lu",
	       written, h[0].harvests, h[1].harvests, h[0].reported,
	       h[1].reported);
	ASSERT_LT(0, written);
	free(sh);
	free(h);
}

TEST_F_TIMEOUT(run, dirty_log_test_invariant_with_vcpu_on_another_thread, 300)
{
	invariant_test(_metadata, (FIXTURE_DATA(kvm) *)self,
		       variant->batch_pages, false);
}

TEST_F_TIMEOUT(kvm, dirty_log_test_invariant_under_chaos, 300)
{
	invariant_test(_metadata, self, 0, true);
}

/*
 * A guest write after a NUMA balancing scan.  The scan would make the
 * memslot's PTEs PROT_NONE and the write would take a hinting fault through
 * KVM (do_numa_page()), which on 6.12 makes a dirty PTE writable without
 * ->page_mkwrite; the scan skips dirty file folios, which region folios
 * are in write-protect mode, and the re-arm cleans PTEs anyway.  The scan
 * is shown to have run (over the VMM's anonymous memory).
 */
TEST_F_TIMEOUT(kvm, guest_write_after_numa_scan_is_reported, 120)
{
	size_t anon_size = 16 << 20;
	struct vmm_args args = { 0 };
	unsigned long pages[64];
	struct vmm_vcpu *vcpu;
	long updated;
	char *anon;
	int n = 64, ret;

	if (chaos_nr_nodes() < 2)
		SKIP(return, "one NUMA node: the bed boots two");
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	pick_pages(pages, n, 99);
	write_list(self, pages, n, 0);
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 1, n));
	ASSERT_LT(0, harvest(self));
	ASSERT_EQ(0, harvest(self));

	ret = numa_balancing_fast(true);
	if (ret == -ENOENT)
		SKIP(return, "no CONFIG_NUMA_BALANCING");
	ASSERT_EQ(0, ret);
	anon = mmap(NULL, anon_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	memset(anon, 1, anon_size);
	updated = numa_scan_wait(anon_size / PAGE / 4);
	munmap(anon, anon_size);
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 2, n));
	ASSERT_EQ(0, numa_balancing_fast(false));
	TH_LOG("NUMA balancing updated %ld PTEs", updated);
	/* Scans come in slices: a quarter shows the scanner ran here. */
	ASSERT_LE((long)(anon_size / PAGE / 4), updated);
	ASSERT_EQ(n, harvest(self));
	ASSERT_TRUE(bitmap_equals_pages(self->bitmap, pages, n));
}

TEST_F_TIMEOUT(run, concurrent_harvests_lose_nothing, 300)
{
	concurrent_test(_metadata, (FIXTURE_DATA(kvm) *)self,
			variant->batch_pages);
}

TEST_F(kvm, sub_range_harvest_with_guest)
{
	struct vmm_args args = { 0 };
	unsigned long pages[256];
	struct vmm_vcpu *vcpu;
	__u64 sub[WORDS];
	long in_range = 0;
	int i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	pick_pages(pages, 256, 11);
	write_list(self, pages, 256, 0);
	ASSERT_LT(0, harvest(self));
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 1, 256));

	/* Pages [1024, 2048) only. */
	for (i = 0; i < 256; i++)
		in_range += pages[i] >= 1024 && pages[i] < 2048;
	ASSERT_EQ(in_range, kvmmig_log_harvest(self->fd, 1024, 1024, sub));
	for (i = 0; i < 256; i++)
		if (pages[i] >= 1024 && pages[i] < 2048)
			ASSERT_TRUE(bitmap_test(sub, pages[i] - 1024));
	/* The rest is reported by the next full harvest. */
	ASSERT_EQ(256 - in_range, harvest(self));
	for (i = 0; i < 256; i++)
		ASSERT_EQ(pages[i] < 1024 || pages[i] >= 2048,
			  bitmap_test(self->bitmap, pages[i]));
}

TEST_F(kvm, initially_all_set_with_guest)
{
	struct vmm_args args = { 0 };
	unsigned long pages[32];
	struct vmm_vcpu *vcpu;

	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	pick_pages(pages, 32, 5);
	write_list(self, pages, 32, 0);
	/* The guest writes before logging starts: KVM maps the pages writable. */
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 1, 32));

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT,
				       KVMMIG_DIRTY_LOG_F_INITIALLY_SET, 0));
	ASSERT_EQ(NR_PAGES, harvest(self));
	ASSERT_EQ(0, harvest(self));
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 2, 32));
	ASSERT_EQ(32, harvest(self));
	ASSERT_TRUE(bitmap_equals_pages(self->bitmap, pages, 32));
}

TEST_F(kvm, ad_mode_is_refused_with_a_kvm_memslot)
{
	start_vm(self, 0);
	EXPECT_EQ(-EXDEV, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD,
					    0, 0));
	/* The refusal leaves the region usable in write-protect mode. */
	EXPECT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
}

/*
 * KVM arrives after A/D mode was enabled: the next harvest cannot know what
 * the guest wrote, so it reports every page, and the log falls back to
 * write-protect mode, exact again from then on.
 */
TEST_F(kvm, ad_mode_falls_back_when_kvm_arrives)
{
	struct kvmmig_dirty_log_stats st = { 0 };
	unsigned long pages[16];
	struct vmm_vcpu *vcpu;
	struct vmm_args args = { 0 };

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	ASSERT_EQ(0, harvest(self));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	pick_pages(pages, 16, 11);
	write_list(self, pages, 16, 0);
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 1, 16));

	ASSERT_EQ(NR_PAGES, harvest(self));
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	EXPECT_EQ(KVMMIG_DIRTY_MODE_WRPROT, st.mode);
	EXPECT_EQ(1, st.ad_fallbacks);

	pick_pages(pages, 16, 12);
	write_list(self, pages, 16, 0);
	ASSERT_LT(0, harvest(self));	/* the VMM's own writes */
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 2, 16));
	ASSERT_EQ(16, harvest(self));
	ASSERT_TRUE(bitmap_equals_pages(self->bitmap, pages, 16));
}

TEST_F(kvm, closing_the_region_fd_while_kvm_and_vmm_map_it)
{
	struct vmm_args args = { 0 };
	unsigned long pages[16];
	struct vmm_vcpu *vcpu;
	int i;

	start_vm(self, 0);
	close(self->fd);
	self->fd = -1;
	/* The mappings keep the region alive and the guest running. */
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	pick_pages(pages, 16, 9);
	write_list(self, pages, 16, 0);
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 0xabc, 16));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0xabc, *(uint32_t *)(self->mem + pages[i] * PAGE));
	ASSERT_TRUE(kvmmig_debugfs_has_region("dirty_log_kvm"));

	/* The VMM unmaps first, KVM goes last. */
	munmap(self->mem, SIZE);
	self->mem = MAP_FAILED;
	ASSERT_FALSE(kvmmig_debugfs_has_region("dirty_log_kvm"));
	vmm_destroy(&self->vm);
	self->vm_live = false;
	ASSERT_EQ(self->pages0, kvmmig_debugfs_pages());
}

TEST_F(kvm, destroying_the_vm_first)
{
	struct vmm_args args = { 0 };
	unsigned long pages[16];
	struct vmm_vcpu *vcpu;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	start_vm(self, 0);
	vmm_load_program(&self->vm, &guest_write_list);
	vcpu = vmm_vcpu_add(&self->vm, &args);
	pick_pages(pages, 16, 13);
	write_list(self, pages, 16, 0);
	ASSERT_LT(0, harvest(self));
	ASSERT_EQ(KVM_EXIT_HLT, run_list(self, vcpu, 1, 16));
	vmm_destroy(&self->vm);
	self->vm_live = false;

	/* The log outlives the VM. */
	ASSERT_EQ(16, harvest(self));
	ASSERT_TRUE(bitmap_equals_pages(self->bitmap, pages, 16));
	self->mem[pages[3] * PAGE] = 7;
	ASSERT_EQ(1, harvest(self));

	munmap(self->mem, SIZE);
	self->mem = MAP_FAILED;
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(self->pages0, kvmmig_debugfs_pages());
}

/* Last of the last fixture: runs after every test above. */
TEST_F(run, no_pages_left_behind)
{
	ASSERT_EQ(0, self->pages0);
}

KVMMIG_HARNESS_MAIN
