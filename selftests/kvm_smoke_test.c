// SPDX-License-Identifier: GPL-2.0
/*
 * The test bed can run a real KVM guest: create a VM with one memslot and
 * one vCPU, let the guest fill memory and halt, and check the bytes.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "vmm.h"

#define RAM_SIZE	(2UL << 20)

TEST(guest_writes_memory_and_halts)
{
	struct vmm_args args = { .eax = 0xa5, .ebx = 0x100000, .ecx = 3 * 4096 + 17 };
	struct vmm_vcpu *vcpu;
	struct vmm_vm vm;
	unsigned char *mem;
	size_t i;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");

	mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0x11, RAM_SIZE);

	vmm_create(&vm, mem, RAM_SIZE, 0);
	vmm_load_program(&vm, &guest_fill);
	vcpu = vmm_vcpu_add(&vm, &args);

	ASSERT_EQ(KVM_EXIT_HLT, vmm_vcpu_run(vcpu));

	for (i = 0; i < args.ecx; i++)
		ASSERT_EQ(0xa5, mem[args.ebx + i]) TH_LOG("byte %zx", i);
	/* The guest wrote exactly the range it was given. */
	ASSERT_EQ(0x11, mem[args.ebx - 1]);
	ASSERT_EQ(0x11, mem[args.ebx + args.ecx]);

	vmm_destroy(&vm);
	munmap(mem, RAM_SIZE);
}

TEST(nested_svm_is_enabled)
{
	char c = 0;
	int fd;

	fd = open("/sys/module/kvm_amd/parameters/nested", O_RDONLY);
	if (fd < 0)
		SKIP(return, "kvm_amd is not loaded");
	ASSERT_EQ(1, read(fd, &c, 1));
	close(fd);
	ASSERT_TRUE(c == '1' || c == 'Y');
}

KVMMIG_HARNESS_MAIN
