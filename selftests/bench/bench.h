/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dirty-logging benchmark: every method that can tell a VMM which guest
 * pages were written, measured on the same workload in one run.
 */
#ifndef _KVMMIG_BENCH_H
#define _KVMMIG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm.h"

#define BENCH_PORT_PASS		0x10
#define BENCH_DATA_GPA		(1UL << 20)	/* dirtied pages start here */
#define BENCH_STALL_GPA		0x3000UL	/* bench_stall's result */
#define BENCH_STALL_WRITES	24		/* its write count, u32 */

struct bench_ctx;

/*
 * A dirty-logging method.  Guest methods track a KVM guest's writes to its
 * memslot; host methods track a host thread's writes to its own memory.
 */
struct bench_method {
	const char *name;
	bool guest;		/* the writer is a KVM guest */
	bool peer;		/* not kvmmig: a method kvmmig is compared with */
	uint32_t slot_flags;	/* KVM_MEM_* for the memslot */
	/* Optional: provide the memory (default: anonymous). */
	void *(*map)(struct bench_ctx *ctx, size_t size);
	/* Optional: before vCPUs exist (enable capabilities). */
	int (*vm_setup)(struct bench_ctx *ctx);
	/* Start tracking with every page clean; optional. */
	int (*arm)(struct bench_ctx *ctx);
	/* Report and re-arm every dirty page; count them in *dirty. */
	int (*harvest)(struct bench_ctx *ctx, uint64_t *dirty);
	/* Optional: called while the guest runs, on a full dirty ring. */
	int (*ring_full)(struct bench_ctx *ctx);
	void (*teardown)(struct bench_ctx *ctx);
	long param;		/* method-specific (batch size, ...) */
};

struct bench_ctx {
	const struct bench_method *m;
	struct vmm_vm vm;
	struct vmm_vcpu *vcpu;
	void *mem;
	size_t size;
	size_t npages;
	uint64_t *bitmap;	/* scratch, npages bits */
	void *priv;		/* the method's state */
	uint64_t ring_harvest_ns;	/* harvest time spent on full rings */
};

extern const struct vmm_program bench_dirty_pass;
extern const struct vmm_program bench_stall;

extern const struct bench_method bench_kvm_methods[];
extern const int bench_nr_kvm_methods;
extern const struct bench_method bench_host_methods[];
extern const int bench_nr_host_methods;
extern const struct bench_method bench_kvmmig_methods[];
extern const int bench_nr_kvmmig_methods;

uint64_t bench_now_ns(void);

#endif /* _KVMMIG_BENCH_H */
