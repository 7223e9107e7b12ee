# SPDX-License-Identifier: GPL-2.0
#
# make              build kmod/kvmmig.ko (against KDIR), daemon/migd, selftests
# make demo         provision, boot two test hosts and migrate a guest live
#                   between them (DEMO_MEM, DEMO_RATE, DEMO_MIGD_ARGS)
# make check        provision, then run every test in QEMU on the supported kernels
# make check-debug  build a debug kernel (KASAN, lockdep, kmemleak, ...) and run
#                   the VM tests on it (slow: not part of make check or CI)
# make bench        dirty-logging benchmark in the test VM (table + JSON)
# make vm-shell     boot the test VM with a shell on this terminal
# make lint         checkpatch, SPDX and version checks only
# make fuzz         fuzz the stream reader (FUZZ_SECONDS, default in daemon/)
# make clean        leave the tree as cloned (the download cache stays)

KDIR ?= /lib/modules/$(shell uname -r)/build
CACHE ?= $(CURDIR)/.cache
KERNELS ?= 6.12 6.1
export CACHE

.PHONY: all module daemon selftests demo check check-debug check-qemu bench vm-shell lint fuzz clean distclean

all: module daemon selftests

module:
	@test -d "$(KDIR)" || { echo "KDIR=$(KDIR) does not exist: install the kernel headers or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

daemon:
	$(MAKE) -C daemon

selftests:
	$(MAKE) -C selftests

demo:
	KERNELS="$(firstword $(KERNELS))" bash selftests/bed/demo.sh

check:
	KERNELS="$(KERNELS)" bash selftests/bed/check.sh

check-debug:
	bash selftests/bed/check.sh --debug

check-qemu:
	QEMU_TESTS=1 HOST_CHECKS=0 TESTS="$$($(MAKE) -s --no-print-directory -C selftests print-qemu-progs | tr '\n' ' ')" \
		bash selftests/bed/check.sh

bench:
	bash selftests/bed/bench.sh

vm-shell:
	KERNELS="$(firstword $(KERNELS))" bash selftests/bed/check.sh --shell

lint:
	bash selftests/bed/lint.sh

fuzz:
	bash selftests/bed/provision.sh
	$(MAKE) -C daemon fuzz

clean:
	$(MAKE) -C daemon clean
	$(MAKE) -C selftests clean
	find kmod \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.order' -o -name '.*.d' \) -delete
	rm -f Module.symvers modules.order .modules.order.cmd .Module.symvers.cmd
	rm -rf .tmp_versions

# Also drop the download cache (kernels, kselftest headers).
distclean: clean
	rm -rf $(CACHE)
