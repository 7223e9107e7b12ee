/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real QEMU processes ($QEMU, else qemu-system-x86_64) for the QEMU
 * migration tests: TCG, 64 MiB of RAM in a shared memory-backend-file on
 * /dev/shm, a boot disk whose boot sector keeps incrementing a 32-bit
 * counter at the start of each of QEMU_GUEST_PAGES pages from
 * QEMU_GUEST_FIRST on (interrupts off, so nothing else writes).  Each VM
 * has two monitors: one for migd, one for the test.
 */
#ifndef MIGD_TESTS_QEMU_VM_H
#define MIGD_TESTS_QEMU_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "qmp/qmp.h"

#define QEMU_RAM_SIZE		(64u << 20)
#define QEMU_GUEST_FIRST	0x10000u	/* guest-physical = file offset */
#define QEMU_GUEST_PAGES	128u

extern const char *qemu_bin;

/* migd_run_init(), and $QEMU must run: else -1 (a missing QEMU fails). */
int qemu_vm_init(void);

struct qemu_vm {
	pid_t pid;
	char ram[96];		/* the mem-path, on /dev/shm */
	char sock[128];		/* migd's monitor */
	char tsock[128];	/* the test's */
	char disk[128], log[128];
	struct migd_qmp qmp;
	bool connected;
};

/*
 * Starts QEMU @name with its files in @dir; @incoming: -incoming defer -S
 * (a destination).  A source's guest is running its loop on return.
 */
int qemu_start(struct qemu_vm *vm, const char *dir, const char *name, bool incoming);
/* Kills QEMU if it runs, removes its RAM file; dumps its log if @show. */
void qemu_stop(struct qemu_vm *vm, bool show);
/* Whether the process has exited (it is reaped then). */
bool qemu_exited(struct qemu_vm *vm);

/* query-status on the test's monitor: "running", ... or "gone". */
const char *qemu_state(struct qemu_vm *vm);
/* query-migrate's status, or "gone". */
const char *qemu_mig_status(struct qemu_vm *vm);
/* Waits up to @timeout_ms for migration status @status. */
bool qemu_wait_mig(struct qemu_vm *vm, const char *status, int timeout_ms);
/*
 * Waits up to @timeout_ms for a MIGRATION event with @status on the test's
 * monitor (migd turns the events capability on): returns as QEMU sends
 * it, without the delay of polling.
 */
bool qemu_wait_mig_event(struct qemu_vm *vm, const char *status, int timeout_ms);
/* Runs a command on the test's monitor; 0 or -errno. */
int qemu_cmd(struct qemu_vm *vm, const char *cmd, const char *fmt, ...);

/* The guest's counter in page @i of @vm's RAM file. */
uint32_t qemu_counter(const struct qemu_vm *vm, unsigned int i);
/* Waits until the guest's counters in @vm's RAM move (it runs). */
bool qemu_guest_runs(const struct qemu_vm *vm, int timeout_ms);

#endif /* MIGD_TESTS_QEMU_VM_H */
