// SPDX-License-Identifier: GPL-2.0
/*
 * Measures the write-protect dirty log on a 512 MiB region used as a KVM
 * memslot: for 1%, 10% and 100% of the pages dirtied by the guest (and,
 * for comparison, by the VMM), the harvest time and the longest re-arm
 * batch and page.  It prints numbers and never fails on them; it only
 * checks that every written page was reported.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "vmm.h"

#define PAGE		4096UL
#define SIZE		(512UL << 20)
#define NR_PAGES	(SIZE / PAGE)
#define FIRST		16UL		/* keep clear of the guest's code */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

FIXTURE(perf) {
	int dev;
	int fd;
	char *mem;
	__u64 *bitmap;
	struct vmm_vm vm;
	struct vmm_vcpu *vcpu;
};

FIXTURE_SETUP(perf)
{
	struct vmm_args args = { 0 };
	int node = node_free_pages(1) > (long)NR_PAGES ? 1 : -1;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	self->fd = kvmmig_region(self->dev, SIZE, "dirty_log_perf", node);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	self->bitmap = calloc(NR_PAGES / 64, 8);
	ASSERT_NE(NULL, self->bitmap);
	vmm_create(&self->vm, self->mem, SIZE, 0);
	vmm_load_program(&self->vm, &guest_write_stride);
	self->vcpu = vmm_vcpu_add(&self->vm, &args);
	TH_LOG("region of %lu MiB on node %d", SIZE >> 20, node);
}

FIXTURE_TEARDOWN(perf)
{
	vmm_destroy(&self->vm);
	munmap(self->mem, SIZE);
	close(self->fd);
	close(self->dev);
	free(self->bitmap);
}

/* Dirty every @step-th page from FIRST on; returns the pages written. */
static unsigned long dirty(FIXTURE_DATA(perf) *self, unsigned long step,
			   bool guest, uint32_t value)
{
	unsigned long n = (NR_PAGES - FIRST + step - 1) / step, i;
	struct vmm_args args = {
		.eax = value, .ebx = FIRST * PAGE, .ecx = n, .edx = step * PAGE,
	};

	if (guest) {
		vmm_vcpu_reset(self->vcpu, &args);
		if (vmm_vcpu_run(self->vcpu) != KVM_EXIT_HLT)
			vmm_die("the guest did not halt");
	} else {
		for (i = 0; i < n; i++)
			*(uint32_t *)(self->mem + (FIRST + i * step) * PAGE) = value;
	}
	return n;
}

static void measure(struct __test_metadata *_metadata,
		    FIXTURE_DATA(perf) *self, bool guest, __u32 batch)
{
	static const unsigned long percents[] = { 1, 10, 100 };
	struct kvmmig_dirty_log_stats st;
	uint64_t t0, t1, t2;
	unsigned long n;
	long got;
	int i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0,
				       batch));
	/* Every page written once: KVM (or the VMM) maps it, log clean. */
	dirty(self, 1, guest, 1);
	ASSERT_LE(0, kvmmig_log_harvest(self->fd, 0, NR_PAGES, self->bitmap));

	for (i = 0; i < 3; i++) {
		memset(&st, 0, sizeof(st));
		st.flags = KVMMIG_DIRTY_LOG_STATS_F_RESET_MAX;
		ASSERT_EQ(0, ioctl(self->fd, KVMMIG_DIRTY_LOG_STATS, &st));

		t0 = now_ns();
		n = dirty(self, 100 / percents[i], guest, i + 2);
		t1 = now_ns();
		got = kvmmig_log_harvest(self->fd, 0, NR_PAGES, self->bitmap);
		t2 = now_ns();
		ASSERT_EQ(n, got);
		ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
		ksft_print_msg("perf: %s writer, batch %u, %lu MiB, %3lu%% dirty: %7lu pages, write pass %8.1f ms, harvest %8.2f ms (%6.0f ns/page), longest batch %8.1f us, longest page re-arm %7.1f us\n",
			       guest ? "guest" : "vmm", st.batch_pages,
			       SIZE >> 20, percents[i], n, (t1 - t0) / 1e6,
			       (t2 - t1) / 1e6, (double)(t2 - t1) / n,
			       st.batch_ns_max / 1e3, st.rearm_ns_max / 1e3);
	}
}

TEST_F_TIMEOUT(perf, guest_writer_default_batch, 600)
{
	measure(_metadata, self, true, 0);
}

TEST_F_TIMEOUT(perf, vmm_writer_default_batch, 600)
{
	measure(_metadata, self, false, 0);
}

KVMMIG_HARNESS_MAIN
