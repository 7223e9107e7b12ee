// SPDX-License-Identifier: GPL-2.0
/*
 * The reference VMM: see vmm.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"

/* Kicks a vCPU thread out of KVM_RUN; its handler does nothing. */
#define VMM_KICK_SIGNAL		SIGUSR2
#define MSR_IA32_TSC		0x10

void vmm_die(const char *fmt, ...)
{
	va_list ap;

	fputs("# vmm: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	abort();
}

const char *vmm_exit_name(int reason)
{
	switch (reason) {
	case KVM_EXIT_IO:		return "IO";
	case KVM_EXIT_HLT:		return "HLT";
	case KVM_EXIT_MMIO:		return "MMIO";
	case KVM_EXIT_SHUTDOWN:		return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY:	return "FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR:	return "INTERNAL_ERROR";
	case KVM_EXIT_INTR:		return "INTR";
	default:			return "other";
	}
}

int __vmm_create(struct vmm_vm *vm, void *mem, size_t mem_size,
		 uint32_t slot_flags)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = slot_flags,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = (uintptr_t)mem,
	};
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->mem = mem;
	vm->mem_size = mem_size;
	vm->slot_flags = slot_flags;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return -errno;
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		ret = ret < 0 ? -errno : -EPROTO;
		goto err_close_kvm;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		goto err_close_kvm;
	}
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		ret = -errno;
		goto err_close_vm;
	}
	return 0;

err_close_vm:
	close(vm->vm_fd);
err_close_kvm:
	close(vm->kvm_fd);
	return ret;
}

void vmm_create(struct vmm_vm *vm, void *mem, size_t mem_size,
		uint32_t slot_flags)
{
	int ret = __vmm_create(vm, mem, mem_size, slot_flags);

	if (ret)
		vmm_die("creating a VM with %zu bytes of RAM: %s",
			mem_size, strerror(-ret));
}

void vmm_destroy(struct vmm_vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		vmm_vcpu_stop(&vm->vcpus[i]);
		munmap(vm->vcpus[i].run, vm->vcpus[i].run_size);
		close(vm->vcpus[i].fd);
	}
	close(vm->vm_fd);
	close(vm->kvm_fd);
	vm->nr_vcpus = 0;
}

void vmm_load_program(struct vmm_vm *vm, const struct vmm_program *prog)
{
	size_t len = prog->end - prog->start;

	if (len > VMM_CODE_MAX || VMM_CODE_GPA + VMM_CODE_MAX > vm->mem_size)
		vmm_die("program %s (%zu bytes) does not fit", prog->name, len);
	memcpy((char *)vm->mem + VMM_CODE_GPA, prog->start, len);
}

/* Flat 4 GiB segments: the guest addresses RAM by GPA. */
static void flat_segment(struct kvm_segment *seg, uint16_t selector,
			 uint8_t type)
{
	memset(seg, 0, sizeof(*seg));
	seg->base = 0;
	seg->limit = 0xffffffff;
	seg->selector = selector;
	seg->type = type;
	seg->present = 1;
	seg->s = 1;
	seg->db = 1;
	seg->g = 1;
}

static int vcpu_set_flat_mode(struct vmm_vcpu *vcpu, const struct vmm_args *args)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	flat_segment(&sregs.cs, 0x08, 0xb);	/* code, execute/read, accessed */
	flat_segment(&sregs.ds, 0x10, 0x3);	/* data, read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr.type = 0xb;			/* busy 32-bit TSS */
	sregs.tr.present = 1;
	sregs.tr.limit = 0x67;
	sregs.cr0 = 0x11;			/* PE | ET, no paging */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs))
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = VMM_CODE_GPA;
	regs.rsp = VMM_CODE_GPA;		/* stack grows below the code */
	regs.rax = args->eax;
	regs.rbx = args->ebx;
	regs.rcx = args->ecx;
	regs.rdx = args->edx;
	regs.rsi = args->esi;
	regs.rdi = args->edi;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

int __vmm_vcpu_add(struct vmm_vm *vm, const struct vmm_args *args,
		   struct vmm_vcpu **out)
{
	struct vmm_vcpu *vcpu;
	int mmap_size, ret;

	if (vm->nr_vcpus == VMM_MAX_VCPUS)
		return -ENOSPC;
	vcpu = &vm->vcpus[vm->nr_vcpus];
	vcpu->vm = vm;
	vcpu->id = vm->nr_vcpus;

	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < 0)
		return -errno;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, vcpu->id);
	if (vcpu->fd < 0)
		return -errno;
	vcpu->run_size = mmap_size;
	vcpu->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	ret = vcpu_set_flat_mode(vcpu, args);
	if (ret)
		goto err_unmap;

	vm->nr_vcpus++;
	*out = vcpu;
	return 0;

