// SPDX-License-Identifier: GPL-2.0
/*
 * The A-B migration workload on one host (selftests/lib/ab.h): the checker
 * against hand-made memory, good and broken; the guest on a kvmmig region,
 * stopped at arbitrary points, always leaving the pattern; its vCPU state
 * saved, the VM torn down and a new VM resumed from the state on the same
 * memory (a migration without the network); and the paced variant.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ab.h"
#include "kvmmig_util.h"
#include "vmm.h"

#define PAGE		4096UL
#define MEM		(16UL << 20)
#define ADVANCE_MS	60000

/* Memory as guest_ab leaves it: value v up to @edge_gpa, v - 1 from there. */
static void *fake_ram(size_t size, int nr_vcpus, uint8_t v, uint64_t edge_gpa)
{
	uint64_t share, pages, g;
	char *mem;
	int i;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	for (i = 0; i < nr_vcpus; i++) {
		ab_share(size, nr_vcpus, i, &share, &pages);
		for (g = share; g < share + pages * PAGE; g += PAGE) {
			mem[g] = g < edge_gpa || (edge_gpa < share) ? v : v - 1;
			*(uint64_t *)(mem + g + AB_TAG_OFFSET) = AB_TAG(g);
		}
	}
	return mem;
}

TEST(check_accepts_walk_states)
{
	uint64_t edges[] = { 0, AB_FIRST_GPA + PAGE, AB_FIRST_GPA + 100 * PAGE,
			     MEM - PAGE };
	struct ab_result res;
	size_t i;
	char *mem;

	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		mem = fake_ram(MEM, 1, i == 2 ? 0 : 7, edges[i]);
		ASSERT_NE(NULL, mem);
		ab_check(mem, MEM, 1, true, &res);
		EXPECT_TRUE(res.ok) TH_LOG("edge at 0x%llx: first bad 0x%llx",
					   (unsigned long long)edges[i],
					   (unsigned long long)res.first_bad);
		EXPECT_EQ(edges[i] ? 1 : 0, res.edges);
		EXPECT_EQ((MEM - AB_FIRST_GPA) / PAGE, res.pages);
		munmap(mem, MEM);
	}
}

TEST(check_two_shares_one_edge_each)
{
	uint64_t gpa, pages, i;
	struct ab_result res;
	char *mem;

	mem = fake_ram(MEM, 2, 3, 0);
	ASSERT_NE(NULL, mem);
	ab_share(MEM, 2, 0, &gpa, &pages);
	for (i = 10; i < pages; i++)
		mem[gpa + i * PAGE] = 2;	/* share 0 stopped at page 10 ... */
	ab_share(MEM, 2, 1, &gpa, &pages);
	mem[gpa + (pages - 1) * PAGE] = 2;	/* ... share 1 at its last */
	ab_check(mem, MEM, 2, true, &res);
	EXPECT_TRUE(res.ok);
	EXPECT_EQ(2, res.edges);
	/* Seen as one share, the second drop is a second edge. */
	ab_check(mem, MEM, 1, true, &res);
	EXPECT_FALSE(res.ok);
	munmap(mem, MEM);
}

TEST(check_rejects_stale_page)
{
	struct ab_result res;
	char *mem;

	mem = fake_ram(MEM, 1, 5, 0);
	ASSERT_NE(NULL, mem);
	mem[AB_FIRST_GPA + 40 * PAGE] = 4;	/* a page from an older round */
	ab_check(mem, MEM, 1, true, &res);
	EXPECT_FALSE(res.ok);
	EXPECT_EQ(AB_FIRST_GPA + 41 * PAGE, res.first_bad);
	munmap(mem, MEM);
}

TEST(check_rejects_two_edges)
{
	struct ab_result res;
	char *mem;

	mem = fake_ram(MEM, 1, 5, AB_FIRST_GPA + 30 * PAGE);
	ASSERT_NE(NULL, mem);
	/* A second walk position: 5 5 4 4 3 3 4 4 */
	mem[AB_FIRST_GPA + 60 * PAGE] = 3;
	mem[AB_FIRST_GPA + 61 * PAGE] = 3;
	ab_check(mem, MEM, 1, true, &res);
	EXPECT_FALSE(res.ok);
	EXPECT_EQ(AB_FIRST_GPA + 60 * PAGE, res.first_bad);
	munmap(mem, MEM);
}

TEST(check_rejects_page_ahead)
{
	struct ab_result res;
	char *mem;

	mem = fake_ram(MEM, 1, 5, 0);
	ASSERT_NE(NULL, mem);
	mem[AB_FIRST_GPA + 7 * PAGE] = 6;	/* from a round not yet run */
	ab_check(mem, MEM, 1, true, &res);
	EXPECT_FALSE(res.ok);
	EXPECT_EQ(AB_FIRST_GPA + 7 * PAGE, res.first_bad);
	munmap(mem, MEM);
}

