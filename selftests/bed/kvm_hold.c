// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_hold: keep two KVM VMs alive for the whole test run, in the test VM
 * only: one with a vCPU without in-kernel LAPIC, one with an in-kernel
 * irqchip and a vCPU that never runs, so its LAPIC stays software-disabled.
 *
 * Creating the first VM and destroying the last flips static keys
 * (preempt_notifier_key, kvm_has_noapic_vcpu), and so does every QEMU vCPU
 * between its creation and its guest enabling the LAPIC (apic_sw_disabled);
 * the kernel patches the branch sites with text_poke_bp().  QEMU's multi-threaded TCG does not
 * always see that cross-modifying code in time on the other vCPU, which
 * then traps on the transient int3 ("Oops: int3" in __schedule, seen in
 * the bench, and in apic_has_pending_timer() when QEMU guests came and
 * went).  Holding one VM keeps the keys on, so tests never patch
 * kernel text.  Writes /run/kvm_hold.ready once the VM exists.
 */

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* A VM with one vCPU, with an in-kernel irqchip if @irqchip. */
static int hold_vm(int kvm, int irqchip)
{
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);

	if (vm < 0)
		return -1;
	if (irqchip && ioctl(vm, KVM_CREATE_IRQCHIP, 0))
		return -1;
	return ioctl(vm, KVM_CREATE_VCPU, 0);
}

int main(void)
{
	int kvm, ready;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm_hold: /dev/kvm");
		return 1;
	}
	if (hold_vm(kvm, 0) < 0 || hold_vm(kvm, 1) < 0) {
		perror("kvm_hold: creating the VMs");
		return 1;
	}
	ready = open("/run/kvm_hold.ready", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (ready >= 0)
		close(ready);
	for (;;)
		pause();
}