err_unmap:
	munmap(vcpu->run, mmap_size);
err_close:
	close(vcpu->fd);
	return ret;
}

struct vmm_vcpu *vmm_vcpu_add(struct vmm_vm *vm, const struct vmm_args *args)
{
	struct vmm_vcpu *vcpu;
	int ret = __vmm_vcpu_add(vm, args, &vcpu);

	if (ret)
		vmm_die("adding vCPU %d: %s", vm->nr_vcpus, strerror(-ret));
	return vcpu;
}

int __vmm_vcpu_reset(struct vmm_vcpu *vcpu, const struct vmm_args *args)
{
	return vcpu_set_flat_mode(vcpu, args);
}

void vmm_vcpu_reset(struct vmm_vcpu *vcpu, const struct vmm_args *args)
{
	int ret = __vmm_vcpu_reset(vcpu, args);

	if (ret)
		vmm_die("resetting vCPU %d: %s", vcpu->id, strerror(-ret));
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *vcpu = arg;
	int reason;

	for (;;) {
		reason = vmm_vcpu_run(vcpu);
		if (reason == KVM_EXIT_IO &&
		    vcpu->run->io.port == VMM_PORT_DONE) {
			__atomic_add_fetch(&vcpu->passes, 1, __ATOMIC_SEQ_CST);
			if (!__atomic_load_n(&vcpu->stop, __ATOMIC_SEQ_CST))
				continue;
		}
		break;
	}
	vcpu->last_exit = reason;
	return NULL;
}

void vmm_vcpu_start(struct vmm_vcpu *vcpu)
{
	int ret;

	vcpu->stop = false;
	vcpu->passes = 0;
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret)
		vmm_die("starting vCPU %d: %s", vcpu->id, strerror(ret));
	vcpu->started = true;
}

int vmm_vcpu_stop(struct vmm_vcpu *vcpu)
{
	if (!vcpu->started)
		return -1;
	if (vcpu->kickable)
		return vmm_vcpu_pause(vcpu);
	__atomic_store_n(&vcpu->stop, true, __ATOMIC_SEQ_CST);
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
	return vcpu->last_exit;
}

void vmm_vcpu_wait_passes(struct vmm_vcpu *vcpu, unsigned long n)
{
	unsigned long target = __atomic_load_n(&vcpu->passes,
					       __ATOMIC_SEQ_CST) + n;
	int i;

	for (i = 0; i < 60000; i++) {
		if (__atomic_load_n(&vcpu->passes, __ATOMIC_SEQ_CST) >= target)
			return;
		usleep(1000);
	}
	vmm_die("vCPU %d made no progress (%lu passes)", vcpu->id,
		vcpu->passes);
}

int __vmm_vcpu_run(struct vmm_vcpu *vcpu)
{
	if (ioctl(vcpu->fd, KVM_RUN, 0))
		return -errno;
	return vcpu->run->exit_reason;
}

/*
 * One KVM_RUN: the exit reason, or -EINTR when the caller is to run the
 * vCPU again (a signal, or an EFAULT the vCPU retries).  Dies on any other
 * error.
 */
static int vcpu_run_once(struct vmm_vcpu *vcpu)
{
	int reason = __vmm_vcpu_run(vcpu);

	if (reason == -EINTR || reason == KVM_EXIT_INTR)
		return -EINTR;
	if (reason == -EFAULT && vcpu->retry_efault) {
		vcpu->efaults++;
		usleep(100);
		return -EINTR;
	}
	if (reason < 0)
		vmm_die("KVM_RUN on vCPU %d: %s", vcpu->id, strerror(-reason));
	return reason;
}

int vmm_vcpu_run(struct vmm_vcpu *vcpu)
{
	int reason;

	do {
		reason = vcpu_run_once(vcpu);
	} while (reason == -EINTR);
	if (reason == KVM_EXIT_IO || reason == KVM_EXIT_HLT)
		return reason;
	vmm_die("vCPU %d: unexpected exit %d (%s)", vcpu->id, reason,
		vmm_exit_name(reason));
}

static void kick_handler(int sig)
{
	(void)sig;
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void kick_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VMM_KICK_SIGNAL, &sa, NULL))
		vmm_die("installing the vCPU kick handler: %s", strerror(errno));
}