TEST(check_rejects_misplaced_page)
{
	struct ab_result res;
	char *mem;

	mem = fake_ram(MEM, 1, 5, 0);
	ASSERT_NE(NULL, mem);
	/* Same A-B byte, but the page of GPA x + 1 landed at x. */
	memcpy(mem + AB_FIRST_GPA + 9 * PAGE, mem + AB_FIRST_GPA + 10 * PAGE,
	       PAGE);
	ab_check(mem, MEM, 1, false, &res);
	EXPECT_FALSE(res.ok);
	EXPECT_EQ(1, res.bad_tags);
	munmap(mem, MEM);
}

TEST(check_full_rejects_dirt)
{
	struct ab_result res;
	char *mem;

	mem = fake_ram(MEM, 1, 5, 0);
	ASSERT_NE(NULL, mem);
	mem[AB_FIRST_GPA + 3 * PAGE + 2000] = 1;
	ab_check(mem, MEM, 1, false, &res);
	EXPECT_TRUE(res.ok);	/* the quick check reads only byte 0 + tag */
	ab_check(mem, MEM, 1, true, &res);
	EXPECT_FALSE(res.ok);
	EXPECT_EQ(AB_FIRST_GPA + 3 * PAGE, res.first_bad);
	munmap(mem, MEM);
}

TEST(digest_sees_every_byte)
{
	char *mem = fake_ram(MEM, 1, 5, 0);
	uint64_t d0;

	ASSERT_NE(NULL, mem);
	d0 = ab_digest(mem, MEM);
	EXPECT_EQ(d0, ab_digest(mem, MEM));
	mem[MEM - 1] ^= 1;		/* the last byte counts */
	EXPECT_NE(d0, ab_digest(mem, MEM));
	mem[MEM - 1] ^= 1;
	mem[0] ^= 0x80;			/* so does the control page */
	EXPECT_NE(d0, ab_digest(mem, MEM));
	mem[0] ^= 0x80;
	EXPECT_EQ(d0, ab_digest(mem, MEM));
	munmap(mem, MEM);
}

TEST(set_rate_rejects_unrepresentable)
{
	char *mem = fake_ram(MEM, 2, 0, 0);

	ASSERT_NE(NULL, mem);
	EXPECT_EQ(-EINVAL, ab_set_rate(mem, 2, 1000, 0));	/* no TSC rate */
	EXPECT_EQ(-EINVAL, ab_set_rate(mem, 2, 1, 1000000));	/* < 1 per vCPU */
	EXPECT_EQ(-EINVAL, ab_set_rate(mem, 1, 1, 4000000));	/* > 2^30 ticks */
	EXPECT_EQ(0, ab_set_rate(mem, 2, 1000, 1000000));
	EXPECT_EQ(2000000, ab_ctl(mem, 1)->ticks_per_page);
	EXPECT_EQ(0, ab_set_rate(mem, 2, 0, 1000000));
	EXPECT_EQ(0, ab_ctl(mem, 0)->ticks_per_page);
	munmap(mem, MEM);
}

/* The guest on a kvmmig region. */
FIXTURE(guest) {
	int dev;
	int fd;
	char *mem;
	struct vmm_vm vm;
	bool vm_live;
	long pages0;
};

FIXTURE_VARIANT(guest) {
	int nr_vcpus;
};

FIXTURE_VARIANT_ADD(guest, one_vcpu) {
	.nr_vcpus = 1,
};

FIXTURE_VARIANT_ADD(guest, two_vcpus) {
	.nr_vcpus = 2,
};

static void start_vm(struct __test_metadata *_metadata,
		     FIXTURE_DATA(guest) *self, int nr_vcpus, bool fresh)
{
	struct vmm_args args;
	int i;

	vmm_create(&self->vm, self->mem, MEM, 0);
	self->vm_live = true;
	if (fresh)
		ab_setup(&self->vm, nr_vcpus);
	for (i = 0; i < nr_vcpus; i++) {
		ab_args(&self->vm, nr_vcpus, i, &args);
		vmm_vcpu_add(&self->vm, &args);
	}
}

static void resume_all(struct vmm_vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vmm_vcpu_resume(&vm->vcpus[i]);
}

static void pause_all(struct __test_metadata *_metadata, struct vmm_vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		ASSERT_EQ(-EINTR, vmm_vcpu_pause(&vm->vcpus[i]));
}

/* Wait until each vCPU has walked its whole share once more. */
static void wait_pass(struct __test_metadata *_metadata,
		      FIXTURE_DATA(guest) *self, int nr_vcpus)
{
	uint32_t before[VMM_MAX_VCPUS];
	uint64_t gpa, pages;

	ab_share(MEM, nr_vcpus, 0, &gpa, &pages);
	ab_incs(self->mem, nr_vcpus, before);
	ASSERT_EQ(0, ab_wait_advance(self->mem, nr_vcpus, before, pages,
				     ADVANCE_MS))
		TH_LOG("the guest stopped incrementing");
}

