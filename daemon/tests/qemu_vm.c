// SPDX-License-Identifier: GPL-2.0
/*
 * Real QEMU processes for the tests (see qemu_vm.h).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "migd_run.h"
#include "qemu_vm.h"

const char *qemu_bin;

/*
 * The guest, 16-bit real mode at 0x7c00:
 *	cli; xor ax,ax; mov ds,ax
 * outer: mov bx,0x1000
 * inner: mov es,bx; inc dword [es:0]; add bx,0x100; cmp bx,0x9000
 *	jb inner; jmp outer
 * i.e. one counter a 4 KiB page from 0x10000 to 0x8f000.
 */
static const unsigned char boot_code[] = {
	0xfa, 0x31, 0xc0, 0x8e, 0xd8,
	0xbb, 0x00, 0x10,
	0x8e, 0xc3,
	0x66, 0x26, 0xff, 0x06, 0x00, 0x00,
	0x81, 0xc3, 0x00, 0x01,
	0x81, 0xfb, 0x00, 0x90,
	0x72, 0xee,
	0xeb, 0xe9,
};

int qemu_vm_init(void)
{
	char cmd[512];

	if (migd_run_init())
		return -1;
	qemu_bin = getenv("QEMU");
	if (!qemu_bin)
		qemu_bin = "qemu-system-x86_64";
	snprintf(cmd, sizeof(cmd), "%s --version >/dev/null 2>&1", qemu_bin);
	if (system(cmd)) {
		fprintf(stderr, "%s: cannot run %s (set QEMU; selftests/bed/provision.sh installs qemu-system-x86)\n",
			program_invocation_short_name, qemu_bin);
		return -1;
	}
	return 0;
}

static int write_disk(const char *path)
{
	unsigned char sector[512] = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ret = 0;

	if (fd < 0)
		return -errno;
	memcpy(sector, boot_code, sizeof(boot_code));
	sector[510] = 0x55;
	sector[511] = 0xaa;
	/* SeaBIOS will not read a disk of a few sectors. */
	if (write(fd, sector, sizeof(sector)) != sizeof(sector) || ftruncate(fd, 1 << 20))
		ret = -errno;
	close(fd);
	return ret;
}

int qemu_start(struct qemu_vm *vm, const char *dir, const char *name, bool incoming)
{
	char mem[256], qmp1[192], qmp2[192], drive[192];
	uint64_t end;

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->ram, sizeof(vm->ram), "/dev/shm/migd_qemu_%s_%s", strrchr(dir, '_') + 1,
		 name);
	snprintf(vm->sock, sizeof(vm->sock), "%s/%s.qmp", dir, name);
	snprintf(vm->tsock, sizeof(vm->tsock), "%s/%s.tqmp", dir, name);
	snprintf(vm->disk, sizeof(vm->disk), "%s/%s.disk", dir, name);
	snprintf(vm->log, sizeof(vm->log), "%s/%s.qemu.log", dir, name);
	if (write_disk(vm->disk))
		return -1;
	snprintf(mem, sizeof(mem), "memory-backend-file,id=ram0,size=%u,mem-path=%s,share=on",
		 QEMU_RAM_SIZE, vm->ram);
	snprintf(qmp1, sizeof(qmp1), "unix:%s,server=on,wait=off", vm->sock);
	snprintf(qmp2, sizeof(qmp2), "unix:%s,server=on,wait=off", vm->tsock);
	snprintf(drive, sizeof(drive), "file=%s,format=raw,if=none,id=d0", vm->disk);
	fflush(stdout);
	vm->pid = fork();
	if (!vm->pid) {
		int fd = open(vm->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		const char *argv[32] = {
			qemu_bin, "-machine", "q35,memory-backend=ram0", "-accel", "tcg",
			"-m", "64", "-nodefaults", "-display", "none", "-object", mem,
			"-drive", drive, "-device", "ide-hd,drive=d0,bus=ide.0",
			"-qmp", qmp1, "-qmp", qmp2,
			incoming ? "-incoming" : NULL, "defer", "-S", NULL,
		};

		dup2(fd, 1);
		dup2(fd, 2);
		execvp(qemu_bin, (char **)argv);
		_exit(127);
	}
	if (vm->pid < 0)
		return -1;
	/* The monitor answers once QEMU is up. */
	for (end = now_ms() + 10000; now_ms() < end; sleep_ms(20)) {
		if (qemu_exited(vm))
			return -1;
		if (!migd_qmp_open(&vm->qmp, vm->tsock, 5000, NULL)) {
			vm->connected = true;
			break;
		}
	}
	if (!vm->connected)
		return -1;
	return incoming || qemu_guest_runs(vm, 10000) ? 0 : -1;
}