static void *vcpu_thread_kickable(void *arg)
{
	struct vmm_vcpu *vcpu = arg;
	sigset_t set;
	int reason;

	sigemptyset(&set);
	sigaddset(&set, VMM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (;;) {
		if (__atomic_load_n(&vcpu->stop, __ATOMIC_SEQ_CST)) {
			reason = -EINTR;
			break;
		}
		reason = vcpu_run_once(vcpu);
		if (reason == -EINTR)
			continue;
		if (reason == KVM_EXIT_IO &&
		    vcpu->run->io.port == VMM_PORT_DONE) {
			__atomic_add_fetch(&vcpu->passes, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (reason == KVM_EXIT_HLT)
			break;
		vmm_die("vCPU %d: unexpected exit %d (%s)", vcpu->id, reason,
			vmm_exit_name(reason));
	}
	vcpu->last_exit = reason;
	return NULL;
}

void vmm_vcpu_resume(struct vmm_vcpu *vcpu)
{
	int ret;

	pthread_once(&kick_once, kick_install);
	vcpu->stop = false;
	vcpu->kickable = true;
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread_kickable, vcpu);
	if (ret)
		vmm_die("starting vCPU %d: %s", vcpu->id, strerror(ret));
	vcpu->started = true;
}

int vmm_vcpu_pause(struct vmm_vcpu *vcpu)
{
	if (!vcpu->started)
		return -1;
	__atomic_store_n(&vcpu->stop, true, __ATOMIC_SEQ_CST);
	/*
	 * A kick that lands between the thread's check of ->stop and its
	 * next KVM_RUN is not lost: immediate_exit makes that KVM_RUN
	 * return EINTR at once.
	 */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VMM_KICK_SIGNAL);
	pthread_join(vcpu->thread, NULL);
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	vcpu->started = false;
	vcpu->kickable = false;
	return vcpu->last_exit;
}

struct vmm_msr_tsc {
	struct kvm_msrs hdr;
	struct kvm_msr_entry entry;
};

__thread const char *vmm_state_step;

/* One state ioctl; on failure remember which, for the caller's message. */
#define STATE_IOCTL(fd, req, arg)					\
	({								\
		int __r = ioctl(fd, req, arg);				\
		if (__r < 0)						\
			vmm_state_step = #req;				\
		__r < 0 ? -errno : 0;					\
	})

int __vmm_vcpu_save(struct vmm_vcpu *vcpu, struct vmm_vcpu_state *state)
{
	struct vmm_msr_tsc msrs;
	int ret;

	memset(state, 0, sizeof(*state));
	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 1;
	msrs.entry.index = MSR_IA32_TSC;
	ret = STATE_IOCTL(vcpu->fd, KVM_GET_REGS, &state->regs);
	ret = ret ?: STATE_IOCTL(vcpu->fd, KVM_GET_SREGS, &state->sregs);
	ret = ret ?: STATE_IOCTL(vcpu->fd, KVM_GET_FPU, &state->fpu);
	ret = ret ?: STATE_IOCTL(vcpu->fd, KVM_GET_VCPU_EVENTS, &state->events);
	ret = ret ?: STATE_IOCTL(vcpu->fd, KVM_GET_MP_STATE, &state->mp_state);
	if (ret)
		return ret;
	vmm_state_step = "KVM_GET_MSRS";
	errno = 0;
	if (ioctl(vcpu->fd, KVM_GET_MSRS, &msrs) != 1)
		return errno ? -errno : -EIO;
	state->tsc = msrs.entry.data;
	return 0;
}

int __vmm_vcpu_load(struct vmm_vcpu *vcpu, const struct vmm_vcpu_state *state)
{
	struct kvm_vcpu_events events = state->events;
	struct kvm_mp_state mp_state = state->mp_state;
	struct kvm_sregs sregs = state->sregs;
	struct kvm_regs regs = state->regs;
	struct kvm_fpu fpu = state->fpu;
	struct vmm_msr_tsc msrs;
	int ret;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 1;
	msrs.entry.index = MSR_IA32_TSC;
	msrs.entry.data = state->tsc;
	/* The order QEMU uses: registers, then MSRs, then pending events. */
	ret = STATE_IOCTL(vcpu->fd, KVM_SET_SREGS, &sregs);
	ret = ret ?: STATE_IOCTL(vcpu->fd, KVM_SET_REGS, &regs);
	ret = ret ?: STATE_IOCTL(vcpu->fd, KVM_SET_FPU, &fpu);
	if (ret)
		return ret;
	vmm_state_step = "KVM_SET_MSRS";
	errno = 0;
	if (ioctl(vcpu->fd, KVM_SET_MSRS, &msrs) != 1)
		return errno ? -errno : -EIO;
	ret = STATE_IOCTL(vcpu->fd, KVM_SET_MP_STATE, &mp_state);
	return ret ?: STATE_IOCTL(vcpu->fd, KVM_SET_VCPU_EVENTS, &events);
}

long __vmm_vcpu_tsc_khz(struct vmm_vcpu *vcpu)
{
	long khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

	return khz < 0 ? -errno : khz;
}