static void expect_pattern(struct __test_metadata *_metadata,
			   FIXTURE_DATA(guest) *self, int nr_vcpus)
{
	struct ab_result res;
	char line[256];

	ab_check(self->mem, MEM, nr_vcpus, true, &res);
	ab_format(&res, line, sizeof(line));
	ASSERT_TRUE(res.ok) TH_LOG("%s", line);
	ASSERT_LE(res.edges, nr_vcpus);
	ASSERT_EQ((MEM - AB_FIRST_GPA) / PAGE, res.pages);
}

FIXTURE_SETUP(guest)
{
	self->fd = -1;
	self->dev = -1;
	self->mem = MAP_FAILED;
	self->pages0 = -1;
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	self->pages0 = kvmmig_debugfs_pages();
	self->fd = kvmmig_region(self->dev, MEM, "ab_test", -1);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	start_vm(_metadata, self, variant->nr_vcpus, true);
}

FIXTURE_TEARDOWN(guest)
{
	if (self->vm_live)
		vmm_destroy(&self->vm);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM);
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev >= 0)
		close(self->dev);
	if (self->pages0 >= 0)
		EXPECT_EQ(self->pages0, kvmmig_debugfs_pages());
}

/* Stopped anywhere, the guest leaves the pattern, and it keeps walking. */
TEST_F_TIMEOUT(guest, pattern_holds_wherever_stopped, 120)
{
	int n = variant->nr_vcpus, round;

	resume_all(&self->vm);
	for (round = 0; round < 8; round++) {
		wait_pass(_metadata, self, n);
		usleep(round * 3000);
		pause_all(_metadata, &self->vm);
		expect_pattern(_metadata, self, n);
		resume_all(&self->vm);
	}
	pause_all(_metadata, &self->vm);
	EXPECT_LE(8, ab_ctl(self->mem, 0)->passes);
}

/*
 * Save the vCPUs, destroy the VM, and resume a new VM on the same memory
 * from the saved state: the walk goes on where it stopped.
 */
TEST_F_TIMEOUT(guest, resumes_from_saved_state, 120)
{
	struct vmm_vcpu_state saved[VMM_MAX_VCPUS], now;
	int n = variant->nr_vcpus, i;

	resume_all(&self->vm);
	wait_pass(_metadata, self, n);
	pause_all(_metadata, &self->vm);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, __vmm_vcpu_save(&self->vm.vcpus[i], &saved[i]));
	expect_pattern(_metadata, self, n);
	vmm_destroy(&self->vm);
	self->vm_live = false;

	start_vm(_metadata, self, n, false);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, __vmm_vcpu_load(&self->vm.vcpus[i], &saved[i]));
		ASSERT_EQ(0, __vmm_vcpu_save(&self->vm.vcpus[i], &now));
		EXPECT_EQ(saved[i].regs.rip, now.regs.rip);
		EXPECT_EQ(saved[i].regs.rdi, now.regs.rdi);
		EXPECT_EQ(saved[i].regs.rbp, now.regs.rbp);
		EXPECT_EQ(saved[i].sregs.cs.base, now.sregs.cs.base);
		EXPECT_EQ(saved[i].sregs.cr0, now.sregs.cr0);
		/*
		 * The TSC went on from the saved values, not from zero (KVM
		 * matches vCPUs written within a second to the first one).
		 */
		EXPECT_LE(saved[0].tsc, now.tsc);
	}
	resume_all(&self->vm);
	for (i = 0; i < 3; i++) {
		wait_pass(_metadata, self, n);
		pause_all(_metadata, &self->vm);
		expect_pattern(_metadata, self, n);
		resume_all(&self->vm);
	}
	pause_all(_metadata, &self->vm);
}

/* The paced guest also walks and keeps the pattern; pacing can be lifted. */
TEST_F_TIMEOUT(guest, paced_guest_walks, 120)
{
	uint32_t before[VMM_MAX_VCPUS];
	int n = variant->nr_vcpus;
	struct timespec t0, t1;
	long khz;
	double s;

	khz = __vmm_vcpu_tsc_khz(&self->vm.vcpus[0]);
	ASSERT_LT(0, khz) TH_LOG("KVM_GET_TSC_KHZ: %s", strerror(-khz));
	ASSERT_EQ(0, ab_set_rate(self->mem, n, 2000, khz));
	ab_incs(self->mem, n, before);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resume_all(&self->vm);
	ASSERT_EQ(0, ab_wait_advance(self->mem, n, before, 400 / n,
				     ADVANCE_MS));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	TH_LOG("paced at 2000 pages/s: %u pages per vCPU in %.2f s",
	       ab_advanced(self->mem, n, before), s);
	pause_all(_metadata, &self->vm);
	expect_pattern(_metadata, self, n);

	ASSERT_EQ(0, ab_set_rate(self->mem, n, 0, khz));
	resume_all(&self->vm);
	wait_pass(_metadata, self, n);
	pause_all(_metadata, &self->vm);
	expect_pattern(_metadata, self, n);
}

KVMMIG_HARNESS_MAIN
