// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_hold: keep one KVM VM with one vCPU (no in-kernel LAPIC) alive for
 * the whole test run, in the test VM only.
 *
 * Creating the first VM and destroying the last flips static keys
 * (preempt_notifier_key, kvm_has_noapic_vcpu), and the kernel patches the
 * branch sites with text_poke_bp().  QEMU's multi-threaded TCG does not
 * always see that cross-modifying code in time on the other vCPU, which
 * then traps on the transient int3 ("Oops: int3" in __schedule, seen in
 * the bench).  Holding one VM keeps the keys on, so tests never patch
 * kernel text.  Writes /run/kvm_hold.ready once the VM exists.
 */

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	int kvm, vm, vcpu, ready;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm_hold: /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	vcpu = vm < 0 ? -1 : ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		perror("kvm_hold: creating the VM");
		return 1;
	}
	ready = open("/run/kvm_hold.ready", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (ready >= 0)
		close(ready);
	for (;;)
		pause();
}