bool qemu_exited(struct qemu_vm *vm)
{
	int status;

	if (vm->pid <= 0)
		return true;
	if (waitpid(vm->pid, &status, WNOHANG) == vm->pid) {
		vm->pid = 0;
		return true;
	}
	return false;
}

void qemu_stop(struct qemu_vm *vm, bool show)
{
	char *log;

	if (vm->connected)
		migd_qmp_close(&vm->qmp);
	vm->connected = false;
	if (vm->pid > 0) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, NULL, 0);
		vm->pid = 0;
	}
	if (show && vm->log[0]) {
		log = slurp(vm->log);
		if (*log)
			printf("# --- %s\n# | %s\n", vm->log, log);
		free(log);
	}
	if (vm->ram[0])
		unlink(vm->ram);
}

static const char *string_of(struct qemu_vm *vm, const char *cmd, const char *key,
			     char *buf, size_t len)
{
	json_t *ret;

	if (!vm->connected || migd_qmp_exec(&vm->qmp, cmd, NULL, &ret))
		return "gone";
	snprintf(buf, len, "%s", json_string_value(json_object_get(ret, key)) ?: "none");
	json_decref(ret);
	return buf;
}

const char *qemu_state(struct qemu_vm *vm)
{
	static char buf[64];

	return string_of(vm, "query-status", "status", buf, sizeof(buf));
}

const char *qemu_mig_status(struct qemu_vm *vm)
{
	static char buf[64];

	return string_of(vm, "query-migrate", "status", buf, sizeof(buf));
}

bool qemu_wait_mig(struct qemu_vm *vm, const char *status, int timeout_ms)
{
	for (uint64_t end = now_ms() + timeout_ms; now_ms() < end; sleep_ms(2))
		if (!strcmp(qemu_mig_status(vm), status))
			return true;
	return false;
}

static bool status_is(json_t *data, void *arg)
{
	const char *s = json_string_value(json_object_get(data, "status"));

	return s && !strcmp(s, arg);
}

bool qemu_wait_mig_event(struct qemu_vm *vm, const char *status, int timeout_ms)
{
	json_t *ev = NULL;
	int r;

	if (!vm->connected)
		return false;
	r = migd_qmp_wait_event(&vm->qmp, "MIGRATION", status_is, (void *)status,
				timeout_ms, &ev);
	json_decref(ev);
	return !r;
}

int qemu_cmd(struct qemu_vm *vm, const char *cmd, const char *fmt, ...)
{
	json_t *args = NULL;
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		args = json_vpack_ex(NULL, 0, fmt, ap);
		va_end(ap);
	}
	return migd_qmp_exec(&vm->qmp, cmd, args, NULL);
}

uint32_t qemu_counter(const struct qemu_vm *vm, unsigned int i)
{
	uint32_t v = 0;
	int fd = open(vm->ram, O_RDONLY);

	if (fd >= 0) {
		if (pread(fd, &v, sizeof(v), QEMU_GUEST_FIRST + i * 4096ul) != sizeof(v))
			v = 0;
		close(fd);
	}
	return v;
}

bool qemu_guest_runs(const struct qemu_vm *vm, int timeout_ms)
{
	uint32_t first = qemu_counter(vm, QEMU_GUEST_PAGES - 1);

	for (uint64_t end = now_ms() + timeout_ms; now_ms() < end; sleep_ms(10))
		if (qemu_counter(vm, QEMU_GUEST_PAGES - 1) != first)
			return true;
	return false;
}
