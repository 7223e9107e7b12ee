/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small reference VMM for the selftests: one VM, guest RAM at GPA 0 in a
 * single memslot, vCPUs in 32-bit flat protected mode (no paging), so guest
 * code can reach any byte of RAM through a plain pointer.
 *
 * Helpers come in two layers: __vmm_foo() returns 0 or -errno, vmm_foo()
 * fails the running test (prints why, then aborts) when __vmm_foo() fails.
 */
#ifndef _KVMMIG_SELFTEST_VMM_H
#define _KVMMIG_SELFTEST_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#define VMM_MAX_VCPUS		4
#define VMM_PAGE_SIZE		4096UL
#define VMM_CODE_GPA		0x1000UL	/* guest programs run from here */
#define VMM_CODE_MAX		0x1000UL

/* I/O ports the guest programs use to talk to the VMM. */
#define VMM_PORT_DONE		0x10	/* a program finished a pass */

struct vmm_vm;

/* The guest program's arguments, loaded into its registers. */
struct vmm_args {
	uint32_t eax, ebx, ecx, edx, esi, edi;
};

struct vmm_vcpu {
	struct vmm_vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;

	/* Set by vmm_vcpu_start(), for a vCPU running on its own thread. */
	pthread_t thread;
	bool started;
	volatile bool stop;		/* asks the thread to return */
	volatile unsigned long passes;	/* VMM_PORT_DONE exits seen */
	volatile int last_exit;		/* why the thread returned */
	bool kickable;			/* started by vmm_vcpu_resume() */
	/*
	 * Retry KVM_RUN on EFAULT (guest RAM mapped read-only or not at all
	 * for a moment, as a test's chaos thread does) instead of dying.
	 */
	bool retry_efault;
	volatile unsigned long efaults;	/* retried */
};

struct vmm_vm {
	int kvm_fd;
	int vm_fd;
	void *mem;		/* the host's mapping of guest RAM (GPA 0) */
	size_t mem_size;
	uint32_t slot_flags;
	int nr_vcpus;
	struct vmm_vcpu vcpus[VMM_MAX_VCPUS];
};

/* A guest program: position-independent 32-bit code. */
struct vmm_program {
	const char *name;
	const uint8_t *start;
	const uint8_t *end;
};

/*
 * Create a VM whose RAM is @mem (mapped by the caller, @mem_size bytes),
 * installed as memslot 0 at GPA 0 with KVM_MEM_* @slot_flags.
 */
int __vmm_create(struct vmm_vm *vm, void *mem, size_t mem_size,
		 uint32_t slot_flags);
void vmm_create(struct vmm_vm *vm, void *mem, size_t mem_size,
		uint32_t slot_flags);
void vmm_destroy(struct vmm_vm *vm);

/* Copy @prog to VMM_CODE_GPA. */
void vmm_load_program(struct vmm_vm *vm, const struct vmm_program *prog);

/* Add a vCPU that starts at VMM_CODE_GPA with @args in its registers. */
int __vmm_vcpu_add(struct vmm_vm *vm, const struct vmm_args *args,
		   struct vmm_vcpu **out);
struct vmm_vcpu *vmm_vcpu_add(struct vmm_vm *vm, const struct vmm_args *args);

/* One KVM_RUN; returns the exit reason or -errno. */
int __vmm_vcpu_run(struct vmm_vcpu *vcpu);
/* Run until an exit other than a benign one; fail on anything unexpected. */
int vmm_vcpu_run(struct vmm_vcpu *vcpu);

/* Restart a halted vCPU at VMM_CODE_GPA with new @args. */
int __vmm_vcpu_reset(struct vmm_vcpu *vcpu, const struct vmm_args *args);
void vmm_vcpu_reset(struct vmm_vcpu *vcpu, const struct vmm_args *args);

/*
 * Run @vcpu on a thread of its own until the guest halts or
 * vmm_vcpu_stop() is called; each VMM_PORT_DONE exit counts a pass and is a
 * point where the thread notices a stop request.
 */
void vmm_vcpu_start(struct vmm_vcpu *vcpu);
/* Stop and join the thread; returns the last exit reason. */
int vmm_vcpu_stop(struct vmm_vcpu *vcpu);
/* Wait until the vCPU has made @n more passes (fails after 60 s). */
void vmm_vcpu_wait_passes(struct vmm_vcpu *vcpu, unsigned long n);

/*
 * Run @vcpu on a thread of its own until vmm_vcpu_pause(), which kicks it
 * out of KVM_RUN at once (a signal and kvm_run.immediate_exit) instead of
 * waiting for a VMM_PORT_DONE exit: for guests that loop forever without
 * exits, and for pausing a VM to migrate it.  VMM_PORT_DONE exits still
 * count passes; HLT ends the thread.
 */
void vmm_vcpu_resume(struct vmm_vcpu *vcpu);
/* Kick and join the thread; returns the last exit reason (-EINTR if kicked). */
int vmm_vcpu_pause(struct vmm_vcpu *vcpu);

/*
 * The architectural state of a stopped vCPU: everything a guest that does
 * no I/O and has no in-kernel irqchip needs to resume exactly elsewhere.
 */
struct vmm_vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	uint64_t tsc;			/* MSR_IA32_TSC */
};

/*
 * Save or load a vCPU's state; the vCPU must not be running.  0 or -errno;
 * on failure vmm_state_step names the ioctl that failed.
 */
extern __thread const char *vmm_state_step;
int __vmm_vcpu_save(struct vmm_vcpu *vcpu, struct vmm_vcpu_state *state);
int __vmm_vcpu_load(struct vmm_vcpu *vcpu, const struct vmm_vcpu_state *state);

/* KVM_GET_TSC_KHZ of a vCPU: the guest's TSC rate, or -errno. */
long __vmm_vcpu_tsc_khz(struct vmm_vcpu *vcpu);

/* Fail the running test with a message (the harness sees a crash). */
void __attribute__((noreturn, format(printf, 1, 2))) vmm_die(const char *fmt, ...);

const char *vmm_exit_name(int reason);

/* Guest programs, see guest_code.c. */
extern const struct vmm_program guest_fill;
extern const struct vmm_program guest_write_list;
extern const struct vmm_program guest_read_list;
extern const struct vmm_program guest_dirty_loop;
extern const struct vmm_program guest_write_stride;

#endif /* _KVMMIG_SELFTEST_VMM_H */
